// `krdc logs`, `krdc status` and `krdc export --ro-crate` on result files real runs wrote: the
// krdc binary runs real workflows (local processes) in a temp directory, then reads them back.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "krdc/runner/result_reader.h"
#include "krdc/util/child_process.h"
#include "krdc/util/env.h"
#include "support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Ran {
  int code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

krdc::util::SpawnSpec krdc_spec(const krdc::test::TempDir& dir, const std::vector<std::string>& args,
                                const std::string& name, const std::map<std::string, std::string>& env) {
  krdc::util::SpawnSpec spec;
  // stdout and stderr apart: the data goes to stdout, notes to stderr.
  spec.argv = {"sh", "-c", "exec \"$0\" \"$@\" 2>\"$KRDC_TEST_ERR\"", KRDC_BINARY};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  auto vars = env;
  vars["KRDC_TEST_ERR"] = dir / (name + ".err");
  spec.env = krdc::util::child_environment(vars);
  spec.cwd = dir.path().string();
  spec.output_file = dir / (name + ".out");
  fs::remove(spec.output_file);
  return spec;
}

Ran run_krdc(const krdc::test::TempDir& dir, const std::vector<std::string>& args,
         const std::map<std::string, std::string>& env = {{"CI", "1"}}) {
  krdc::util::ChildProcess child(krdc_spec(dir, args, "krdc", env));
  REQUIRE(child.wait(60'000));
  return {child.exit_code(), krdc::test::read_file(dir / "krdc.out"), krdc::test::read_file(dir / "krdc.err")};
}

const std::string kFanOut = std::string(KRDC_SOURCE_DIR) + "/workflows/fan-out.yaml";

// A step whose first attempt fails and second succeeds (a marker file in its directory).
constexpr const char* kFlaky = R"(apiVersion: krdc/v1
kind: Workflow
metadata: {name: flaky}
spec:
  steps:
    - name: flaky
      retries: 1
      retryBackoff: 250ms
      app:
        dir: .
        command: [sh, -c, 'if [ -e marker ]; then echo second try; else touch marker; echo first try; exit 3; fi']
)";

// The run directory the latest run's header names.
fs::path run_dir_of(const std::string& results) {
  const auto file = krdc::runner::read_result_file(results);
  REQUIRE(file.last_header() != nullptr);
  return file.last_header()->value("runDir", "");
}

}  // namespace

TEST_CASE("krdc logs: a process step's log from the run directory, by attempt") {
  krdc::test::TempDir dir;
  dir.write("flaky.yaml", kFlaky);
  const auto run = run_krdc(dir, {"run", "flaky.yaml"});
  INFO(run.err);
  REQUIRE(run.code == 0);

  const auto latest = run_krdc(dir, {"logs", "flaky.results.jsonl", "flaky"});
  CHECK(latest.code == 0);
  CHECK(latest.out == "second try\n");
  const auto first = run_krdc(dir, {"logs", "flaky.results.jsonl", "flaky", "--attempt", "1"});
  CHECK(first.code == 0);
  CHECK(first.out == "first try\n");
  CHECK(first.out == krdc::test::read_file(run_dir_of(dir / "flaky.results.jsonl") / "flaky" / "attempt-1.log"));

  const auto none = run_krdc(dir, {"logs", "flaky.results.jsonl", "flaky", "--attempt", "3"});
  CHECK(none.code == 2);
  CHECK(none.err.find("no attempt 3") != std::string::npos);
  CHECK(none.err.find("its attempts: 1, 2") != std::string::npos);
}

TEST_CASE("krdc logs: an unknown step names the run's steps; --follow on a finished step ends") {
  krdc::test::TempDir dir;
  REQUIRE(run_krdc(dir, {"run", kFanOut}).code == 0);
  const auto unknown = run_krdc(dir, {"logs", "fan-out.results.jsonl", "west"});
  CHECK(unknown.code == 2);
  CHECK(unknown.err.find("no step \"west\"") != std::string::npos);
  CHECK(unknown.err.find("seed, ") != std::string::npos);
  CHECK(unknown.err.find("gather") != std::string::npos);

  const auto followed = run_krdc(dir, {"logs", "fan-out.results.jsonl", "gather", "--follow"});
  CHECK(followed.code == 0);
  CHECK(!followed.out.empty());
  CHECK(followed.out == krdc::test::read_file(run_dir_of(dir / "fan-out.results.jsonl") / "gather" / "attempt-1.log"));
}

