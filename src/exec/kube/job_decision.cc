#include "krdc/exec/kube/job_decision.h"

#include <fmt/format.h>

namespace krdc::exec::kube {

namespace {

constexpr auto kSettle = std::chrono::seconds(3);          // for the other watch to catch up
constexpr auto kPullErrorLimit = std::chrono::seconds(60);  // an image that will not come
constexpr auto kOutageStillGoing = std::chrono::seconds(30);

bool fatal_waiting_reason(const std::string& r) {
  return r == "InvalidImageName" || r == "CreateContainerConfigError" || r == "CreateContainerError" ||
         r == "ErrImageNeverPull";
}

bool pull_error(const std::string& r) { return r == "ErrImagePull" || r == "ImagePullBackOff"; }

std::string exit_reason(const PodView& pod) {
  std::string reason = pod.exit_code > 128 ? fmt::format("killed by signal {}", pod.exit_code - 128)
                       : pod.exit_code >= 0 ? fmt::format("exited with code {}", pod.exit_code)
                                            : fmt::format("pod failed: {}", pod.reason);
  if (!pod.reason.empty() && pod.reason != "Error" && pod.exit_code >= 0) reason += " (" + pod.reason + ")";
  return reason;
}

// Starts the settle window if it is not running; true once it has run out.
bool settled(Decision& d, const WaitFacts& f) {
  if (d.memory.settle_until == SteadyClock::time_point::max()) d.memory.settle_until = f.now + kSettle;
  if (f.now >= d.memory.settle_until) return true;
  d.wake_at = std::min(d.wake_at, d.memory.settle_until);
  return false;
}

Decision final(Decision d, Action action, std::string reason, long long log_grace_ms = 0) {
  d.action = action;
  d.reason = std::move(reason);
  d.log_grace_ms = log_grace_ms;
  return d;
}

std::string cluster_deadline_reason(const WaitFacts& f) {
  return fmt::format("timed out after {} (Job activeDeadlineSeconds); Job {} deleted", duration_text(f.timeout_ms),
                     f.job_name);
}

}  // namespace

std::string duration_text(long long ms) {
  return ms >= 1000 && ms % 1000 == 0 ? fmt::format("{}s", ms / 1000) : fmt::format("{}ms", ms);
}

std::optional<PodView> current_pod(const StepState& s) {
  const PodView* best = nullptr;
  for (const auto& [name, pod] : s.pods) {
    if (!best || pod.created > best->created) best = &pod;
  }
  if (best) return *best;
  for (const auto& [name, pod] : s.deleted_pods) {
    if (pod.terminated) return pod;
  }
  return std::nullopt;
}

Decision decide(const StepState& s, const WaitMemory& memory, const WaitFacts& f) {
  Decision d;
  d.memory = memory;
  d.pod = current_pod(s);
  d.wake_at = f.deadline;
  const JobView job = s.job.value_or(JobView{});

  // Asked to stop wins over everything the watches say.
  if (f.cancelled) return final(d, Action::kStopCancelled, fmt::format("cancelled; Job {} deleted", f.job_name), 1'000);
  if (f.deadline != SteadyClock::time_point::max() && f.now >= f.deadline) {
    return final(d, Action::kStopTimedOut,
                 fmt::format("timed out after {}; Job {} deleted", duration_text(f.timeout_ms), f.job_name), 1'000);
  }
  if (!s.fatal.empty()) return final(d, Action::kFatal, s.fatal);
  // Give up only on an outage that is still going on: failures keep coming (each wakes us)
  // and the first one is older than the limit.
  if (!s.watch_error.empty() && f.now - s.unhealthy_since > std::chrono::milliseconds(f.watch_outage_limit_ms) &&
      f.now - s.last_failure < kOutageStillGoing) {
    return final(d, Action::kUnreachable,
                 fmt::format("lost the watch on cluster {} for more than {}: {}", f.cluster,
                             duration_text(f.watch_outage_limit_ms), s.watch_error));
  }

  // From the most specific fact to the least.
  if (d.pod && d.pod->terminated) {
    const PodView& pod = *d.pod;
    d.exit_code = pod.exit_code;
    if (pod.exit_code == 0 && pod.phase != "Failed") return final(d, Action::kSucceeded, "", 10'000);
    // A failure while the Pod was being deleted may be the Job's deadline: let the Job say.
    const bool maybe_deadline = pod.deleting && !job.failed;
    if (maybe_deadline && !settled(d, f)) return d;
    if (job.failed && job.reason == "DeadlineExceeded") {
      return final(d, Action::kStopTimedOut, cluster_deadline_reason(f), 10'000);
    }
    return final(d, Action::kFailed, exit_reason(pod), 10'000);
  }
  if (job.failed || s.job_deleted) {
    // The Job ended without a Pod telling us how: wait briefly for the Pod's last state.
    if (!settled(d, f)) return d;
    if (job.failed && job.reason == "DeadlineExceeded") {
      return final(d, Action::kStopTimedOut, cluster_deadline_reason(f), 2'000);
    }
    return final(d, Action::kFailed,
                 s.job_deleted ? fmt::format("Job {} was deleted by someone else", f.job_name)
                               : fmt::format("Job failed: {}{}{}", job.reason, job.message.empty() ? "" : ": ",
                                             job.message),
                 2'000);
  }
  if (job.complete && !d.pod) {
    // Complete but the Pod's events have not arrived (or it was garbage-collected): ask once.
    if (!settled(d, f)) return d;
    d.action = Action::kListPods;
    d.memory.settle_until = SteadyClock::time_point::max();
    return d;
  }
  if (d.pod && !d.pod->waiting_reason.empty()) {
    const std::string& w = d.pod->waiting_reason;
    if (pull_error(w) && !d.memory.pull_error_since) d.memory.pull_error_since = f.now;
    if (fatal_waiting_reason(w) || (pull_error(w) && f.now - *d.memory.pull_error_since > kPullErrorLimit)) {
      return final(d, Action::kStopFailed, fmt::format("{}: {}", w, d.pod->waiting_message));
    }
  }
  if (d.memory.pull_error_since) {
    d.wake_at = std::min(d.wake_at, *d.memory.pull_error_since + kPullErrorLimit + std::chrono::seconds(1));
  }
  return d;
}

}  // namespace krdc::exec::kube
