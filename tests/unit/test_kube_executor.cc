// The kube executor against a scripted API server (fault and protocol paths only; the real
// cluster is exercised by tests/integration/test_kube_*): success with outputs from the
// termination message and logs from pods/log, a failing exit code, cancel deleting the Job and
// its Pod, 409 on create adopting our own Job, and describe() never touching the server.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "krdc/exec/kube/kube_executor.h"
#include "support/fake_http_server.h"
#include "support/temp_dir.h"

#include <fstream>

using namespace krdc::exec;
using namespace krdc::exec::kube;
using krdc::test::FakeHttpServer;
using krdc::test::FakeReply;
using krdc::test::FakeRequest;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

class FixedToken : public krdc::auth::TokenSource {
 public:
  std::string token() override { return "tok-for-tests"; }
  void invalidate() override {}
  std::string describe() const override { return "test"; }
};

class NullObserver : public StepObserver {
 public:
  void on_submitted(const StepRequest&, const json& d) override { submitted = d; }
  void on_running(const StepRequest&) override { ++running; }
  void on_log(const StepRequest&, std::string_view chunk) override {
    std::lock_guard lock(mu);
    logs.append(chunk);
  }
  json submitted;
  std::atomic<int> running{0};
  std::mutex mu;
  std::string logs;
};

std::string pod_json(const std::string& job, const std::string& rv, const json& status, bool deleting = false) {
  json md = {{"name", job + "-abcde"},
             {"uid", "pod-uid"},
             {"resourceVersion", rv},
             {"creationTimestamp", "2026-11-25T08:00:00Z"},
             {"labels", {{"batch.kubernetes.io/job-name", job}, {"krdc/run", "run-1"}}}};
  if (deleting) md["deletionTimestamp"] = "2026-11-25T08:00:09Z";
  return json{{"kind", "Pod"}, {"metadata", md}, {"status", status}}.dump();
}

json running_status() {
  return {{"phase", "Running"}, {"containerStatuses", {{{"name", "step"}, {"state", {{"running", json::object()}}}}}}};
}

json terminated_status(int code, const std::string& message) {
  return {{"phase", code == 0 ? "Succeeded" : "Failed"},
          {"containerStatuses",
           {{{"name", "step"},
             {"state", {{"terminated", {{"exitCode", code}, {"reason", code ? "Error" : "Completed"}, {"message", message}}}}}}}}};
}

std::string ev(const std::string& type, const std::string& object) {
  return R"({"type":")" + type + R"(","object":)" + object + "}\n";
}

// A scripted namespace: the pods watch plays `pod_events` once, then stays quiet.
struct FakeCluster {
  std::string job;
  std::vector<std::string> pod_events;
  int create_status = 201;
  bool job_exists = true;  // false: a GET of the Job is 404
  std::mutex mu;
  std::vector<FakeRequest> seen;
  std::atomic<int> pod_watches{0};

  FakeReply handle(const FakeRequest& r) {
    {
      std::lock_guard lock(mu);
      seen.push_back(r);
    }
    const bool watch = r.target.find("watch=1") != std::string::npos;
    if (r.method == "POST") {
      if (create_status == 409) {
        return FakeReply::json(409, R"({"kind":"Status","reason":"AlreadyExists","code":409,"message":"exists"})");
      }
      return FakeReply::json(201, json{{"kind", "Job"}, {"metadata", {{"name", job}, {"uid", "job-uid"}}}}.dump());
    }
    if (r.method == "DELETE") return FakeReply::json(200, R"({"kind":"Status","status":"Success"})");
    if (r.target.find("/log?") != std::string::npos) {
      FakeReply reply;
      reply.chunks = {"hello from the pod\n", "second line\n"};
      return reply;
    }
    if (r.method == "GET" && r.target.find("/jobs/" + job) != std::string::npos) {
      if (!job_exists) return FakeReply::json(404, R"({"kind":"Status","reason":"NotFound","code":404})");
      return FakeReply::json(200, json{{"kind", "Job"},
                                       {"metadata",
                                        {{"name", job},
                                         {"uid", "job-uid"},
                                         {"annotations", {{"krdc/run-id", "run-1"}, {"krdc/attempt", "1"}}}}}}
                                      .dump());
    }
    if (!watch) return FakeReply::json(200, R"({"kind":"List","metadata":{"resourceVersion":"1"},"items":[]})");
    FakeReply reply;
    if (r.target.find("/pods?") != std::string::npos && pod_watches++ == 0) {
      reply.chunks = pod_events;
      reply.chunk_delay = 30ms;
    } else {
      reply.delay = 300ms;
      reply.chunks = {"\n"};
    }
    return reply;
  }

