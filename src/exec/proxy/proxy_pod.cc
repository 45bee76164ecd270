#include "krdc/exec/proxy/proxy_pod.h"

#include <stdlib.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>

#include "krdc/exec/proxy/proxy_job.h"
#include "krdc/exec/proxy/remote_step.h"
#include "krdc/exec/step_spec.h"
#include "krdc/kube/in_cluster.h"
#include "krdc/util/clock.h"
#include "krdc/util/errors.h"

namespace krdc::exec::proxy {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string read_text(const fs::path& path, bool required) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!required) return {};
    throw InvalidInput(fmt::format("cannot read {}", path.string()), "is the credentials Secret mounted there?");
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

// The remote cluster, from the credentials directory. The token is not read here: the
// FileTokenSource reads the file before every request.
krdc::kube::ClusterAccess remote_access(const fs::path& dir) {
  krdc::kube::ClusterAccess access;
  access.server = read_text(dir / "server", true);
  access.ns = read_text(dir / "namespace", true);
  access.name = read_text(dir / "cluster", false);
  if (access.name.empty()) access.name = access.server;
  if (fs::exists(dir / "ca.crt")) access.ca_file = (dir / "ca.crt").string();
  access.tokens = std::make_shared<auth::FileTokenSource>((dir / "token").string());
  access.origin = "credentials " + dir.string();
  if (access.server.rfind("https://", 0) != 0) {
    throw InvalidInput(fmt::format("remote server {} is not https", access.server), "a token is only ever sent over TLS");
  }
  return access;
}

// The proxy's own Pod, annotated with the remote Job's progress (kubectl get pods -L
// krdc/remote-phase). Best effort: without an in-cluster identity, or when a patch fails, the
// step goes on; the first failure is said once on stderr.
class PodMirror {
 public:
  PodMirror(const config::Env& env, std::ostream& err) : err_(err) {
    auto access = krdc::kube::in_cluster_access(env);
    const auto pod = env("POD_NAME");
    if (!access || !pod || access->ns.empty()) return;
    path_ = fmt::format("/api/v1/namespaces/{}/pods/{}", access->ns, *pod);
    krdc::kube::ApiClientOptions options;
    options.http.max_retries = 2;
    api_ = std::make_unique<krdc::kube::ApiClient>(std::move(*access), options);
  }
  // The remote phase is mirrored as a label too, so `kubectl get pods -L krdc/remote-phase`
  // shows it (-L reads labels only).
  void annotate(json annotations) {
    json metadata = {{"annotations", annotations}};
    if (annotations.contains(kRemotePhaseAnnotation)) {
      metadata["labels"] = {{kRemotePhaseAnnotation, annotations[kRemotePhaseAnnotation]}};
    }
    std::lock_guard lock(mu_);
    if (!api_ || failed_) return;
    try {
      api_->merge_patch(path_, {{"metadata", metadata}});
    } catch (const std::exception& e) {
      failed_ = true;
      err_ << "krdc proxy: cannot annotate its own Pod (progress is not mirrored): " << e.what() << "\n";
    }
  }

 private:
  std::ostream& err_;
  std::mutex mu_;
  std::unique_ptr<krdc::kube::ApiClient> api_;
  std::string path_;
  bool failed_ = false;
};

class MirrorObserver : public StepObserver {
 public:
  MirrorObserver(PodMirror& mirror, std::ostream& out, std::string cluster)
      : mirror_(mirror), out_(out), cluster_(std::move(cluster)) {
    stamp("started");
  }
  void on_submitted(const StepRequest&, const json& details) override {
    stamp("created");
    mirror_.annotate({{kRemoteClusterAnnotation, cluster_},
                      {kRemoteJobAnnotation, details.value("job", "")},
                      {kRemoteUidAnnotation, details.value("uid", "")},
                      {kRemotePhaseAnnotation, "Pending"},
                      {kRemoteTimesAnnotation, times_text()}});
  }
  void on_running(const StepRequest&) override {
    stamp("running");
    mirror_.annotate({{kRemotePhaseAnnotation, "Running"}, {kRemoteTimesAnnotation, times_text()}});
  }
  void finished(StepStatus status) {
    stamp("finished");
    mirror_.annotate({{kRemotePhaseAnnotation, status == StepStatus::kSucceeded ? "Succeeded" : "Failed"},
                      {kRemoteTimesAnnotation, times_text()}});
  }
  void on_log(const StepRequest&, std::string_view chunk) override {
    std::lock_guard lock(mu_);
    out_.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    out_.flush();
  }

