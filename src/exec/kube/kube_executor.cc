#include "krdc/exec/kube/kube_executor.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <set>

#include "krdc/exec/kube/log_follower.h"
#include "krdc/exec/outputs.h"

namespace krdc::exec::kube {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

long long ms_until(Clock::time_point t) {
  if (t == Clock::time_point::max()) return -1;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
  return left < 0 ? 0 : left;
}

// Sleeps until the waiter changes, the run is cancelled, or `until`; never a fixed-period poll.
void wait_for_change(const StepWaiter& waiter, const CancelToken& cancel, Clock::time_point until) {
  pollfd fds[2] = {{waiter.fd(), POLLIN, 0}, {cancel.fd(), POLLIN, 0}};
  const long long ms = ms_until(until);
  int rc;
  do {
    rc = ::poll(fds, 2, ms < 0 ? -1 : static_cast<int>(std::min<long long>(ms, 1 << 30)));
  } while (rc < 0 && errno == EINTR);
}

// The pod standing for this attempt: the newest one (backoffLimit 0 makes it the only one).
std::optional<PodView> current_pod(const StepState& s) {
  const PodView* best = nullptr;
  for (const auto& [name, pod] : s.pods) {
    if (!best || pod.created > best->created) best = &pod;
  }
  if (best) return *best;
  // A pod already gone: its last state still tells how it ended.
  for (const auto& [name, pod] : s.deleted_pods) {
    if (pod.terminated) return pod;
  }
  return std::nullopt;
}

std::string duration_text(long long ms) {
  return ms >= 1000 && ms % 1000 == 0 ? fmt::format("{}s", ms / 1000) : fmt::format("{}ms", ms);
}

bool fatal_waiting_reason(const std::string& r) {
  return r == "InvalidImageName" || r == "CreateContainerConfigError" || r == "CreateContainerError" ||
         r == "ErrImageNeverPull";
}

}  // namespace

KubeExecutor::KubeExecutor(std::shared_ptr<krdc::kube::ApiClient> api, KubeExecutorOptions options)
    : api_(std::move(api)), options_(std::move(options)) {}

KubeExecutor::~KubeExecutor() = default;

std::string KubeExecutor::jobs_path() const {
  return fmt::format("/apis/batch/v1/namespaces/{}/jobs", api_->cluster().ns);
}

JobOptions KubeExecutor::job_options(const StepRequest& req) const {
  JobOptions o;
  o.ns = api_->cluster().ns;
  o.image_pull_secrets = options_.image_pull_secrets;
  o.ttl_seconds_after_finished = options_.ttl_seconds_after_finished;
  o.termination_grace_seconds = std::max<long long>(1, (req.kill_grace_ms + 999) / 1000);
  return o;
}

RunWatch& KubeExecutor::watch(const std::string& run_id) {
  std::lock_guard lock(mu_);
  auto& w = watches_[run_id];
  if (!w) w = std::make_unique<RunWatch>(*api_, api_->cluster().ns, label_value(run_id), options_.log);
  return *w;
}

RunWatch* KubeExecutor::watch_for(const std::string& run_id) {
  std::lock_guard lock(mu_);
  auto it = watches_.find(run_id);
  return it == watches_.end() ? nullptr : it->second.get();
}

nlohmann::json KubeExecutor::describe(const StepRequest& request) const {
  return render_job(request, job_options(request));
}

std::vector<std::string> KubeExecutor::emergency_stop() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& job : live_jobs_) {
    out.push_back(fmt::format("Job {} in namespace {} on cluster {} (kubectl -n {} delete job {})", job,
                              api_->cluster().ns, api_->cluster().name, api_->cluster().ns, job));
  }
  return out;
}

const std::vector<AccessNeed>& KubeExecutor::job_needs() {
  static const std::vector<AccessNeed> needs = {{"create", "batch", "jobs", ""}, {"watch", "batch", "jobs", ""},
                                                {"delete", "batch", "jobs", ""}, {"watch", "", "pods", ""},
                                                {"get", "", "pods", "log"}};
  return needs;
}

void KubeExecutor::preflight(const std::vector<const workflow::Step*>& steps) { require_access(steps, job_needs()); }

