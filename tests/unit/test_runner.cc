// The runner with the real process executor: ordering, parallelism, outputs between steps,
// failures, retries, timeouts, resume and cancellation, all observed in the result file.
#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <functional>
#include <thread>

#include "krdc/util/errors.h"
#include "support/run_harness.h"

using krdc::test::Harness;
using krdc::test::workflow_yaml;

namespace {
// An inline app running a shell snippet; params arrive as "$@" (never interpolated).
std::string sh_step(const std::string& name, const std::string& script, const std::string& extra = "") {
  nlohmann::json cmd = {"sh", "-c", script, "sh"};
  return "    - name: " + name + "\n      app: {command: " + cmd.dump() + "}\n" + extra;
}
}  // namespace

TEST_CASE("outputs flow to downstream params; the result file tells the whole story") {
  Harness h;
  const auto out = h.run(workflow_yaml(
      sh_step("produce", R"(printf '{"path": "/data/x y.nc", "n": 3}' > "$KRDC_OUTPUTS"; echo produced)") +
      sh_step("consume", R"(echo "got $1 $2"; printf '{"seen": "%s %s"}' "$1" "$2" > "$KRDC_OUTPUTS")",
              "      needs: [produce]\n      params: {in: \"${{ steps.produce.outputs.path }}\", n: \"${{ steps.produce.outputs.n }}\"}\n")));
  CHECK(out.summary.status == "succeeded");
  CHECK(out.invalid_lines == 0);
  const auto consume = out.end_of("consume");
  CHECK(consume["status"] == "succeeded");
  CHECK(consume["args"] == nlohmann::json::array({"--in=/data/x y.nc", "--n=3"}));
  CHECK(consume["outputs"]["seen"] == "--in=/data/x y.nc --n=3");
  CHECK(consume["logTail"].get<std::string>().find("got --in=/data/x y.nc") != std::string::npos);
  CHECK(out.end_of("produce")["logTail"] == "produced\n");
  REQUIRE(out.records.size() >= 2);
  CHECK(out.records.front()["type"] == "run");
  CHECK(out.records.front()["event"] == "start");
  CHECK(out.records.back()["event"] == "end");
  CHECK(out.records.back()["status"] == "succeeded");
}

TEST_CASE("independent steps run in parallel up to --jobs, never more") {
  // Each step records its start and end time; with jobs=2 at most two overlap.
  std::string steps;
  for (int i = 0; i < 4; ++i) {
    steps += sh_step("s" + std::to_string(i),
                     R"(s=$(date +%s%N); sleep 0.3; e=$(date +%s%N); printf '{"start": %s, "end": %s}' $s $e > "$KRDC_OUTPUTS")");
  }
  Harness h;
  h.jobs = 2;
  const auto t0 = std::chrono::steady_clock::now();
  const auto out = h.run(workflow_yaml(steps));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(out.summary.status == "succeeded");
  std::vector<std::pair<long long, long long>> spans;
  for (int i = 0; i < 4; ++i) {
    const auto o = out.end_of("s" + std::to_string(i))["outputs"];
    spans.push_back({o["start"].get<long long>(), o["end"].get<long long>()});
  }
  int max_overlap = 0;
  for (const auto& a : spans) {
    int overlap = 0;
    for (const auto& b : spans) overlap += b.first <= a.first && a.first < b.second;
    max_overlap = std::max(max_overlap, overlap);
  }
  CHECK(max_overlap == 2);
  CHECK(secs < 1.1);  // 4 × 0.3 s serially would be 1.2 s
}

TEST_CASE("needs order is respected") {
  Harness h;
  const auto marker = h.dir / "order";
  const auto out = h.run(workflow_yaml(
      sh_step("first", "sleep 0.2; echo first >> " + marker + "; echo '{}' > $KRDC_OUTPUTS") +
      sh_step("second", "echo second >> " + marker + "; echo '{}' > $KRDC_OUTPUTS", "      needs: [first]\n")));
  CHECK(out.summary.status == "succeeded");
  CHECK(krdc::test::read_file(marker) == "first\nsecond\n");
}