  int count(const std::string& method, const std::string& needle) {
    std::lock_guard lock(mu);
    int n = 0;
    for (const auto& r : seen) n += r.method == method && r.target.find(needle) != std::string::npos;
    return n;
  }
};

struct Fixture {
  krdc::test::TempDir dir;
  krdc::workflow::Step step;
  StepRequest req;
  Fixture() {
    step.name = "greet";
    step.app.name = "greet";
    step.app.image = "krdc.example/greet:1";
    step.app.command = {"python3", "main.py"};
    req.run_id = "run-1";
    req.workflow_name = "wf";
    req.step = step;
    req.args = {"--name", "Ada"};
    req.step_dir = dir.path();
    req.log_file = dir.path() / "attempt-1.log";
    req.kill_grace_ms = 100;
  }
  std::string job() const { return job_name(req.run_id, step.name, 1); }
};

std::unique_ptr<KubeExecutor> executor(const FakeHttpServer& server, KubeExecutorOptions options = {}) {
  krdc::kube::ClusterAccess access;
  access.name = "kisti";
  access.server = server.url();
  access.ns = "alice";
  access.tokens = std::make_shared<FixedToken>();
  krdc::kube::ApiClientOptions api;
  api.http.backoff_base = 5ms;
  api.http.max_retries = 1;
  options.cleanup_wait_ms = 500;
  return std::make_unique<KubeExecutor>(std::make_shared<krdc::kube::ApiClient>(access, api), options);
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("kube executor: success → outputs from the termination message, logs in the file, no polling") {
  Fixture f;
  FakeCluster cluster;
  cluster.job = f.job();
  cluster.pod_events = {ev("ADDED", pod_json(cluster.job, "2", json{{"phase", "Pending"}})),
                        ev("MODIFIED", pod_json(cluster.job, "3", running_status())),
                        ev("MODIFIED", pod_json(cluster.job, "4", terminated_status(0, R"({"message":"Hi","length":2})")))};
  FakeHttpServer server([&](const FakeRequest& r) { return cluster.handle(r); });
  KubeExecutorOptions opt;
  opt.follow = true;
  auto ex = executor(server, opt);
  NullObserver obs;
  CancelToken cancel;
  const StepResult r = ex->run(f.req, obs, cancel);
  CHECK(r.status == StepStatus::kSucceeded);
  CHECK(r.exit_code == 0);
  CHECK(r.outputs == json{{"message", "Hi"}, {"length", 2}});
  CHECK(r.details["job"] == cluster.job);
  CHECK(obs.submitted["uid"] == "job-uid");
  CHECK(obs.running == 1);
  CHECK(read_all(f.req.log_file) == "hello from the pod\nsecond line\n");
  CHECK(obs.logs == "hello from the pod\nsecond line\n");  // --follow
  CHECK(cluster.count("POST", "/apis/batch/v1/namespaces/alice/jobs") == 1);
  // One list per watched collection, no GET of the Job or Pod while waiting.
  CHECK(cluster.count("GET", "/jobs/") == 0);
  CHECK(cluster.count("GET", "pods?limit") == 1);
  CHECK(cluster.count("GET", "jobs?limit") == 1);
  CHECK(ex->emergency_stop().empty());
}

TEST_CASE("kube executor: a container that ended before krdc looked → its whole log read once") {
  Fixture f;
  FakeCluster cluster;
  cluster.job = f.job();
  cluster.pod_events = {ev("ADDED", pod_json(cluster.job, "2", json{{"phase", "Pending"}})),
                        ev("MODIFIED", pod_json(cluster.job, "3", terminated_status(0, R"({"ok":true})")))};
  FakeHttpServer server([&](const FakeRequest& r) { return cluster.handle(r); });
  auto ex = executor(server);  // no --follow: no stream held open for a short step
  NullObserver obs;
  CancelToken cancel;
  const StepResult r = ex->run(f.req, obs, cancel);
  CHECK(r.status == StepStatus::kSucceeded);
  CHECK(obs.running == 1);
  CHECK(read_all(f.req.log_file) == "hello from the pod\nsecond line\n");
  CHECK(cluster.count("GET", "/log?") == 1);
  CHECK(obs.logs.empty());
}

TEST_CASE("kube executor: a failing container → failed with its exit code") {
  Fixture f;
  FakeCluster cluster;
  cluster.job = f.job();
  cluster.pod_events = {ev("ADDED", pod_json(cluster.job, "3", terminated_status(3, "Traceback: boom")))};
  FakeHttpServer server([&](const FakeRequest& r) { return cluster.handle(r); });
  auto ex = executor(server);
  NullObserver obs;
  CancelToken cancel;
  const StepResult r = ex->run(f.req, obs, cancel);
  CHECK(r.status == StepStatus::kFailed);
  CHECK(r.exit_code == 3);
  CHECK(r.reason == "exited with code 3");
}

TEST_CASE("kube executor: cancel deletes the Job (background) and its Pod, then returns cancelled") {
  Fixture f;
  FakeCluster cluster;
  cluster.job = f.job();
  cluster.pod_events = {ev("ADDED", pod_json(cluster.job, "3", running_status()))};
  FakeHttpServer server([&](const FakeRequest& r) { return cluster.handle(r); });
  auto ex = executor(server);
  NullObserver obs;
  CancelToken cancel;
  std::thread canceller([&] {
    for (int i = 0; i < 200 && obs.running == 0; ++i) std::this_thread::sleep_for(10ms);
    cancel.cancel();
  });
  const StepResult r = ex->run(f.req, obs, cancel);
  canceller.join();
  CHECK(r.status == StepStatus::kCancelled);
  CHECK(cluster.count("DELETE", "/jobs/" + cluster.job) == 1);
  CHECK(cluster.count("DELETE", "/pods/" + cluster.job + "-abcde") == 1);
  std::lock_guard lock(cluster.mu);
  for (const auto& req : cluster.seen) {
    if (req.method == "DELETE" && req.target.find("/jobs/") != std::string::npos) {
      CHECK(json::parse(req.body)["propagationPolicy"] == "Background");
    }
  }
}

TEST_CASE("kube executor: 409 on create adopts our own Job (a retried POST that did land)") {
  Fixture f;
  FakeCluster cluster;
  cluster.job = f.job();
  cluster.create_status = 409;
  cluster.pod_events = {ev("ADDED", pod_json(cluster.job, "3", terminated_status(0, "{}")))};
  FakeHttpServer server([&](const FakeRequest& r) { return cluster.handle(r); });
  auto ex = executor(server);
  NullObserver obs;
  CancelToken cancel;
  const StepResult r = ex->run(f.req, obs, cancel);
  CHECK(r.status == StepStatus::kSucceeded);
  CHECK(cluster.count("GET", "/jobs/" + cluster.job) == 1);
}

TEST_CASE("kube executor: describe() renders the manifest without contacting the server") {
  Fixture f;
  krdc::kube::ClusterAccess access;
  access.name = "kisti";
  access.server = "https://127.0.0.1:1";  // nothing listens there
  access.ns = "alice";
  KubeExecutor ex(std::make_shared<krdc::kube::ApiClient>(access), {});
  const json m = ex.describe(f.req);
  CHECK(m["kind"] == "Job");
  CHECK(m["metadata"]["namespace"] == "alice");
  CHECK(m["metadata"]["name"] == f.job());
}

TEST_CASE("kube executor: adopting an attempt follows the recorded Job, never creates one (docs: Reattach)") {
  Fixture f;
  f.req.adopt = true;
  f.req.submitted = {{"uid", "job-uid"}};
  FakeCluster cluster;
  cluster.job = f.job();
  cluster.pod_events = {ev("ADDED", pod_json(cluster.job, "2", terminated_status(0, R"({"message":"done"})")))};
  FakeHttpServer server([&](const FakeRequest& r) { return cluster.handle(r); });
  auto ex = executor(server);
  NullObserver obs;
  CancelToken cancel;
  const StepResult r = ex->run(f.req, obs, cancel);
  CHECK(r.status == StepStatus::kSucceeded);
  CHECK(r.outputs == json{{"message", "done"}});
  CHECK(r.details["adopted"] == true);
  CHECK(obs.submitted["uid"] == "job-uid");
  CHECK(cluster.count("POST", "/jobs") == 0);
  CHECK(cluster.count("GET", "/jobs/" + cluster.job) == 1);
}

TEST_CASE("kube executor: an adopted attempt whose Job is gone, or is another Job now, is lost: nothing created or deleted") {
  Fixture f;
  f.req.adopt = true;
  FakeCluster cluster;
  cluster.job = f.job();
  SUBCASE("gone") {
    cluster.job_exists = false;
    f.req.submitted = {{"uid", "job-uid"}};
  }
  SUBCASE("a Job of the same name with another uid") { f.req.submitted = {{"uid", "recorded-uid"}}; }
  SUBCASE("another run's Job under the name") { f.req.run_id = "run-2"; cluster.job = f.job(); }
  FakeHttpServer server([&](const FakeRequest& r) { return cluster.handle(r); });
  auto ex = executor(server);
  NullObserver obs;
  CancelToken cancel;
  const StepResult r = ex->run(f.req, obs, cancel);
  CHECK(r.status == StepStatus::kLost);
  CHECK(r.reason.find("is gone") != std::string::npos);
  CHECK(obs.submitted.empty());
  CHECK(cluster.count("POST", "/jobs") == 0);
  CHECK(cluster.count("DELETE", "/jobs") == 0);
}

TEST_CASE("kube executor: --detach returns once the Job exists, leaving it running") {
  Fixture f;
  f.req.detach = true;
  FakeCluster cluster;
  cluster.job = f.job();
  FakeHttpServer server([&](const FakeRequest& r) { return cluster.handle(r); });
  auto ex = executor(server);
  NullObserver obs;
  CancelToken cancel;
  const StepResult r = ex->run(f.req, obs, cancel);
  CHECK(r.status == StepStatus::kDetached);
  CHECK(cluster.count("POST", "/jobs") == 1);
  CHECK(cluster.count("DELETE", "/jobs") == 0);
  CHECK(ex->emergency_stop().empty());  // left on purpose: not "may be left running"
}

// Security review (issue 12): a kube step's log holds the app's output (log tails end up in the
// result file too): 0600 like a process step's, whatever the umask.
TEST_CASE("kube executor: the step log file is private (0600) even under umask 0") {
  Fixture f;
  FakeCluster cluster;
  cluster.job = f.job();
  cluster.pod_events = {ev("ADDED", pod_json(cluster.job, "2", running_status())),
                        ev("MODIFIED", pod_json(cluster.job, "3", terminated_status(0, "{}")))};
  FakeHttpServer server([&](const FakeRequest& r) { return cluster.handle(r); });
  auto ex = executor(server);
  NullObserver obs;
  CancelToken cancel;
  const mode_t old_mask = ::umask(0);
  const StepResult r = ex->run(f.req, obs, cancel);
  ::umask(old_mask);
  CHECK(r.status == StepStatus::kSucceeded);
  struct stat st {};
  REQUIRE(::stat(f.req.log_file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(read_all(f.req.log_file) == "hello from the pod\nsecond line\n");
}