void KubeExecutor::require_access(const std::vector<const workflow::Step*>& steps, const std::vector<AccessNeed>& needs) {
  if (steps.empty()) return;
  const auto& cluster = api_->cluster();
  std::vector<std::string> refused;
  for (const AccessNeed& n : needs) {
    json attributes = {{"namespace", cluster.ns}, {"verb", n.verb}, {"group", n.group}, {"resource", n.resource}};
    if (*n.subresource) attributes["subresource"] = n.subresource;
    const json review = api_->create("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                                     {{"apiVersion", "authorization.k8s.io/v1"},
                                      {"kind", "SelfSubjectAccessReview"},
                                      {"spec", {{"resourceAttributes", attributes}}}});
    const json& status = review.contains("status") ? review["status"] : json::object();
    if (!status.value("allowed", false)) {
      refused.push_back(fmt::format("{} {}{}{}", n.verb, n.resource, *n.subresource ? "/" : "", n.subresource));
    }
  }
  if (refused.empty()) return;
  std::string names;
  for (size_t i = 0; i < steps.size() && i < 3; ++i) names += fmt::format("{}\"{}\"", i ? ", " : "", steps[i]->name);
  if (steps.size() > 3) names += fmt::format(" and {} more", steps.size() - 3);
  std::string what;
  for (size_t i = 0; i < refused.size(); ++i) what += (i ? ", " : "") + refused[i];
  throw AuthError(fmt::format("step{} {}: not allowed on cluster \"{}\" in namespace {}: the cluster refuses {}",
                              steps.size() > 1 ? "s" : "", names, cluster.name, cluster.ns, what),
                  fmt::format("ask the cluster's administrators to let you run Jobs in namespace {}, or set "
                              "clusters.{}.namespace to a namespace where you may",
                              cluster.ns, cluster.name));
}

StepResult KubeExecutor::run(const StepRequest& req, StepObserver& observer, const CancelToken& cancel) {
  const auto& step = *req.step;
  if (step.app.image.empty()) {
    StepResult result;
    result.reason = fmt::format("app \"{}\" has no image: a step on a cluster runs the app's image", step.app.name);
    return result;
  }
  return run_job(req, render_job(req, job_options(req)), observer, cancel);
}

