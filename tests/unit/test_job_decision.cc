// decide(): what a waiting step does next, from what the watches saw, what the loop remembers
// and the time. Table-driven, no server, no sleeps: time is a value.
#include <doctest/doctest.h>

#include "krdc/exec/kube/job_decision.h"

using namespace krdc::exec::kube;
using namespace std::chrono_literals;

namespace {

const SteadyClock::time_point t0 = SteadyClock::time_point{} + 1000h;

WaitFacts at(SteadyClock::time_point now) {
  WaitFacts f;
  f.now = now;
  f.job_name = "greet-abc";
  f.cluster = "kisti";
  f.timeout_ms = 90'000;
  return f;
}

PodView pod(const char* phase) {
  PodView p;
  p.name = "greet-abc-x";
  p.created = "2026-11-30T10:00:00Z";
  p.phase = phase;
  p.running = std::string(phase) == "Running";
  return p;
}

PodView ended(int code, bool deleting = false) {
  PodView p = pod(code == 0 ? "Succeeded" : "Failed");
  p.terminated = true;
  p.exit_code = code;
  p.reason = code == 0 ? "Completed" : "Error";
  p.deleting = deleting;
  p.message = R"({"x": 1})";
  return p;
}

StepState with_pod(const PodView& p) {
  StepState s;
  s.job = JobView{};
  s.pods[p.name] = p;
  return s;
}

}  // namespace

TEST_CASE("decide: a running Pod means wait; no wake-up before the deadline") {
  auto f = at(t0);
  f.deadline = t0 + 90s;
  const Decision d = decide(with_pod(pod("Running")), {}, f);
  CHECK(d.action == Action::kWait);
  CHECK(d.wake_at == t0 + 90s);
  REQUIRE(d.pod);
  CHECK(d.pod->running);
}

TEST_CASE("decide: endings, from the most specific fact to the least") {
  SUBCASE("exit 0 succeeds, with time for the log to finish") {
    const Decision d = decide(with_pod(ended(0)), {}, at(t0));
    CHECK(d.action == Action::kSucceeded);
    CHECK(d.exit_code == 0);
    CHECK(d.log_grace_ms > 0);
  }
  SUBCASE("a non-zero exit fails with its code") {
    const Decision d = decide(with_pod(ended(3)), {}, at(t0));
    CHECK(d.action == Action::kFailed);
    CHECK(d.exit_code == 3);
    CHECK(d.reason == "exited with code 3");
  }
  SUBCASE("a signal is named") {
    CHECK(decide(with_pod(ended(137)), {}, at(t0)).reason == "killed by signal 9");
  }
  SUBCASE("OOMKilled is said") {
    PodView p = ended(137);
    p.reason = "OOMKilled";
    CHECK(decide(with_pod(p), {}, at(t0)).reason == "killed by signal 9 (OOMKilled)");
  }
}

TEST_CASE("decide: a Pod killed while being deleted waits for the Job to say whether it was the deadline") {
  StepState s = with_pod(ended(143, /*deleting=*/true));
  Decision d = decide(s, {}, at(t0));
  CHECK(d.action == Action::kWait);
  CHECK(d.memory.settle_until == t0 + 3s);
  CHECK(d.wake_at == t0 + 3s);
  // The Job's verdict arrives: timed out by the cluster, and the Job is deleted.
  s.job->failed = true;
  s.job->reason = "DeadlineExceeded";
  Decision later = decide(s, d.memory, at(t0 + 1s));
  CHECK(later.action == Action::kStopTimedOut);
  CHECK(later.reason == "timed out after 90s (Job activeDeadlineSeconds); Job greet-abc deleted");
  // No verdict within the window: an ordinary failure.
  s.job->failed = false;
  Decision late = decide(s, d.memory, at(t0 + 3s));
  CHECK(late.action == Action::kFailed);
  CHECK(late.reason == "killed by signal 15");
}

