#pragma once
// What a waiting step does next, decided from what the watches last saw, what the wait loop
// remembers and the time: a pure function, table-tested without a server (tests/unit/
// test_job_decision.cc). The I/O — deleting, reading logs, listing Pods — is job_run.h's.
#include <chrono>
#include <optional>
#include <string>

#include "krdc/exec/kube/run_watch.h"

namespace krdc::exec::kube {

using SteadyClock = std::chrono::steady_clock;

// What the wait loop carries from one wake-up to the next (decide returns the next one).
struct WaitMemory {
  // While set, a fact that may be explained by an event still on its way on the other watch
  // (a Pod killed while being deleted: was it the Job's deadline?) waits for it, briefly.
  SteadyClock::time_point settle_until = SteadyClock::time_point::max();
  std::optional<SteadyClock::time_point> pull_error_since;  // first ErrImagePull/ImagePullBackOff
};

struct WaitFacts {
  SteadyClock::time_point now;
  bool cancelled = false;
  SteadyClock::time_point deadline = SteadyClock::time_point::max();
  long long watch_outage_limit_ms = 180'000;
  std::string job_name;   // for reasons
  std::string cluster;    // for reasons
  long long timeout_ms = 0;  // the step's timeout, for reasons
};

enum class Action {
  kWait,                   // nothing final: sleep until a change, or until wake_at
  kListPods,               // the Job completed but no Pod was seen: list its Pods, then decide again
  kSucceeded,              // the container exited 0: outputs are in the termination message
  kFailed,                 // it failed (exit code, Job failed or deleted): nothing left to delete
  kStopCancelled,          // the run was cancelled: delete the Job and its Pods
  kStopTimedOut,           // the step's deadline passed (ours, or the Job's activeDeadlineSeconds)
  kStopFailed,             // it can never start (bad image, config error): delete, failed
  kFatal,                  // the watch stopped for good (credential refused): delete, AuthError
  kUnreachable,            // the watch outage outlasted the limit: UnreachableError
};

struct Decision {
  Action action = Action::kWait;
  std::optional<PodView> pod;   // the Pod standing for this attempt, if any
  int exit_code = -1;
  std::string reason;           // one line, for people (final actions)
  long long log_grace_ms = 0;   // how long the log follower may take to catch the last words
  WaitMemory memory;            // for the next wake-up
  SteadyClock::time_point wake_at = SteadyClock::time_point::max();  // kWait: at the latest
};

// The Pod standing for this attempt: the newest one (backoffLimit 0 makes it the only one),
// else the last state of one already gone.
std::optional<PodView> current_pod(const StepState& s);

Decision decide(const StepState& s, const WaitMemory& memory, const WaitFacts& facts);

// "90s", "1500ms": durations in reasons.
std::string duration_text(long long ms);

}  // namespace krdc::exec::kube