StepResult KubeExecutor::run_job(const StepRequest& req, const json& manifest, StepObserver& observer,
                                 const CancelToken& cancel) {
  const auto& cluster = api_->cluster();
  const auto& step = *req.step;
  StepResult result;
  const std::string name = manifest["metadata"]["name"];
  // Pods are deleted with the grace their Job gives them: a proxy needs longer than an app to
  // clean up after itself (it deletes the remote Job first).
  const long long pod_grace_s = manifest["spec"]["template"]["spec"].value("terminationGracePeriodSeconds", 5LL);
  const std::string job_path = jobs_path() + "/" + name;
  const std::string pods_path = fmt::format("/api/v1/namespaces/{}/pods", cluster.ns);

  RunWatch& rw = watch(req.run_id);
  auto waiter = rw.subscribe(name);  // before the create: no event about the Job can be missed
  struct Unsubscribe {
    RunWatch& rw;
    const std::string& name;
    ~Unsubscribe() { rw.unsubscribe(name); }
  } unsubscribe{rw, name};
  // The log exists even if the Pod never runs (O_CLOEXEC: apps may be spawned meanwhile).
  if (const int fd = ::open(req.log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644); fd >= 0) ::close(fd);

  json created;
  try {
    created = api_->create(jobs_path(), manifest, krdc::kube::FieldMask{"metadata.uid"});
  } catch (const krdc::kube::ApiError& e) {
    if (e.status() != 409) throw;
    // Our fixed name exists: a retried POST whose first try did reach the server. Adopt it if
    // it is ours (same run and attempt), never someone else's.
    created = api_->get(job_path);
    const auto ann = created["metadata"].value("annotations", json::object());
    if (ann.value("krdc/run-id", "") != req.run_id || ann.value("krdc/attempt", "") != std::to_string(req.attempt)) {
      throw;
    }
  }
  {
    std::lock_guard lock(mu_);
    live_jobs_.insert(name);
  }
  result.details = {{"job", name},
                    {"uid", created["metadata"].value("uid", "")},
                    {"namespace", cluster.ns},
                    {"cluster", cluster.name}};
  observer.on_submitted(req, result.details);

  std::unique_ptr<LogFollower> logs;
  LogFollower::Sink sink;
  if (options_.follow) sink = [&observer, &req](std::string_view chunk) { observer.on_log(req, chunk); };
  bool told_running = false;
  Clock::time_point live_log_at = Clock::time_point::max();
  // While set, we wait (briefly) for the other watch to catch up before deciding.
  Clock::time_point settle_until = Clock::time_point::max();
  auto settling = [&] { return settle_until != Clock::time_point::max(); };
  std::optional<Clock::time_point> pull_error_since;
  std::string last_waiting;

  // Deletes the Job and its Pods and waits (bounded, watch-driven) until they are gone, so a
  // cancelled or timed-out run leaves nothing behind. Returns what could not be confirmed.
  auto stop_job = [&]() -> std::string {
    std::string problem;
    try {
      // Only the Job this attempt created or adopted: never one someone else made under the name.
      api_->remove(job_path, std::nullopt, created["metadata"].value("uid", ""));
    } catch (const std::exception& e) {
      problem = e.what();
    }
    std::set<std::string> asked;
    const auto limit = Clock::now() + std::chrono::milliseconds(pod_grace_s * 1000 + options_.cleanup_wait_ms);
    while (Clock::now() < limit) {
      waiter->drain();
      StepState s = waiter->snapshot();
      for (const auto& [pod, obj] : s.pods) {
        if (!asked.insert(pod).second) continue;
        try {
          api_->remove(pods_path + "/" + pod, pod_grace_s);
        } catch (const std::exception& e) {
          problem = e.what();
        }
      }
      if (s.pods.empty() && (s.job_deleted || !s.job)) {
        std::lock_guard lock(mu_);
        live_jobs_.erase(name);
        return problem;
      }
      pollfd fd{waiter->fd(), POLLIN, 0};
      ::poll(&fd, 1, static_cast<int>(std::max<long long>(1, ms_until(limit))));
    }
    return problem.empty() ? "its Pods were still terminating when krdc stopped waiting" : problem;
  };
  // The Job's activeDeadlineSeconds (the same limit, counted by the cluster) fired before our
  // own deadline did: same outcome, and the Job is deleted just the same.
  auto timed_out_by_cluster = [&] {
    const std::string left = stop_job();
    result.status = StepStatus::kTimedOut;
    result.reason = fmt::format("timed out after {} (Job activeDeadlineSeconds); Job {} deleted",
                                duration_text(step.timeout_ms), name);
    if (!left.empty()) result.reason += fmt::format(" (may be left: {})", left);
  };
  auto finish_logs = [&](long long ms) {
    if (logs) {
      logs->finish(ms);
      logs.reset();
    }
  };

  for (;;) {
    waiter->drain();
    const StepState s = waiter->snapshot();
    const auto pod = current_pod(s);
    const JobView job = s.job.value_or(JobView{});

    if (cancel.cancelled() || (req.deadline != Clock::time_point::max() && Clock::now() >= req.deadline)) {
      const bool timed_out = !cancel.cancelled();
      // Delete first, and let the log follower catch the app's last words while the Pod
      // terminates (SIGTERM, then its grace period).
      const std::string left = stop_job();
      finish_logs(1'000);
      result.status = timed_out ? StepStatus::kTimedOut : StepStatus::kCancelled;
      result.reason = timed_out ? fmt::format("timed out after {}; Job {} deleted", duration_text(step.timeout_ms), name)
                                : fmt::format("cancelled; Job {} deleted", name);
      if (!left.empty()) result.reason += fmt::format(" (may be left: {})", left);
      return result;
    }
    if (!s.fatal.empty()) {
      finish_logs(0);
      stop_job();
      throw AuthError(s.fatal);
    }
    // Give up only on an outage that is still going on: failures keep coming (each wakes us)
    // and the first one is older than the limit.
    if (!s.watch_error.empty() &&
        Clock::now() - s.unhealthy_since > std::chrono::milliseconds(options_.watch_outage_limit_ms) &&
        Clock::now() - s.last_failure < std::chrono::seconds(30)) {
      finish_logs(0);
      throw UnreachableError(fmt::format("lost the watch on cluster {} for more than {}: {}", cluster.name,
                                         duration_text(options_.watch_outage_limit_ms), s.watch_error),
                             fmt::format("Job {} in namespace {} may still exist", name, cluster.ns));
    }

    if (pod && (pod->running || pod->terminated) && !logs && !pod->name.empty() && s.pods.count(pod->name)) {
      if (!told_running) {
        observer.on_running(req);
        told_running = true;
        live_log_at = Clock::now() + std::chrono::milliseconds(options_.live_log_after_ms);
      }
      if (options_.follow || pod->terminated || Clock::now() >= live_log_at) {
        logs = std::make_unique<LogFollower>(*api_, log_threads_, cluster.ns, pod->name, kContainerName,
                                             req.log_file.string(),
                                             sink, /*follow=*/!pod->terminated);
      }
    }

    // Decide, from the most specific fact to the least.
    if (pod && pod->terminated) {
      result.details["pod"] = pod->name;
      result.termination_message = pod->message;
      const bool ok = pod->exit_code == 0 && pod->phase != "Failed";
      if (ok) {
        finish_logs(10'000);
        {
          std::lock_guard lock(mu_);
          live_jobs_.erase(name);
        }
        result.exit_code = 0;
        std::string error;
        if (auto outputs = parse_outputs(pod->message, error)) {
          result.status = StepStatus::kSucceeded;
          result.outputs = std::move(*outputs);
        } else {
          result.status = StepStatus::kFailed;
          result.reason = pod->message.size() >= kTerminationMessageLimit
                              ? fmt::format("outputs exceed the {}-byte limit of a termination message (the cluster cut "
                                            "them off): write large results to storage and output their path",
                                            kTerminationMessageLimit)
                              : "termination message: " + error;
        }
        return result;
      }
      // A failure while the Pod was being deleted may be the Job's deadline: let the Job say.
      const bool maybe_deadline = pod->deleting && !job.failed;
      if (maybe_deadline && !settling()) settle_until = Clock::now() + std::chrono::seconds(3);
      if (!maybe_deadline || Clock::now() >= settle_until) {
        finish_logs(10'000);
        {
          std::lock_guard lock(mu_);
          live_jobs_.erase(name);
        }
        result.exit_code = pod->exit_code;
        if (job.failed && job.reason == "DeadlineExceeded") {
          timed_out_by_cluster();
        } else {
          result.status = StepStatus::kFailed;
          result.reason = pod->exit_code > 128 ? fmt::format("killed by signal {}", pod->exit_code - 128)
                          : pod->exit_code >= 0 ? fmt::format("exited with code {}", pod->exit_code)
                                                : fmt::format("pod failed: {}", pod->reason);
          if (!pod->reason.empty() && pod->reason != "Error" && pod->exit_code >= 0) {
            result.reason += " (" + pod->reason + ")";
          }
        }
        return result;
      }
    } else if (job.failed || s.job_deleted) {
      // The Job ended without a Pod telling us how: wait briefly for the Pod's last state.
      if (!settling()) settle_until = Clock::now() + std::chrono::seconds(3);
      if (Clock::now() >= settle_until) {
        finish_logs(2'000);
        {
          std::lock_guard lock(mu_);
          live_jobs_.erase(name);
        }
        if (job.failed && job.reason == "DeadlineExceeded") {
          timed_out_by_cluster();
        } else {
          result.status = StepStatus::kFailed;
          result.reason = s.job_deleted ? fmt::format("Job {} was deleted by someone else", name)
                                        : fmt::format("Job failed: {}{}{}", job.reason, job.message.empty() ? "" : ": ",
                                                      job.message);
        }
        return result;
      }
    } else if (job.complete && !pod) {
      // Complete but the Pod's events have not arrived (or it was garbage-collected): ask once.
      if (!settling()) settle_until = Clock::now() + std::chrono::seconds(3);
      if (Clock::now() >= settle_until) {
        auto list = api_->get(fmt::format("{}?labelSelector={}", pods_path,
                                          krdc::kube::query_escape("batch.kubernetes.io/job-name=" + name)));
        for (auto& item : list.value("items", json::array())) {
          PodView view = view_pod(item, kContainerName);
          waiter->update([&](StepState& st) { st.pods[view.name] = view; });
        }
        if (list.value("items", json::array()).empty()) {
          result.status = StepStatus::kFailed;
          result.reason = fmt::format("Job {} completed but its Pod is gone: no outputs to read", name);
          return result;
        }
        settle_until = Clock::time_point::max();
        continue;
      }
    } else if (pod && !pod->waiting_reason.empty()) {
      const std::string& w = pod->waiting_reason;
      if (fatal_waiting_reason(w) || ((w == "ErrImagePull" || w == "ImagePullBackOff") && pull_error_since &&
                                      Clock::now() - *pull_error_since > std::chrono::seconds(60))) {
        const std::string left = stop_job();
        result.status = StepStatus::kFailed;
        result.reason = fmt::format("{}: {}", w, pod->waiting_message);
        if (!left.empty()) result.reason += fmt::format(" (may be left: {})", left);
        return result;
      }
      if ((w == "ErrImagePull" || w == "ImagePullBackOff") && !pull_error_since) pull_error_since = Clock::now();
      if (w != last_waiting && options_.log) options_.log(fmt::format("job {}: waiting: {} {}", name, w, pod->waiting_message));
      last_waiting = w;
    }

    Clock::time_point until = req.deadline;
    until = std::min(until, settle_until);
    if (pull_error_since) until = std::min(until, *pull_error_since + std::chrono::seconds(61));
    if (!logs && live_log_at > Clock::now()) until = std::min(until, live_log_at);
    wait_for_change(*waiter, cancel, until);
  }
}

}  // namespace krdc::exec::kube