TEST_CASE("krdc logs: a result file without its run directory shows the recorded tail") {
  krdc::test::TempDir dir;
  dir.write("flaky.yaml", kFlaky);
  REQUIRE(run_krdc(dir, {"run", "flaky.yaml"}).code == 0);
  fs::remove_all(run_dir_of(dir / "flaky.results.jsonl"));  // as on another machine
  const auto shown = run_krdc(dir, {"logs", "flaky.results.jsonl", "flaky", "--attempt", "1"});
  CHECK(shown.code == 0);
  CHECK(shown.out == "first try\n");
  CHECK(shown.err.find("is not here") != std::string::npos);
}

namespace {

// A step that prints, then waits (bounded) for the test to create `release`: no race on timing.
constexpr const char* kSlow = R"(apiVersion: krdc/v1
kind: Workflow
metadata: {name: slow}
spec:
  steps:
    - name: slow
      timeout: 60s
      app:
        dir: .
        command: [sh, -c, 'echo waiting; i=0; while [ ! -e release ] && [ $i -lt 400 ]; do sleep 0.1; i=$((i+1)); done; echo released']
    - name: after
      needs: [slow]
      app: {dir: ., command: [sh, -c, 'echo after']}
)";

// Starts `krdc run slow.yaml` and returns once the slow step's log holds its first line
// (bounded: 30 s).
std::unique_ptr<krdc::util::ChildProcess> start_slow_run(const krdc::test::TempDir& dir) {
  dir.write("slow.yaml", kSlow);
  auto run = std::make_unique<krdc::util::ChildProcess>(krdc_spec(dir, {"run", "slow.yaml"}, "run", {{"CI", "1"}}));
  fs::path log;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(dir / "slow.results.jsonl")) {
      const auto file = krdc::runner::read_result_file(dir / "slow.results.jsonl");
      if (file.last_header()) log = fs::path(file.last_header()->value("runDir", "")) / "slow" / "attempt-1.log";
    }
    if (!log.empty() && krdc::test::read_file(log) == "waiting\n") break;
    if (run->wait(50)) break;  // it ended: the REQUIRE below says so
  }
  REQUIRE(krdc::test::read_file(log) == "waiting\n");
  return run;
}

json step_of(const json& status, const std::string& name) {
  for (const auto& s : status.at("steps")) {
    if (s.at("step") == name) return s;
  }
  return json();
}

}  // namespace