TEST_CASE("a failing step skips its dependents; independent branches finish") {
  Harness h;
  const auto out = h.run(workflow_yaml(sh_step("bad", "echo boom >&2; exit 3") +
                                       sh_step("after", "echo '{}' > $KRDC_OUTPUTS", "      needs: [bad]\n") +
                                       sh_step("other", "sleep 0.2; echo '{}' > $KRDC_OUTPUTS")));
  CHECK(out.summary.status == "failed");
  const auto bad = out.end_of("bad");
  CHECK(bad["status"] == "failed");
  CHECK(bad["exitCode"] == 3);
  CHECK(bad["reason"] == "exited with code 3");
  CHECK(bad["logTail"] == "boom\n");
  CHECK(out.end_of("after")["status"] == "skipped");
  CHECK(out.end_of("after")["reason"] == "upstream step \"bad\" failed");
  CHECK(out.end_of("other")["status"] == "succeeded");
}

TEST_CASE("--fail-fast stops running steps and skips the rest") {
  Harness h;
  h.fail_fast = true;
  const auto out = h.run(workflow_yaml(sh_step("bad", "sleep 0.1; exit 1") + sh_step("slow", "sleep 20") +
                                       sh_step("later", "true", "      needs: [slow]\n")));
  CHECK(out.summary.status == "failed");
  CHECK(out.end_of("slow")["status"] == "cancelled");
  CHECK(out.end_of("later")["status"] == "skipped");
}

TEST_CASE("retries with backoff, then success; attempts recorded") {
  Harness h;
  const auto counter = h.dir / "count";
  const auto out = h.run(workflow_yaml(
      sh_step("flaky", "n=$(cat " + counter + " 2>/dev/null || echo 0); n=$((n+1)); echo $n > " + counter +
                           "; [ $n -ge 3 ] && echo '{\"n\": '$n'}' > $KRDC_OUTPUTS",
              "      retries: 3\n      retryBackoff: 50ms\n")));
  CHECK(out.summary.status == "succeeded");
  const auto end = out.end_of("flaky");
  CHECK(end["attempts"] == 3);
  CHECK(end["outputs"]["n"] == 3);
  CHECK(out.count("retry", "flaky") == 2);
  CHECK(out.count("start", "flaky") == 3);
}

TEST_CASE("a timeout stops the step's whole process group") {
  Harness h;
  const auto pidfile = h.dir / "child.pid";
  const auto out = h.run(workflow_yaml(sh_step("stuck", "sleep 30 & echo $! > " + pidfile + "; wait", "      timeout: 300ms\n")));
  CHECK(out.summary.status == "failed");
  const auto end = out.end_of("stuck");
  CHECK(end["status"] == "timed_out");
  CHECK(end["durationSec"].get<double>() < 3.0);
  const int grandchild = std::stoi(krdc::test::read_file(pidfile));
  // The background sleep was in the step's process group: it must be gone too.
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    // Gone, or a zombie waiting for a reaper (the sandbox's pid 1 may not reap).
    const std::string stat = krdc::test::read_file("/proc/" + std::to_string(grandchild) + "/stat");
    gone = stat.empty() || stat.find(") Z ") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(gone);
}

TEST_CASE("outputs that are not a JSON object fail the step with a clear reason") {
  Harness h;
  const auto out = h.run(workflow_yaml(sh_step("bad", "echo '[1,2]' > $KRDC_OUTPUTS")));
  CHECK(out.end_of("bad")["status"] == "failed");
  CHECK(out.end_of("bad")["reason"].get<std::string>().find("must be one JSON object") != std::string::npos);
}