 private:
  // When the proxy started, created the remote Job, saw it run and saw it end (epoch ms): the
  // driver splits a remote step's latency with them (bench/proxy).
  void stamp(const char* what) {
    std::lock_guard lock(mu_);
    times_[what] = util::epoch_ms();
  }
  std::string times_text() {
    std::lock_guard lock(mu_);
    return times_.dump();
  }

  PodMirror& mirror_;
  std::ostream& out_;
  std::string cluster_;
  std::mutex mu_;
  json times_ = json::object();
};

class PrivateDir {
 public:
  explicit PrivateDir(const std::string& parent) {
    std::string tmpl = (fs::path(parent) / "krdc-proxy-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw InvalidInput(fmt::format("cannot create a directory in {}", parent));
    path_ = tmpl;
  }
  ~PrivateDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  PrivateDir(const PrivateDir&) = delete;
  PrivateDir& operator=(const PrivateDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

int exit_status(const StepResult& r) {
  switch (r.status) {
    case StepStatus::kSucceeded: return 0;
    case StepStatus::kTimedOut: return 124;
    case StepStatus::kCancelled: return 130;
    case StepStatus::kFailed:
    case StepStatus::kLost:
    case StepStatus::kDetached: break;
  }
  if (r.error != ErrorKind::kNone) return static_cast<int>(exit_code(r.error));
  return r.exit_code > 0 && r.exit_code < 256 ? r.exit_code : 1;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

}  // namespace

int run_proxy_pod(const ProxyPodOptions& options, const config::Env& env, std::ostream& out, std::ostream& err,
                  const CancelToken& cancel) {
  const json spec_json = json::parse(options.spec_text, nullptr, /*allow_exceptions=*/false);
  if (spec_json.is_discarded()) throw InvalidInput("step spec: not valid JSON");
  StepRequest req = parse_step_spec(spec_json);
  // A directory of this proxy's own: proxies may share a /tmp (the testbed's node runs Pods
  // as host processes), and the log copy is only needed while it runs.
  PrivateDir work(options.work_dir);
  req.step_dir = work.path();
  req.log_file = work.path() / fmt::format("attempt-{}.log", req.attempt);

  krdc::kube::ClusterAccess access = remote_access(options.credentials_dir);
  const std::string cluster = access.name;
  std::function<void(std::string_view)> log;
  if (options.verbose) log = [&err](std::string_view line) { err << "krdc proxy: " << line << "\n"; };
  auto remote = make_remote_executor(std::move(access), /*stream_logs=*/true, log);
  PodMirror mirror(env, err);
  MirrorObserver observer(mirror, out, cluster);

  StepResult result;
  try {
    result = run_remote_step(*remote, req, observer, cancel);
  } catch (const Error& e) {
    result.status = StepStatus::kFailed;
    result.reason = e.what();
    result.error = error_kind(e);
    result.details = {{"remote", {{"cluster", cluster}, {"job", kube::job_name(req.run_id, req.step.name, req.attempt)}}}};
  }
  if (result.status == StepStatus::kCancelled) {
    // Only SIGTERM cancels a proxy: its Pod is going (the run was cancelled, the Job deleted or
    // the Pod deleted by someone), and the remote Job went first.
    result.reason = "the proxy Pod was stopped before the remote step ended (" + result.reason + ")";
  }
  const std::string status = to_string(result.status);
  observer.finished(result.status);
  if (result.status == StepStatus::kSucceeded) {
    write_file(options.outputs_path, result.outputs.dump());  // the remote outputs, as they came
    return 0;
  }
  ProxyReport report;
  report.status = status;
  report.exit_code = result.exit_code;
  report.reason = result.reason;
  report.error = result.error;
  report.remote = result.details.value("remote", json::object());
  write_file(options.outputs_path, encode_report(report));
  err << fmt::format("krdc proxy: step {} {} on cluster {}: {}\n", req.step.name, status, cluster, result.reason);
  return exit_status(result);
}

}  // namespace krdc::exec::proxy