TEST_CASE("decide: the Job ended without a Pod telling how") {
  StepState s;
  s.job = JobView{};
  s.job_deleted = true;
  Decision d = decide(s, {}, at(t0));
  CHECK(d.action == Action::kWait);
  d = decide(s, d.memory, at(t0 + 3s));
  CHECK(d.action == Action::kFailed);
  CHECK(d.reason == "Job greet-abc was deleted by someone else");

  StepState failed;
  failed.job = JobView{false, true, "BackoffLimitExceeded", "Job has reached the specified backoff limit"};
  d = decide(failed, {}, at(t0));
  d = decide(failed, d.memory, at(t0 + 4s));
  CHECK(d.action == Action::kFailed);
  CHECK(d.reason == "Job failed: BackoffLimitExceeded: Job has reached the specified backoff limit");
}

TEST_CASE("decide: a complete Job whose Pod was never seen lists its Pods once, after the settle window") {
  StepState s;
  s.job = JobView{true, false, "", ""};
  Decision d = decide(s, {}, at(t0));
  CHECK(d.action == Action::kWait);
  d = decide(s, d.memory, at(t0 + 3s));
  CHECK(d.action == Action::kListPods);
  CHECK(d.memory.settle_until == SteadyClock::time_point::max());
}

TEST_CASE("decide: images that will never come fail; a pull error gets a minute") {
  PodView bad = pod("Pending");
  bad.waiting_reason = "InvalidImageName";
  bad.waiting_message = "couldn't parse image reference";
  Decision d = decide(with_pod(bad), {}, at(t0));
  CHECK(d.action == Action::kStopFailed);
  CHECK(d.reason == "InvalidImageName: couldn't parse image reference");

  PodView pulling = pod("Pending");
  pulling.waiting_reason = "ImagePullBackOff";
  d = decide(with_pod(pulling), {}, at(t0));
  CHECK(d.action == Action::kWait);
  REQUIRE(d.memory.pull_error_since);
  CHECK(*d.memory.pull_error_since == t0);
  CHECK(d.wake_at == t0 + 61s);
  CHECK(decide(with_pod(pulling), d.memory, at(t0 + 59s)).action == Action::kWait);
  CHECK(decide(with_pod(pulling), d.memory, at(t0 + 61s)).action == Action::kStopFailed);
}

TEST_CASE("decide: cancel and deadline win over what the watches say") {
  auto f = at(t0);
  f.cancelled = true;
  CHECK(decide(with_pod(ended(0)), {}, f).action == Action::kStopCancelled);
  auto g = at(t0 + 90s);
  g.deadline = t0 + 90s;
  const Decision d = decide(with_pod(pod("Running")), {}, g);
  CHECK(d.action == Action::kStopTimedOut);
  CHECK(d.reason == "timed out after 90s; Job greet-abc deleted");
}

TEST_CASE("decide: a watch outage gives up only past the limit and while failures keep coming") {
  StepState s = with_pod(pod("Running"));
  s.watch_error = "connection refused";
  s.unhealthy_since = t0;
  s.last_failure = t0 + 170s;
  auto f = at(t0 + 175s);
  f.watch_outage_limit_ms = 180'000;
  CHECK(decide(s, {}, f).action == Action::kWait);
  f.now = t0 + 181s;
  const Decision d = decide(s, {}, f);
  CHECK(d.action == Action::kUnreachable);
  CHECK(d.reason == "lost the watch on cluster kisti for more than 180s: connection refused");
  // The last failure is old: the watch is probably back and the error not yet cleared.
  s.last_failure = t0 + 100s;
  CHECK(decide(s, {}, f).action == Action::kWait);
  // A credential refused for good is fatal at once.
  StepState fatal = with_pod(pod("Running"));
  fatal.fatal = "the cluster rejected the token";
  CHECK(decide(fatal, {}, at(t0)).action == Action::kFatal);
}
