#include "krdc/exec/kube/job_run.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <set>

#include "krdc/exec/kube/job_manifest.h"
#include "krdc/exec/kube/kube_executor.h"
#include "krdc/exec/outputs.h"
#include "krdc/util/errors.h"

namespace krdc::exec::kube {

namespace {

using nlohmann::json;

int ms_until(SteadyClock::time_point t) {
  if (t == SteadyClock::time_point::max()) return -1;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(t - SteadyClock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1 << 30));
}

// Sleeps until the waiter changes, the run is cancelled, or `until`; never a fixed-period poll.
void wait_for_change(const StepWaiter& waiter, const CancelToken& cancel, SteadyClock::time_point until) {
  pollfd fds[2] = {{waiter.fd(), POLLIN, 0}, {cancel.fd(), POLLIN, 0}};
  const int ms = ms_until(until);
  int rc;
  do {
    rc = ::poll(fds, 2, ms);
  } while (rc < 0 && errno == EINTR);
}

}  // namespace

json job_pods(krdc::kube::ApiClient& api, const std::string& job) {
  const json list = api.get(fmt::format("/api/v1/namespaces/{}/pods?labelSelector={}", api.cluster().ns,
                                        krdc::kube::query_escape("batch.kubernetes.io/job-name=" + job)));
  return list.value("items", json::array());
}

JobRun::JobRun(JobRunContext ctx, const StepRequest& request, const json& manifest, StepObserver& observer,
               const CancelToken& cancel)
    : ctx_(std::move(ctx)), req_(request), manifest_(manifest), observer_(observer), cancel_(cancel) {
  const auto& cluster = ctx_.api.cluster();
  name_ = manifest_["metadata"]["name"];
  job_path_ = fmt::format("/apis/batch/v1/namespaces/{}/jobs/{}", cluster.ns, name_);
  pods_path_ = fmt::format("/api/v1/namespaces/{}/pods", cluster.ns);
  // Pods are deleted with the grace their Job gives them: a proxy needs longer than an app to
  // clean up after itself (it deletes the remote Job first).
  pod_grace_s_ = manifest_["spec"]["template"]["spec"].value("terminationGracePeriodSeconds", 5LL);
  waiter_ = ctx_.watch.subscribe(name_);  // before the create: no event about the Job can be missed
}

JobRun::~JobRun() {
  logs_.reset();  // joined before what it writes to goes
  ctx_.watch.unsubscribe(name_);
}

bool JobRun::ours(const json& job) const {
  const auto ann = job["metadata"].value("annotations", json::object());
  // Same role too: a remote Job shares its proxy Job's name and annotations, and a remote
  // cluster misconfigured as the local one must not make a proxy adopt itself.
  const auto role = [](const json& object) {
    return object["metadata"].value("labels", json::object()).value("krdc/role", "");
  };
  return ann.value("krdc/run-id", "") == req_.run_id && ann.value("krdc/attempt", "") == std::to_string(req_.attempt) &&
         role(job) == role(manifest_);
}

void JobRun::submitted(const json& job, bool adopted) {
  const auto& cluster = ctx_.api.cluster();
  uid_ = job["metadata"].value("uid", "");
  ctx_.track(name_, true);
  result_.details = {{"job", name_}, {"uid", uid_}, {"namespace", cluster.ns}, {"cluster", cluster.name}};
  if (adopted) result_.details["adopted"] = true;
  observer_.on_submitted(req_, result_.details);
}

bool JobRun::adopt() {
  // Reattach (docs/architecture.md, "Reattach"): the Job an earlier krdc created for this very
  // (run, attempt), if it is still there and still the one recorded: never one made since
  // under the same name by someone else.
  json job;
  try {
    job = ctx_.api.get(job_path_);
  } catch (const krdc::kube::ApiError& e) {
    if (e.status() == 404) return false;
    throw;
  }
  const std::string recorded_uid = req_.submitted.value("uid", "");
  if (!ours(job) || (!recorded_uid.empty() && job["metadata"].value("uid", "") != recorded_uid)) return false;
  submitted(job, true);
  return true;
}

