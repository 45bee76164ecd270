#include "krdc/exec/proxy/remote_step.h"

#include <fmt/format.h>

namespace krdc::exec::proxy {

using nlohmann::json;

std::unique_ptr<kube::KubeExecutor> make_remote_executor(krdc::kube::ClusterAccess access, bool stream_logs,
                                                         std::function<void(std::string_view)> log,
                                                         http::ClientOptions http) {
  krdc::kube::ApiClientOptions api_options;
  api_options.http = std::move(http);
  // The same patience as with the local cluster: ride out an API server restart (5-20 s), then
  // fail the step clearly (bounded: ~40 s of retries per call).
  api_options.http.max_retries = 6;
  api_options.http.backoff_max = std::chrono::milliseconds(8000);
  auto api = std::make_shared<krdc::kube::ApiClient>(std::move(access), api_options);
  kube::KubeExecutorOptions options;
  options.follow = stream_logs;
  options.log = std::move(log);
  // A remote outage is bounded tighter than a local one: the step fails and can be resumed.
  options.watch_outage_limit_ms = 60'000;
  return std::make_unique<kube::KubeExecutor>(std::move(api), std::move(options));
}

StepResult run_remote_step(kube::KubeExecutor& remote, const StepRequest& request, StepObserver& observer,
                           const CancelToken& cancel) {
  StepResult result = remote.run(request, observer, cancel);
  json details = std::move(result.details);
  details["cluster"] = remote.api().cluster().name;
  details.erase("pod");
  result.details = {{"remote", details}};
  return result;
}

std::string encode_report(const ProxyReport& r) {
  json report = {{"status", r.status}, {"exitCode", r.exit_code}, {"reason", r.reason}, {"remote", r.remote}};
  if (r.error != ErrorKind::kNone) report["error"] = to_string(r.error);
  return json{{"krdcProxy", report}}.dump();
}

std::optional<ProxyReport> decode_report(const std::string& message) {
  const json j = json::parse(message, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("krdcProxy") || !j["krdcProxy"].is_object()) return std::nullopt;
  const json& r = j["krdcProxy"];
  ProxyReport report;
  try {
    report.status = r.value("status", "failed");
    report.exit_code = r.value("exitCode", -1);
    report.reason = r.value("reason", "");
    report.error = error_kind_named(r.value("error", ""));
  } catch (const json::exception&) {
    return std::nullopt;  // not written by a krdc proxy
  }
  if (r.contains("remote") && r["remote"].is_object()) report.remote = r["remote"];
  return report;
}

}  // namespace krdc::exec::proxy
