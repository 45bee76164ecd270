#include "krdc/exec/proxy/proxy_executor.h"

#include <fmt/format.h>

#include "krdc/exec/kube/job_run.h"
#include "krdc/exec/proxy/credential_secret.h"
#include "krdc/exec/proxy/remote_step.h"
#include "krdc/util/clock.h"
#include "krdc/util/errors.h"

namespace krdc::exec::proxy {

using nlohmann::json;

namespace {

// Passes progress on, after making the proxy Job the owner of its credential Secret (so the
// garbage collector removes the Secret with the Job should krdc die before deleting it).
class ProxyJobObserver : public StepObserver {
 public:
  ProxyJobObserver(StepObserver& inner, CredentialSecret& secret, std::string remote_cluster,
                   const std::function<void(std::string_view)>& log)
      : inner_(inner), secret_(secret), remote_cluster_(std::move(remote_cluster)), log_(log) {}
  void on_submitted(const StepRequest& req, const json& details) override {
    submitted_ms = util::epoch_ms();
    try {
      secret_.own_by(details.value("job", ""), details.value("uid", ""));
    } catch (const std::exception& e) {
      if (log_) log_(fmt::format("secret {}: no owner set ({}); krdc deletes it when the step ends", secret_.name(), e.what()));
    }
    json d = details;
    d["remote"] = {{"cluster", remote_cluster_}};
    inner_.on_submitted(req, d);
  }
  void on_running(const StepRequest& req) override { inner_.on_running(req); }
  void on_log(const StepRequest& req, std::string_view chunk) override { inner_.on_log(req, chunk); }

  long long submitted_ms = 0;  // when the proxy Job existed (epoch ms)

