#pragma once
// One attempt's Job, from create to cleanup: the I/O around decide() (job_decision.h). The
// kube executor runs every Job through it — the app's, or a proxy Job (docs/architecture.md,
// "Executors") — so create/adopt, logs, outputs and cleanup exist once.
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "krdc/exec/executor.h"
#include "krdc/exec/kube/job_decision.h"
#include "krdc/exec/kube/log_follower.h"
#include "krdc/exec/kube/run_watch.h"
#include "krdc/kube/api_client.h"
#include "krdc/util/worker_pool.h"

namespace krdc::exec::kube {

struct KubeExecutorOptions;

// What a JobRun uses of its executor.
struct JobRunContext {
  krdc::kube::ApiClient& api;
  RunWatch& watch;
  WorkerPool& log_threads;
  const KubeExecutorOptions& options;
  std::function<void(const std::string& job, bool live)> track;  // the executor's set of live Jobs
};

// The Pods of Job `job` in the api's namespace (label batch.kubernetes.io/job-name): the items.
nlohmann::json job_pods(krdc::kube::ApiClient& api, const std::string& job);

class JobRun {
 public:
  JobRun(JobRunContext ctx, const StepRequest& request, const nlohmann::json& manifest, StepObserver& observer,
         const CancelToken& cancel);
  ~JobRun();
  JobRun(const JobRun&) = delete;
  JobRun& operator=(const JobRun&) = delete;

  StepResult run();  // throws AuthError (credential refused), UnreachableError (watch outage), ApiError

 private:
  void create();
  bool adopt();  // false: the recorded Job is gone (or is not ours any more)
  bool ours(const nlohmann::json& job) const;  // this run's and attempt's, in this role
  void submitted(const nlohmann::json& job, bool adopted);
  std::string stop();  // deletes the Job and its Pods; waits (bounded); returns what may be left
  void follow_logs(const StepState& s, const std::optional<PodView>& pod);
  void finish_logs(long long ms);
  bool list_pods();    // false: the Job's Pod is gone
  StepResult conclude(const Decision& d);

  JobRunContext ctx_;
  const StepRequest& req_;
  const nlohmann::json& manifest_;
  StepObserver& observer_;
  const CancelToken& cancel_;
  std::string name_;
  std::string job_path_;
  std::string pods_path_;
  std::string uid_;
  long long pod_grace_s_ = 5;
  std::shared_ptr<StepWaiter> waiter_;
  std::unique_ptr<LogFollower> logs_;
  bool told_running_ = false;
  SteadyClock::time_point live_log_at_ = SteadyClock::time_point::max();
  std::string last_waiting_;
  StepResult result_;
};

}  // namespace krdc::exec::kube