TEST_CASE("krdc logs --follow: follows a running step to its end") {
  krdc::test::TempDir dir;
  auto run = start_slow_run(dir);
  krdc::util::ChildProcess follow(krdc_spec(dir, {"logs", "slow.results.jsonl", "slow", "--follow"}, "follow",
                                            {{"CI", "1"}}));
  // Still following while the step runs (it does not end by itself within a second).
  CHECK_FALSE(follow.wait(1000));
  dir.write("release", "");
  REQUIRE(run->wait(30'000));
  CHECK(run->exit_code() == 0);
  REQUIRE(follow.wait(10'000));
  CHECK(follow.exit_code() == 0);
  CHECK(krdc::test::read_file(dir / "follow.out") == "waiting\nreleased\n");
}

TEST_CASE("krdc status: a finished run, as a table and as JSON/YAML") {
  krdc::test::TempDir dir;
  REQUIRE(run_krdc(dir, {"run", kFanOut}).code == 0);
  const auto as_json = run_krdc(dir, {"status", "fan-out.results.jsonl", "-o", "json"});
  REQUIRE(as_json.code == 0);
  const json status = json::parse(as_json.out);
  const auto header = *krdc::runner::read_result_file(dir / "fan-out.results.jsonl").last_header();
  CHECK(status.at("run") == header.at("run"));
  CHECK(status.at("state") == "succeeded");
  CHECK(status.at("stepsTotal") == 5);
  REQUIRE(status.at("steps").size() == 5);
  for (const auto& s : status.at("steps")) {
    CHECK(s.at("state") == "succeeded");
    CHECK(s.at("attempts") == 1);
    CHECK(s.at("executor") == "process");
    CHECK(s.at("where").get<std::string>().rfind("pid ", 0) == 0);
    CHECK(fs::is_regular_file(s.at("log").get<std::string>()));
  }
  const auto text = run_krdc(dir, {"status", "fan-out.results.jsonl"});
  CHECK(text.code == 0);
  CHECK(text.out.find("of fan-out: succeeded") != std::string::npos);
  CHECK(text.out.find("steps: 5 succeeded") != std::string::npos);
  const auto yaml = run_krdc(dir, {"status", "fan-out.results.jsonl", "-o", "yaml"});
  CHECK(yaml.code == 0);
  CHECK(yaml.out.find("state: succeeded") != std::string::npos);
}

TEST_CASE("krdc status: a step running while krdc runs; lost once krdc is killed") {
  krdc::test::TempDir dir;
  auto run = start_slow_run(dir);
  const auto live = run_krdc(dir, {"status", "slow.results.jsonl", "-o", "json"});
  REQUIRE(live.code == 0);
  const json running = json::parse(live.out);
  CHECK(running.at("state") == "running");
  CHECK(step_of(running, "slow").at("state") == "running");
  CHECK(running.at("stepsTotal") == 2);
  CHECK(step_of(running, "after").is_null());  // not started: counted, not listed
  CHECK(run_krdc(dir, {"status", "slow.results.jsonl"}).out.find("1 not started") != std::string::npos);

  run->signal_group(SIGKILL);  // krdc and its step (which dies with it)
  REQUIRE(run->wait(10'000));
  const auto after = run_krdc(dir, {"status", "slow.results.jsonl", "-o", "json"});
  REQUIRE(after.code == 0);
  const json killed = json::parse(after.out);
  CHECK(killed.at("state") == "interrupted");
  CHECK(step_of(killed, "slow").at("state") == "lost");
  CHECK(run_krdc(dir, {"status", "slow.results.jsonl"}).out.find("krdc attach") != std::string::npos);
}

namespace {

// The crate's entities by @id.
std::map<std::string, json> entities_of(const json& crate) {
  std::map<std::string, json> out;
  for (const auto& e : crate.at("@graph")) out[e.at("@id").get<std::string>()] = e;
  return out;
}

bool has_type(const json& entity, const std::string& type) {
  const json& t = entity.at("@type");
  return t.is_string() ? t == type : std::find(t.begin(), t.end(), type) != t.end();
}

std::vector<std::string> ids(const json& refs) {
  std::vector<std::string> out;
  if (refs.is_object()) return {refs.at("@id").get<std::string>()};
  for (const auto& r : refs) out.push_back(r.at("@id").get<std::string>());
  return out;
}

// Every reference to a local entity ("#x" or a path in the crate) names one that is there.
void check_links(const json& value, const std::map<std::string, json>& all) {
  if (value.is_object()) {
    if (value.size() == 1 && value.contains("@id")) {
      const std::string id = value["@id"];
      if (id.rfind("http", 0) != 0) CHECK_MESSAGE(all.count(id), "dangling reference " << id);
      return;
    }
    for (const auto& [k, v] : value.items()) check_links(v, all);
  } else if (value.is_array()) {
    for (const auto& v : value) check_links(v, all);
  }
}

}  // namespace

TEST_CASE("krdc export --ro-crate: a Provenance Run Crate of a real run, linked end to end, no credential") {
  krdc::test::TempDir dir;
  // A token in the environment must never reach the crate (nor the result file).
  const std::string secret = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZGEifQ.krdc-test-secret-signature";
  const std::map<std::string, std::string> env = {{"CI", "1"}, {"KRDC_TOKEN", secret}};
  REQUIRE(run_krdc(dir, {"run", kFanOut}, env).code == 0);
  const auto exported = run_krdc(dir, {"export", "fan-out.results.jsonl", "--ro-crate", "crate"}, env);
  INFO(exported.err);
  REQUIRE(exported.code == 0);
  const fs::path crate_dir = dir.path() / "crate";
  const json crate = json::parse(krdc::test::read_file(crate_dir / "ro-crate-metadata.json"));
  const auto all = entities_of(crate);
  const auto header = *krdc::runner::read_result_file(dir / "fan-out.results.jsonl").last_header();

  // RO-Crate 1.1 descriptor and root; the three run profiles.
  REQUIRE(all.count("ro-crate-metadata.json"));
  CHECK(ids(all.at("ro-crate-metadata.json").at("conformsTo"))[0] == "https://w3id.org/ro/crate/1.1");
  const json& root = all.at("./");
  CHECK(has_type(root, "Dataset"));
  CHECK(root.contains("datePublished"));
  const auto profiles = ids(root.at("conformsTo"));
  for (const char* p : {"https://w3id.org/ro/wfrun/process/0.5", "https://w3id.org/ro/wfrun/workflow/0.5",
                        "https://w3id.org/ro/wfrun/provenance/0.5"}) {
    CHECK(std::find(profiles.begin(), profiles.end(), p) != profiles.end());
  }

  // The workflow: the copied file, typed as the profiles ask, with its steps and apps.
  const std::string wf_id = ids(root.at("mainEntity"))[0];
  CHECK(wf_id == "fan-out.yaml");
  CHECK(krdc::test::read_file(crate_dir / wf_id) == krdc::test::read_file(kFanOut));
  const json& wf = all.at(wf_id);
  for (const char* t : {"File", "SoftwareSourceCode", "ComputationalWorkflow", "HowTo"}) CHECK(has_type(wf, t));
  const auto steps = ids(wf.at("step"));
  CHECK(steps.size() == 5);
  const auto tools = ids(wf.at("hasPart"));
  CHECK(tools.size() == 2);  // greet and shout
  for (const auto& t : tools) {
    CHECK(has_type(all.at(t), "SoftwareApplication"));
    CHECK(fs::is_regular_file(crate_dir / t));  // the app's krdc-app.yaml, copied
  }

  // The run: OrganizeAction (krdc) → the workflow's CreateAction and one ControlAction per step.
  const std::string run_id = ids(root.at("mentions"))[0];
  const json& run = all.at(run_id);
  CHECK(has_type(run, "CreateAction"));
  CHECK(ids(run.at("instrument"))[0] == wf_id);
  CHECK(run.at("actionStatus") == "http://schema.org/CompletedActionStatus");
  CHECK(run.at("startTime") == header.at("time"));
  const json* organize = nullptr;
  for (const auto& [id, e] : all) {
    if (has_type(e, "OrganizeAction")) organize = &e;
  }
  REQUIRE(organize != nullptr);
  CHECK(all.at(ids(organize->at("instrument"))[0]).at("name") == "krdc");
  CHECK(ids(organize->at("result"))[0] == run_id);
  const auto controls = ids(organize->at("object"));
  REQUIRE(controls.size() == 5);

  std::set<std::string> steps_seen;
  for (const auto& c : controls) {
    const json& control = all.at(c);
    CHECK(has_type(control, "ControlAction"));
    const std::string how_to = ids(control.at("instrument"))[0];
    CHECK(std::find(steps.begin(), steps.end(), how_to) != steps.end());
    CHECK(has_type(all.at(how_to), "HowToStep"));
    const std::string tool = ids(all.at(how_to).at("workExample"))[0];
    CHECK(std::find(tools.begin(), tools.end(), tool) != tools.end());
    const auto executions = ids(control.at("object"));
    REQUIRE(executions.size() == 1);
    const json& action = all.at(executions[0]);
    CHECK(has_type(action, "CreateAction"));
    CHECK(ids(action.at("instrument"))[0] == tool);
    CHECK(action.at("actionStatus") == "http://schema.org/CompletedActionStatus");
    CHECK(action.at("startTime").get<std::string>() <= action.at("endTime").get<std::string>());
    CHECK(all.at(ids(action.at("agent"))[0]).at("name") == header.at("user"));
    CHECK(has_type(all.at(ids(action.at("agent"))[0]), "Person"));
    steps_seen.insert(all.at(how_to).at("name"));
    if (all.at(how_to).at("name") == "seed") {
      // Params as PropertyValues tied to the app's FormalParameters; outputs as its result.
      std::map<std::string, json> given;
      for (const auto& pv : ids(action.at("object"))) {
        CHECK(has_type(all.at(pv), "PropertyValue"));
        CHECK(has_type(all.at(ids(all.at(pv).at("exampleOfWork"))[0]), "FormalParameter"));
        given[all.at(pv).at("name")] = all.at(pv).at("value");
      }
      CHECK(given["name"] == "fan-out");
      CHECK(given["times"] == 1);
      std::map<std::string, json> produced;
      for (const auto& pv : ids(action.at("result"))) produced[all.at(pv).at("name")] = all.at(pv).at("value");
      CHECK(produced == std::map<std::string, json>{{"message", "Hello, fan-out!"}, {"length", 15}});
    }
  }
  CHECK(steps_seen == std::set<std::string>{"seed", "north", "south", "east", "gather"});
  check_links(crate, all);

  // No credential anywhere in what was written.
  for (const auto& f : fs::recursive_directory_iterator(crate_dir)) {
    if (f.is_regular_file()) CHECK(krdc::test::read_file(f.path()).find(secret) == std::string::npos);
  }
  CHECK(krdc::test::read_file(dir / "fan-out.results.jsonl").find(secret) == std::string::npos);

  // A directory that is not empty is refused, unless --force.
  const auto again = run_krdc(dir, {"export", "fan-out.results.jsonl", "--ro-crate", "crate"});
  CHECK(again.code == 2);
  CHECK(again.err.find("not empty") != std::string::npos);
  CHECK(run_krdc(dir, {"export", "fan-out.results.jsonl", "--ro-crate", "crate", "--force"}).code == 0);
}

TEST_CASE("krdc export --ro-crate: a failed attempt and its retry are two CreateActions of one step") {
  krdc::test::TempDir dir;
  dir.write("flaky.yaml", kFlaky);
  REQUIRE(run_krdc(dir, {"run", "flaky.yaml"}).code == 0);
  REQUIRE(run_krdc(dir, {"export", "flaky.results.jsonl", "--ro-crate", "crate"}).code == 0);
  const json crate = json::parse(krdc::test::read_file(dir / "crate/ro-crate-metadata.json"));
  const auto all = entities_of(crate);
  std::vector<std::string> statuses;
  for (const auto& [id, e] : all) {
    if (!has_type(e, "ControlAction")) continue;
    for (const auto& a : ids(e.at("object"))) {
      statuses.push_back(all.at(a).at("actionStatus"));
      if (statuses.back() == "http://schema.org/FailedActionStatus") CHECK(all.at(a).contains("error"));
    }
  }
  CHECK(statuses == std::vector<std::string>{"http://schema.org/FailedActionStatus",
                                             "http://schema.org/CompletedActionStatus"});
  check_links(crate, all);
}

TEST_CASE("krdc export --ro-crate: a workflow edited since the run is described, not copied; --license") {
  krdc::test::TempDir dir;
  dir.write("flaky.yaml", kFlaky);
  REQUIRE(run_krdc(dir, {"run", "flaky.yaml"}).code == 0);
  dir.write("flaky.yaml", std::string(kFlaky) + "# edited after the run\n");
  const auto exported = run_krdc(dir, {"export", "flaky.results.jsonl", "--ro-crate", "crate", "--license",
                                       "https://spdx.org/licenses/CC-BY-4.0"});
  REQUIRE(exported.code == 0);
  CHECK(exported.err.find("has changed since the run") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.path() / "crate" / "flaky.yaml"));
  const json crate = json::parse(krdc::test::read_file(dir / "crate/ro-crate-metadata.json"));
  const auto all = entities_of(crate);
  const json& root = all.at("./");
  CHECK(ids(root.at("license"))[0] == "https://spdx.org/licenses/CC-BY-4.0");
  const json& wf = all.at(ids(root.at("mainEntity"))[0]);
  CHECK_FALSE(has_type(wf, "File"));  // not in the crate
  CHECK(has_type(wf, "ComputationalWorkflow"));
  check_links(crate, all);
}