TEST_CASE("a referenced output that was never written fails the consumer, naming it") {
  Harness h;
  const auto out = h.run(workflow_yaml(sh_step("p", "echo '{}' > $KRDC_OUTPUTS") +
                                       sh_step("c", "true", "      needs: [p]\n      params: {x: \"${{ steps.p.outputs.path }}\"}\n")));
  const auto c = out.end_of("c");
  CHECK(c["status"] == "failed");
  CHECK(c["reason"].get<std::string>().find("${{ steps.p.outputs.path }} has no value") != std::string::npos);
  CHECK(c["attempts"] == 0);
}

TEST_CASE("resume skips steps that succeeded with the same inputs and reruns the rest") {
  Harness h;
  const auto counter = h.dir / "runs-of-a";
  const auto flag = h.dir / "b-may-pass";
  const std::string text = workflow_yaml(
      sh_step("a", "echo x >> " + counter + "; echo '{\"v\": 1}' > $KRDC_OUTPUTS") +
      sh_step("b", "test -e " + flag + " && echo '{}' > $KRDC_OUTPUTS", "      needs: [a]\n      params: {v: \"${{ steps.a.outputs.v }}\"}\n"));
  const auto first = h.run(text);
  CHECK(first.summary.status == "failed");
  h.dir.write("b-may-pass", "");
  const auto index = krdc::runner::ResumeIndex(krdc::runner::read_result_file(h.results()));
  h.resume = &index;
  const auto second = h.run(text);
  CHECK(second.summary.status == "succeeded");
  CHECK(second.end_of("a")["resumed"] == true);
  CHECK(second.end_of("b")["status"] == "succeeded");
  CHECK(krdc::test::read_file(counter) == "x\n");  // a ran once in total
}

TEST_CASE("cancel: running steps get SIGTERM, are recorded cancelled, nothing else starts") {
  Harness h;
  krdc::exec::CancelToken cancel;
  h.cancel = &cancel;
  const auto trapped = h.dir / "trapped";
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    cancel.cancel();
  });
  const auto out = h.run(workflow_yaml(
      sh_step("long", "trap 'echo term > " + trapped + "; exit 143' TERM; sleep 30 & wait") +
      sh_step("next", "true", "      needs: [long]\n")));
  canceller.join();
  CHECK(out.summary.status == "cancelled");
  CHECK(out.end_of("long")["status"] == "cancelled");
  CHECK(out.end_of("next")["status"] == "skipped");
  CHECK(krdc::test::read_file(trapped) == "term\n");  // SIGTERM first, so the app could clean up
  CHECK(out.records.back()["status"] == "cancelled");
}

TEST_CASE("a result file that cannot be written stops the run: nothing starts, RunStopped (exit 5), no terminate") {
  Harness h;
  h.results_path = "/dev/full";  // every write fails with ENOSPC
  const auto marker = h.dir / "ran";
  try {
    h.run(workflow_yaml(sh_step("a", "touch " + marker + "; echo '{}' > $KRDC_OUTPUTS") +
                        sh_step("b", "touch " + marker + "; echo '{}' > $KRDC_OUTPUTS", "      needs: [a]\n")));
    FAIL("expected RunStopped");
  } catch (const krdc::RunStopped& e) {
    CHECK(e.code() == krdc::ExitCode::kRunStopped);
    CHECK(std::string(e.what()).find("the run was stopped") == 0);
    CHECK(e.hint().find("/dev/full") != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(marker));
}

TEST_CASE("a run of 300 steps leaves no file descriptor and no process behind") {
  auto open_fds = [] {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
    return n;
  };
  std::string steps;
  for (int i = 0; i < 300; ++i) {
    steps += sh_step("s" + std::to_string(i), i % 7 ? "echo '{}' > $KRDC_OUTPUTS" : "echo no; exit 2");
  }
  Harness h;
  h.jobs = 16;
  h.run(workflow_yaml(sh_step("warm-up", "echo '{}' > $KRDC_OUTPUTS")));  // one-time lazily opened fds
  const size_t before = open_fds();
  const auto out = h.run(workflow_yaml(steps));
  CHECK(out.summary.succeeded == 257);
  CHECK(out.summary.failed == 43);
  CHECK(open_fds() == before);
  std::string children;  // every thread's live children (zombies included): none
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    children += krdc::test::read_file((task.path() / "children").string());
  }
  CHECK(children.empty());
}