void JobRun::create() {
  // The log exists even if the Pod never runs (O_CLOEXEC: apps may be spawned meanwhile).
  if (const int fd = ::open(req_.log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600); fd >= 0) ::close(fd);
  const auto& cluster = ctx_.api.cluster();
  json created;
  try {
    created = ctx_.api.create(fmt::format("/apis/batch/v1/namespaces/{}/jobs", cluster.ns), manifest_,
                              krdc::kube::FieldMask{"metadata.uid"});
  } catch (const krdc::kube::ApiError& e) {
    if (e.status() != 409) throw;
    // Our fixed name exists: a retried POST whose first try did reach the server. Adopt it if
    // it is ours (same run and attempt), never someone else's.
    created = ctx_.api.get(job_path_);
    if (!ours(created)) throw;
  }
  submitted(created, false);
}

std::string JobRun::stop() {
  std::string problem;
  try {
    // Only the Job this attempt created or adopted: never one someone else made under the name.
    ctx_.api.remove(job_path_, std::nullopt, uid_);
  } catch (const std::exception& e) {
    problem = e.what();
  }
  std::set<std::string> asked;
  const auto limit =
      SteadyClock::now() + std::chrono::milliseconds(pod_grace_s_ * 1000 + ctx_.options.cleanup_wait_ms);
  while (SteadyClock::now() < limit) {
    waiter_->drain();
    const StepState s = waiter_->snapshot();
    for (const auto& [pod, view] : s.pods) {
      if (!asked.insert(pod).second) continue;
      try {
        ctx_.api.remove(pods_path_ + "/" + pod, pod_grace_s_);
      } catch (const std::exception& e) {
        problem = e.what();
      }
    }
    if (s.pods.empty() && (s.job_deleted || !s.job)) {
      ctx_.track(name_, false);
      return problem;
    }
    pollfd fd{waiter_->fd(), POLLIN, 0};
    ::poll(&fd, 1, std::max(1, ms_until(limit)));
  }
  return problem.empty() ? "its Pods were still terminating when krdc stopped waiting" : problem;
}

void JobRun::follow_logs(const StepState& s, const std::optional<PodView>& pod) {
  if (!pod || !(pod->running || pod->terminated) || logs_ || pod->name.empty() || !s.pods.count(pod->name)) return;
  if (!told_running_) {
    observer_.on_running(req_);
    told_running_ = true;
    live_log_at_ = SteadyClock::now() + std::chrono::milliseconds(ctx_.options.live_log_after_ms);
  }
  // A container that ends soon costs one GET of its whole log; a long one is streamed live.
  if (!ctx_.options.follow && !pod->terminated && SteadyClock::now() < live_log_at_) return;
  LogFollower::Sink sink;
  if (ctx_.options.follow) sink = [this](std::string_view chunk) { observer_.on_log(req_, chunk); };
  logs_ = std::make_unique<LogFollower>(ctx_.api, ctx_.log_threads, ctx_.api.cluster().ns, pod->name, kContainerName,
                                        req_.log_file.string(), sink, /*follow=*/!pod->terminated);
}

void JobRun::finish_logs(long long ms) {
  if (!logs_) return;
  logs_->finish(ms);
  logs_.reset();
}

bool JobRun::list_pods() {
  const json items = job_pods(ctx_.api, name_);
  for (const auto& item : items) {
    PodView view = view_pod(item, kContainerName);
    waiter_->update([&](StepState& st) { st.pods[view.name] = view; });
  }
  return !items.empty();
}

