#pragma once
// The proxy executor (docs/architecture.md, "Remote steps"): a step on a cluster other than
// the local one. The user's right to run there was checked at the hub before the run started
// (token exchange to the cluster's audience, auth/authorize.h); the exchanged token is the only
// credential that ever reaches the remote side.
//
// Cluster mode (a local cluster is configured): for each attempt, a Secret with the exchanged
// token (credential_secret.h) and a proxy Job (proxy_job.h) in the local cluster, run through
// the local kube executor's run_job() like any step Job. Inside it `krdc proxy` runs the real Job
// on the remote cluster (remote_step.h) and mirrors its logs, outputs and exit code back, so
// `kubectl get jobs` on the local cluster shows every step of the workflow.
//
// In-process mode (no local cluster, e.g. a laptop): the same remote loop runs in krdc itself.
#include <map>
#include <memory>
#include <string>

#include "krdc/auth/exchanged_token_source.h"
#include "krdc/exec/executor.h"
#include "krdc/exec/kube/kube_executor.h"
#include "krdc/exec/proxy/proxy_job.h"
#include "krdc/http/client.h"

namespace krdc::exec::proxy {

struct RemoteCluster {
  krdc::kube::ClusterAccess access;  // server, CA, namespace; tokens: the exchanged token source
};

struct ProxyExecutorOptions {
  ProxyJobOptions job;                        // cluster mode: the proxy Job's image, account, grace
  bool follow = false;                        // in-process mode: --follow
  std::function<void(std::string_view)> log;  // -v diagnostics
  std::function<void(std::string_view)> warn;  // what the user should see (stderr)
  http::ClientOptions http;                    // remote clusters' clients (e.g. abort on Ctrl-C)
};

class ProxyExecutor : public Executor {
 public:
  // `local`: the local cluster's kube executor (cluster mode), or null (in-process mode).
  ProxyExecutor(std::shared_ptr<kube::KubeExecutor> local, std::map<std::string, RemoteCluster> remotes,
                ProxyExecutorOptions options);
  ~ProxyExecutor() override;

  std::string name() const override { return "proxy"; }
  StepResult run(const StepRequest& request, StepObserver& observer, const CancelToken& cancel) override;
  nlohmann::json describe(const StepRequest& request) const override;
  // The local cluster's RBAC for the proxy Jobs (cluster mode), and each remote cluster's RBAC
  // for the real Jobs, asked with the exchanged token: refused before anything is created.
  void preflight(const std::vector<const workflow::Step*>& steps) override;
  std::vector<std::string> emergency_stop() override;

 private:
  StepResult run_proxy_job(const StepRequest& request, StepObserver& observer, const CancelToken& cancel);
  kube::KubeExecutor& remote(const std::string& cluster) const;
  // Adds details.remote (and the report's reason and exit code on failure); returns the
  // proxy's progress times (krdc/remote-times), {} when it could not tell.
  nlohmann::json add_remote_details(StepResult& result, const std::string& cluster) const;
  void require_service_account() const;
  void refresh_proxy_volume(const std::string& job) const;  // InvalidInput when the proxy Pods' account is missing

  std::shared_ptr<kube::KubeExecutor> local_;
  std::map<std::string, RemoteCluster> remotes_;
  ProxyExecutorOptions options_;
  // One kube executor per remote cluster: runs the steps in-process mode, and asks each remote
  // cluster's RBAC in preflight. Never contacts a server until used.
  std::map<std::string, std::unique_ptr<kube::KubeExecutor>> remote_executors_;
};

}  // namespace krdc::exec::proxy
