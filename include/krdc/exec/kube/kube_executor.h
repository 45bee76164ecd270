#pragma once
// The kube executor (docs/architecture.md, "Kubernetes"): a step attempt becomes a batch/v1 Job on the local cluster
// (or any cluster reached directly, e.g. `pull: shared`). Waiting is watch-driven through one
// shared RunWatch per run; logs stream into the step's log file; outputs are the Pod's
// termination message; cancel and deadline delete the Job and its Pods before returning.
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "krdc/exec/executor.h"
#include "krdc/exec/kube/job_manifest.h"
#include "krdc/exec/kube/run_watch.h"
#include "krdc/kube/api_client.h"
#include "krdc/util/worker_pool.h"

namespace krdc::exec::kube {

struct KubeExecutorOptions {
  bool follow = false;                            // --follow: logs to the observer as they come
  std::vector<std::string> image_pull_secrets;    // config imagePullSecrets
  long long ttl_seconds_after_finished = 86400;
  // How long the watches may be cut off (API server down) before waiting steps give up.
  long long watch_outage_limit_ms = 180'000;
  // After deleting on cancel/timeout: how long (beyond the kill grace) to wait for the Pods to go.
  long long cleanup_wait_ms = 15'000;
  // A container still running this long after it started gets its log streamed live into the
  // log file (so `tail -f` works on long steps); one that ends sooner costs a single GET of its
  // whole log, with no stream held open while it runs. --follow always streams.
  long long live_log_after_ms = 2'000;
  std::function<void(std::string_view)> log;      // -v diagnostics
};

// One permission a step needs on a cluster, as a SelfSubjectAccessReview asks it.
struct AccessNeed {
  const char* verb;
  const char* group;
  const char* resource;
  const char* subresource;
};

class KubeExecutor : public Executor {
 public:
  // `api` may have no credentials for a dry run: describe() never contacts the server.
  KubeExecutor(std::shared_ptr<krdc::kube::ApiClient> api, KubeExecutorOptions options);
  ~KubeExecutor() override;

  std::string name() const override { return "kube"; }
  // Renders the app's Job (render_job) and runs it with run_job().
  StepResult run(const StepRequest& request, StepObserver& observer, const CancelToken& cancel) override;
  // Runs the Job `manifest`, rendered for `request` by the caller, to its end: create (adopting
  // our own Job after a retried POST), watch, logs into the step's log file, outputs from the
  // termination message, and on cancel/deadline delete and wait until its Pods are gone. The
  // proxy executor runs its proxy Job through this, so watch, log and cleanup code exist once
  // (docs/architecture.md, "Executors"). Pods are deleted with the manifest's grace period.
  StepResult run_job(const StepRequest& request, const nlohmann::json& manifest, StepObserver& observer,
                     const CancelToken& cancel);
  krdc::kube::ApiClient& api() { return *api_; }
  nlohmann::json describe(const StepRequest& request) const override;
  std::vector<std::string> emergency_stop() override;
  // SelfSubjectAccessReviews on the local cluster: create/watch/delete Jobs, watch Pods, read
  // their logs, in the namespace. The hub may put the cluster's audience in every token; only
  // the cluster's own RBAC knows whether this user may run Jobs there.
  void preflight(const std::vector<const workflow::Step*>& steps) override;
  // What preflight asks: create/watch/delete Jobs, watch Pods, read their logs.
  static const std::vector<AccessNeed>& job_needs();
  // Asks the cluster for each need in the namespace; throws AuthError naming the steps and
  // every refused need.
  void require_access(const std::vector<const workflow::Step*>& steps, const std::vector<AccessNeed>& needs);

  // The shared watch of a run (null before its first step); for tests and benchmarks.
  RunWatch* watch_for(const std::string& run_id);

 private:
  JobOptions job_options(const StepRequest& request) const;
  RunWatch& watch(const std::string& run_id);

  std::shared_ptr<krdc::kube::ApiClient> api_;
  KubeExecutorOptions options_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<RunWatch>> watches_;  // run id → its watches
  std::set<std::string> live_jobs_;                            // created, not yet finished or deleted
  // Log followers' threads, reused across steps. Bounded only as a backstop: each running
  // step has at most one follower. Last member: joined before what followers use goes.
  WorkerPool log_threads_{1024};
};

}  // namespace krdc::exec::kube