namespace {
// A cluster whose answers a test scripts: `answer(request, observer, n)` for the nth call (1-based).
class ScriptedCluster : public krdc::exec::Executor {
 public:
  using Answer = std::function<krdc::exec::StepResult(const krdc::exec::StepRequest&, krdc::exec::StepObserver&, size_t)>;
  explicit ScriptedCluster(Answer answer) : answer_(std::move(answer)) {}
  std::string name() const override { return "fake"; }
  nlohmann::json describe(const krdc::exec::StepRequest&) const override { return {}; }
  krdc::exec::StepResult run(const krdc::exec::StepRequest& req, krdc::exec::StepObserver& observer,
                             const krdc::exec::CancelToken&) override {
    requests.push_back(req);
    return answer_(req, observer, requests.size());
  }
  std::vector<krdc::exec::StepRequest> requests;

 private:
  Answer answer_;
};
}  // namespace

TEST_CASE("after losing sight of an attempt that existed, the retry follows that attempt, never a second one") {
  // The first attempt exists (submitted), then the watch is lost; afterwards the cluster answers.
  ScriptedCluster cluster([](const krdc::exec::StepRequest& req, krdc::exec::StepObserver& observer, size_t n) {
    if (n == 1) {
      observer.on_submitted(req, {{"job", "j"}, {"uid", "u1"}});
      throw krdc::UnreachableError("watch lost", "the Job may still exist");
    }
    krdc::exec::StepResult r;
    r.status = krdc::exec::StepStatus::kSucceeded;
    r.outputs = {{"adopted", req.adopt}};
    return r;
  });
  Harness h;
  h.executor = &cluster;
  const auto out = h.run(workflow_yaml(sh_step("far", "true", "      retries: 1\n      retryBackoff: 10ms\n")));
  CHECK(out.summary.status == "succeeded");
  REQUIRE(cluster.requests.size() == 2);
  const auto& first = cluster.requests[0];
  const auto& second = cluster.requests[1];
  CHECK_FALSE(first.adopt);
  CHECK(second.adopt);
  CHECK(second.run_id == first.run_id);
  CHECK(second.attempt == first.attempt);
  CHECK(second.submitted["uid"] == "u1");
  CHECK(out.end_of("far")["outputs"]["adopted"] == true);
  CHECK(out.count("submitted", "far") == 1);
}

TEST_CASE("an attempt that ended reporting an unreachable cluster is over: retried afresh, not adopted") {
  // Every attempt ends with an outcome naming an unreachable cluster, as a proxy reports its
  // remote cluster: the attempt is over, so a retry starts a new one.
  ScriptedCluster cluster([](const krdc::exec::StepRequest& req, krdc::exec::StepObserver& observer, size_t n) {
    observer.on_submitted(req, {{"job", "j"}, {"uid", "u" + std::to_string(n)}});
    krdc::exec::StepResult r;
    r.status = krdc::exec::StepStatus::kFailed;
    r.error = krdc::exec::ErrorKind::kUnreachable;
    r.reason = "on cluster unist: unreachable";
    return r;
  });
  Harness h;
  h.executor = &cluster;
  const auto out = h.run(workflow_yaml(sh_step("far", "true", "      retries: 1\n      retryBackoff: 10ms\n")));
  CHECK(out.summary.status == "failed");
  REQUIRE(cluster.requests.size() == 2);
  CHECK_FALSE(cluster.requests[1].adopt);
  CHECK(cluster.requests[1].attempt == 2);
  CHECK_FALSE(out.end_of("far").contains("maybeRunning"));
  krdc::runner::ResumeIndex index(krdc::runner::read_result_file(h.results()));
  CHECK_FALSE(index.in_flight("far"));  // --resume starts it afresh
}