StepResult JobRun::run() {
  if (!req_.adopt) {
    create();
  } else if (!adopt()) {
    result_.status = StepStatus::kLost;
    result_.reason = fmt::format("Job {} of the interrupted run is gone from namespace {}: its outcome is unknown",
                                 name_, ctx_.api.cluster().ns);
    return result_;
  }
  if (req_.detach) {
    ctx_.track(name_, false);  // left running on purpose: not for a second Ctrl-C to list
    result_.status = StepStatus::kDetached;
    result_.reason = fmt::format("Job {} left running in namespace {}", name_, ctx_.api.cluster().ns);
    return result_;
  }
  WaitMemory memory;
  const auto& cluster = ctx_.api.cluster();
  for (;;) {
    waiter_->drain();
    const StepState s = waiter_->snapshot();
    const Decision d = decide(s, memory, {SteadyClock::now(), cancel_.cancelled(), req_.deadline,
                                          ctx_.options.watch_outage_limit_ms, name_, cluster.name,
                                          req_.step.timeout_ms});
    memory = d.memory;
    if (d.action == Action::kListPods) {
      if (list_pods()) continue;
      ctx_.track(name_, false);
      result_.status = StepStatus::kFailed;
      result_.reason = fmt::format("Job {} completed but its Pod is gone: no outputs to read", name_);
      return result_;
    }
    // The log is fetched for any Pod that ran, before a verdict on it; not when krdc itself
    // stops the step (cancel, deadline, lost watch): only a follower already going carries on.
    const bool stopping_early = d.action == Action::kStopCancelled || d.action == Action::kFatal ||
                                d.action == Action::kUnreachable ||
                                (d.action == Action::kStopTimedOut && !(d.pod && d.pod->terminated));
    if (!stopping_early) follow_logs(s, d.pod);
    if (d.action != Action::kWait) return conclude(d);
    if (d.pod && !d.pod->waiting_reason.empty() && d.pod->waiting_reason != last_waiting_ && ctx_.options.log) {
      ctx_.options.log(fmt::format("job {}: waiting: {} {}", name_, d.pod->waiting_reason, d.pod->waiting_message));
      last_waiting_ = d.pod->waiting_reason;
    }
    SteadyClock::time_point until = d.wake_at;
    if (!logs_ && live_log_at_ > SteadyClock::now()) until = std::min(until, live_log_at_);
    wait_for_change(*waiter_, cancel_, until);
  }
}

StepResult JobRun::conclude(const Decision& d) {
  if (d.pod && d.pod->terminated) {
    result_.details["pod"] = d.pod->name;
    result_.termination_message = d.pod->message;
  }
  result_.exit_code = d.exit_code;
  result_.reason = d.reason;
  const bool must_delete = d.action == Action::kStopCancelled || d.action == Action::kStopTimedOut ||
                           d.action == Action::kStopFailed || d.action == Action::kFatal;
  // The Job's own deadline already ended its Pod: collect the last words before deleting.
  if (d.action == Action::kStopTimedOut && d.pod && d.pod->terminated) finish_logs(d.log_grace_ms);
  if (must_delete) {
    // Delete first, and let the log follower catch the app's last words while the Pod
    // terminates (SIGTERM, then its grace period).
    const std::string left = stop();
    if (!left.empty() && d.action != Action::kFatal) result_.reason += fmt::format(" (may be left: {})", left);
  }
  finish_logs(d.log_grace_ms);
  // Deleted Jobs are untracked by stop(); behind a lost watch the Job may still exist, so it
  // stays listed for a second Ctrl-C (emergency_stop).
  if (!must_delete && d.action != Action::kUnreachable) ctx_.track(name_, false);
  switch (d.action) {
    case Action::kSucceeded: {
      std::string error;
      if (auto outputs = parse_outputs(d.pod->message, error)) {
        result_.status = StepStatus::kSucceeded;
        result_.outputs = std::move(*outputs);
      } else {
        result_.status = StepStatus::kFailed;
        result_.reason = d.pod->message.size() >= kTerminationMessageLimit
                             ? fmt::format("outputs exceed the {}-byte limit of a termination message (the cluster "
                                           "cut them off): write large results to storage and output their path",
                                           kTerminationMessageLimit)
                             : "termination message: " + error;
      }
      return result_;
    }
    case Action::kStopCancelled: result_.status = StepStatus::kCancelled; return result_;
    case Action::kStopTimedOut: result_.status = StepStatus::kTimedOut; return result_;
    case Action::kFatal: throw AuthError(d.reason);
    case Action::kUnreachable:
      throw UnreachableError(d.reason, fmt::format("Job {} in namespace {} may still exist", name_, ctx_.api.cluster().ns));
    default: result_.status = StepStatus::kFailed; return result_;
  }
}

}  // namespace krdc::exec::kube