 private:
  StepObserver& inner_;
  CredentialSecret& secret_;
  std::string remote_cluster_;
  const std::function<void(std::string_view)>& log_;
};

}  // namespace

ProxyExecutor::ProxyExecutor(std::shared_ptr<kube::KubeExecutor> local, std::map<std::string, RemoteCluster> remotes,
                             ProxyExecutorOptions options)
    : local_(std::move(local)), remotes_(std::move(remotes)), options_(std::move(options)) {
  for (const auto& [name, remote] : remotes_) {
    remote_executors_[name] = make_remote_executor(remote.access, options_.follow, options_.log, options_.http);
  }
}

ProxyExecutor::~ProxyExecutor() = default;

kube::KubeExecutor& ProxyExecutor::remote(const std::string& cluster) const {
  auto it = remote_executors_.find(cluster);
  if (it == remote_executors_.end()) {
    throw InvalidInput(fmt::format("cluster \"{}\" is not configured for remote steps", cluster),
                       fmt::format("set spec.clusters.{0}.server in the workflow or clusters.{0}.server in your krdc config",
                                   cluster));
  }
  return *it->second;
}

StepResult ProxyExecutor::run(const StepRequest& req, StepObserver& observer, const CancelToken& cancel) {
  if (auto refused = missing_image(req.step)) return *refused;
  if (local_) return run_proxy_job(req, observer, cancel);
  StepResult result = run_remote_step(remote(req.step.cluster), req, observer, cancel);
  result.details["cluster"] = req.step.cluster;
  result.details["mode"] = "in-process";
  return result;
}

StepResult ProxyExecutor::run_proxy_job(const StepRequest& req, StepObserver& observer, const CancelToken& cancel) {
  const std::string& cluster = req.step.cluster;
  remote(cluster);  // configured, or a clear error
  const RemoteCluster& target = remotes_.at(cluster);
  auto tokens = std::dynamic_pointer_cast<auth::ExchangedTokenSource>(target.access.tokens);
  if (!tokens) {
    throw AuthError(fmt::format("step \"{}\": no token exchanged at the hub for cluster \"{}\"", req.step.name, cluster),
                    "a proxy Job carries only a token exchanged for the remote cluster's audience: log in at the hub");
  }
  const std::string ns = local_->api().cluster().ns;
  const std::string job = kube::job_name(req.run_id, req.step.name, req.attempt);
  CredentialSecret secret(
      local_->api(), tokens,
      [&](const std::string& token) { return render_credential_secret(req, ns, target.access, token); },
      [this, &job] { refresh_proxy_volume(job); }, options_.log);
  ProxyJobObserver forward(observer, secret, cluster, options_.log);
  const long long job_create_from = util::epoch_ms();
  StepResult result = local_->run_job(req, render_proxy_job(req, cluster, options_.job), forward, cancel);
  const long long ended = util::epoch_ms();
  const json t = add_remote_details(result, cluster);
  if (forward.submitted_ms) {
    // Where a remote step's time went, from the driver's and the proxy's clocks (bench/proxy).
    auto at = [&t](const char* k) { return t.contains(k) && t[k].is_number_integer() ? t[k].get<long long>() : 0LL; };
    if (at("started") && at("created") && at("finished")) {
      result.details["timings"] = {{"exchangeMs", secret.exchange_ms()},
                                   {"secretCreateMs", secret.create_ms()},
                                   {"proxyJobCreateMs", forward.submitted_ms - job_create_from},
                                   {"proxyStartMs", at("started") - forward.submitted_ms},
                                   {"remoteCreateMs", at("created") - at("started")},
                                   {"remoteRunMs", at("finished") - at("created")},
                                   {"statusBackMs", ended - at("finished")}};
    }
  }
  return result;
}

json ProxyExecutor::add_remote_details(StepResult& result, const std::string& cluster) const {
  // The remote Job is named like the proxy Job (exactly once); its uid only the proxy can tell.
  json remote_details = {{"cluster", cluster},
                         {"namespace", remotes_.at(cluster).access.ns},
                         {"job", result.details.value("job", "")}};
  json times = json::object();
  if (result.status == StepStatus::kSucceeded) {
    // The proxy mirrored the remote Job onto its Pod's annotations: one read.
    try {
      const json pod = local_->api().get(fmt::format("/api/v1/namespaces/{}/pods/{}", local_->api().cluster().ns,
                                                      result.details.value("pod", "")));
      const json ann = pod["metadata"].value("annotations", json::object());
      remote_details["job"] = ann.value(kRemoteJobAnnotation, remote_details["job"].get<std::string>());
      remote_details["uid"] = ann.value(kRemoteUidAnnotation, "");
      const json mirrored = json::parse(ann.value(kRemoteTimesAnnotation, "{}"), nullptr, false);
      if (mirrored.is_object()) times = mirrored;
    } catch (const std::exception& e) {
      if (options_.log) options_.log(fmt::format("proxy pod: remote Job not read back: {}", e.what()));
    }
  } else if (auto report = decode_report(result.termination_message)) {
    remote_details.update(report->remote);
    if (result.status == StepStatus::kFailed) {
      result.exit_code = report->exit_code;
      result.reason = fmt::format("on cluster {}: {}", cluster, report->reason);
      result.error = report->error;
    }
  } else if (result.status == StepStatus::kFailed) {
    // No report: the proxy itself could not start or died (image, account, node).
    result.reason = fmt::format("proxy Job for cluster {}: {}", cluster, result.reason);
  }
  result.details["remote"] = remote_details;
  return times;
}

json ProxyExecutor::describe(const StepRequest& req) const {
  if (!local_) return remote(req.step.cluster).describe(req);
  return {{"proxyJob", render_proxy_job(req, req.step.cluster, options_.job)},
          {"remoteJob", remote(req.step.cluster).describe(req)}};
}

void ProxyExecutor::preflight(const std::vector<const workflow::Step*>& steps) {
  std::map<std::string, std::vector<const workflow::Step*>> by_cluster;
  for (const auto* s : steps) by_cluster[s->cluster].push_back(s);
  if (local_) {
    // The proxy Jobs, and the credential Secrets beside them.
    std::vector<kube::AccessNeed> needs = kube::KubeExecutor::job_needs();
    needs.push_back({"create", "", "secrets", ""});
    needs.push_back({"patch", "", "secrets", ""});
    needs.push_back({"delete", "", "secrets", ""});
    local_->require_access(steps, needs);
    require_service_account();
  }
  for (const auto& [cluster, cluster_steps] : by_cluster) {
    try {
      remote(cluster).preflight(cluster_steps);
    } catch (const UnreachableError& e) {
      // A remote cluster that does not answer now must not stop the steps that do not need it:
      // its steps fail on their own (exit 4 if nothing else fails) and `--resume` runs them
      // later. A refusal (AuthError) still stops the run before anything is created.
      if (options_.warn) {
        options_.warn(fmt::format("cluster {} did not answer the access check ({}); its steps will try when they run",
                                  cluster, e.what()));
      }
    }
  }
}

void ProxyExecutor::refresh_proxy_volume(const std::string& job) const {
  // A kubelet shows a changed Secret to a running Pod only every sync period (a minute by
  // default), or at once when the Pod itself changes: touch an annotation (docs/architecture.md,
  // "Remote steps"). Best effort: the periodic sync still comes.
  try {
    for (const auto& pod : kube::job_pods(local_->api(), job)) {
      local_->api().merge_patch(
          fmt::format("/api/v1/namespaces/{}/pods/{}", local_->api().cluster().ns, pod["metadata"].value("name", "")),
          {{"metadata", {{"annotations", {{kCredentialsRenewedAnnotation, std::to_string(util::epoch_ms())}}}}}});
    }
  } catch (const std::exception& e) {
    if (options_.log) options_.log(fmt::format("proxy Job {}: pod not told of the renewed token: {}", job, e.what()));
  }
}

void ProxyExecutor::require_service_account() const {
  // Without it the Job controller cannot create the proxy Pod, and the step would only wait.
  const auto& ns = local_->api().cluster().ns;
  try {
    local_->api().get(fmt::format("/api/v1/namespaces/{}/serviceaccounts/{}", ns, options_.job.service_account));
  } catch (const krdc::kube::ApiError& e) {
    if (e.status() != 404) return;  // 403: this user may not look; the cluster will tell
    throw InvalidInput(fmt::format("the proxy service account \"{}\" does not exist in namespace {} on cluster {}",
                                   options_.job.service_account, ns, local_->api().cluster().name),
                       "ask the cluster's administrators to create it (with a Role to patch its own Pod), or set "
                       "proxyServiceAccount in your krdc config");
  }
}

std::vector<std::string> ProxyExecutor::emergency_stop() {
  std::vector<std::string> out;
  for (auto& [name, e] : remote_executors_) {
    for (auto& what : e->emergency_stop()) out.push_back(std::move(what));
  }
  return out;  // proxy Jobs are the local kube executor's to list
}

}  // namespace krdc::exec::proxy
