// The result file never loses what it had and never holds half a record that later runs
// would trip over: append-only, whole lines, torn tails repaired, SIGKILL leaves a valid prefix.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <thread>

#include "krdc/runner/result_reader.h"
#include "krdc/runner/result_writer.h"
#include "krdc/util/child_process.h"
#include "krdc/util/env.h"
#include "krdc/util/errors.h"
#include "support/temp_dir.h"

using krdc::runner::read_result_file;
using krdc::runner::ResultWriter;

TEST_CASE("records are appended after existing content, never truncating it") {
  krdc::test::TempDir dir;
  const auto path = dir.write("r.jsonl", "{\"type\":\"run\",\"event\":\"start\",\"run\":\"old\"}\n");
  {
    ResultWriter w(path);
    w.append({{"type", "run"}, {"event", "start"}, {"run", "new"}}, ResultWriter::Sync::kNow);
  }
  const auto file = read_result_file(path);
  REQUIRE(file.records.size() == 2);
  CHECK(file.records[0]["run"] == "old");
  CHECK(file.records[1]["run"] == "new");
  CHECK(file.records[1].contains("time"));
}

TEST_CASE("a torn last line from a crash is fenced off so new records parse") {
  krdc::test::TempDir dir;
  const auto path = dir.write("r.jsonl", "{\"type\":\"run\",\"event\":\"start\",\"run\":\"a\"}\n{\"b\":");
  {
    ResultWriter w(path);
    w.append({{"type", "run"}, {"event", "end"}, {"run", "a"}, {"c", 3}});
  }
  const auto file = read_result_file(path);
  CHECK(file.invalid_lines == 1);
  REQUIRE(file.records.size() == 2);
  CHECK(file.records[1]["c"] == 3);
}

TEST_CASE("invalid UTF-8 from an app cannot break a record") {
  krdc::test::TempDir dir;
  const auto path = dir / "r.jsonl";
  {
    ResultWriter w(path);
    w.append({{"type", "run"}, {"event", "end"}, {"run", "r"}, {"logTail", std::string("ok \xff\xfe bytes")}});
  }
  const auto file = read_result_file(path);
  REQUIRE(file.records.size() == 1);
  CHECK(file.records[0]["logTail"].get<std::string>().find("ok ") == 0);
}

TEST_CASE("SIGKILL in the middle of a run leaves only whole records") {
  krdc::test::TempDir dir;
  std::string steps;
  for (int i = 0; i < 400; ++i) {
    steps += "    - {name: s" + std::to_string(i) + ", app: {command: [sh, -c, 'echo {} > $KRDC_OUTPUTS']}}\n";
  }
  const auto wf = dir.write("many.yaml", "apiVersion: krdc/v1\nkind: Workflow\nmetadata: {name: many}\nspec:\n  steps:\n" + steps);
  const auto results = dir / "many.results.jsonl";
  for (int round = 0; round < 3; ++round) {
    krdc::util::SpawnSpec spec;
    spec.argv = {KRDC_BINARY, "run", wf, "--results", results, "-j", "4", "--run-dir", dir / "runs"};
    spec.env = krdc::util::child_environment({{"CI", "1"}});
    spec.cwd = dir.path().string();
    spec.output_file = dir / "krdc.log";
    krdc::util::ChildProcess krdc(spec);
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + 100 * round));
    krdc.signal_group(SIGKILL);
    REQUIRE(krdc.wait(10'000));
  }
  const auto file = read_result_file(results);
  CHECK(file.invalid_lines == 0);
  CHECK(file.records.size() > 3);
  for (const auto& r : file.records) CHECK(r.contains("type"));
}

TEST_CASE("the resume index keeps the latest success per step and inputs") {
  krdc::runner::ResultFile f;
  f.records.push_back({{"type", "step"}, {"event", "end"}, {"run", "r1"}, {"step", "a"}, {"status", "succeeded"},
                       {"inputsDigest", "d1"}, {"outputs", {{"v", 1}}}});
  f.records.push_back(
      {{"type", "step"}, {"event", "end"}, {"run", "r1"}, {"step", "a"}, {"status", "failed"}, {"inputsDigest", "d2"}});
  f.records.push_back({{"type", "step"}, {"event", "end"}, {"run", "r2"}, {"step", "a"}, {"status", "succeeded"},
                       {"inputsDigest", "d1"}, {"outputs", {{"v", 2}}}});
  krdc::runner::ResumeIndex index(f);
  REQUIRE(index.find("a", "d1"));
  CHECK((*index.find("a", "d1"))["v"] == 2);
  CHECK_FALSE(index.find("a", "d2"));
  CHECK_FALSE(index.find("b", "d1"));
}

TEST_CASE("any valid JSON of unexpected shape is skipped and counted, never fatal, never hiding other runs") {
  krdc::test::TempDir dir;
  const std::string good_start = R"({"type":"run","event":"start","run":"r1","workflow":"w"})";
  const std::string good_end =
      R"({"type":"step","event":"end","run":"r1","step":"a","status":"succeeded","inputsDigest":"d","outputs":{"v":1}})";
  const std::vector<std::string> odd = {
      R"({"type":"step","event":"end","run":"r1","step":"a","status":5})",
      R"({"type":"step","event":"end","run":"r1","step":null,"status":"succeeded"})",
      R"({"type":"step","event":"end","run":"r1","step":"a","outputs":"x"})",
      R"({"type":"run","event":"start","workflow":"w"})",
      R"({"type":"step","event":"start","run":"r1","step":"a","adopted":{"run":3}})",
      R"({"type":"step","event":"end","run":"r1","step":"a","attempts":"two"})",
      R"({"type":7,"event":"end","run":"r1"})",
      R"({})",
  };
  std::string text = good_start + "\n";
  for (const auto& line : odd) text += line + "\n";
  text += "[1,2]\n\"a string\"\n" + good_end + "\n";
  const auto path = dir.write("r.jsonl", text);
  const auto file = read_result_file(path);
  CHECK(file.odd_records == odd.size());
  CHECK(file.invalid_lines == 2);
  REQUIRE(file.records.size() == 2);
  REQUIRE(file.last_header());
  CHECK((*file.last_header())["run"] == "r1");
  krdc::runner::ResumeIndex index(file);
  REQUIRE(index.find("a", "d"));
  CHECK((*index.find("a", "d"))["v"] == 1);
  CHECK_NOTHROW(krdc::runner::require_runs_of(file, path, "w"));
}

TEST_CASE("--resume refuses a file that holds no run, or runs of another workflow") {
  krdc::test::TempDir dir;
  const auto yaml = dir.write("wf.yaml", "apiVersion: krdc/v1\nkind: Workflow\n");
  const auto not_runs = read_result_file(yaml);
  CHECK_THROWS_WITH_AS(krdc::runner::require_runs_of(not_runs, yaml, "w"),
                       doctest::Contains("is not a krdc result file"), krdc::InvalidInput);
  const auto other = dir.write("o.jsonl", R"({"type":"run","event":"start","run":"r","workflow":"other"})" "\n");
  CHECK_THROWS_WITH_AS(krdc::runner::require_runs_of(read_result_file(other), other, "w"),
                       doctest::Contains("holds runs of workflow \"other\", not \"w\""), krdc::InvalidInput);
}

TEST_CASE("the resume index knows which attempts were left in flight, under their original names") {
  krdc::runner::ResultFile f;
  auto rec = [](const char* event, const char* run, const char* step, nlohmann::json extra = nlohmann::json::object()) {
    nlohmann::json r = {{"type", "step"}, {"event", event}, {"run", run}, {"step", step}};
    r.update(extra);
    return r;
  };
  // Run r1 (killed): a ended; b submitted a Job; c started but never submitted; d lost sight of
  // its Job (unreachable) after it existed.
  f.records.push_back(rec("start", "r1", "a", {{"attempt", 1}, {"inputsDigest", "da"}}));
  f.records.push_back(rec("end", "r1", "a", {{"status", "succeeded"}, {"inputsDigest", "da"}}));
  f.records.push_back(rec("start", "r1", "b", {{"attempt", 1}, {"inputsDigest", "db"}, {"executor", "kube"}}));
  f.records.push_back(rec("retry", "r1", "b", {{"attempt", 1}}));
  f.records.push_back(rec("start", "r1", "b", {{"attempt", 2}, {"inputsDigest", "db"}, {"executor", "kube"}}));
  f.records.push_back(rec("submitted", "r1", "b", {{"attempt", 2}, {"details", {{"job", "j"}, {"uid", "u2"}}}}));
  f.records.push_back(rec("start", "r1", "c", {{"attempt", 1}, {"inputsDigest", "dc"}}));
  f.records.push_back(rec("start", "r1", "d", {{"attempt", 1}, {"inputsDigest", "dd"}}));
  f.records.push_back(rec("submitted", "r1", "d", {{"attempt", 1}, {"details", {{"uid", "ud"}}}}));
  f.records.push_back(rec("end", "r1", "d", {{"status", "failed"}, {"error", "unreachable"}, {"maybeRunning", true}}));
  // e: a proxy's reported outcome ("unreachable" remote) is an outcome: not in flight.
  f.records.push_back(rec("start", "r1", "e", {{"attempt", 1}, {"inputsDigest", "de"}}));
  f.records.push_back(rec("submitted", "r1", "e", {{"attempt", 1}, {"details", {{"uid", "ue"}}}}));
  f.records.push_back(rec("end", "r1", "e", {{"status", "failed"}, {"error", "unreachable"}}));
  // Run r2 adopted c (and was killed too): the attempt keeps r1's name.
  f.records.push_back(rec("start", "r2", "c", {{"attempt", 1}, {"adopted", {{"run", "r1"}, {"attempt", 1}}}, {"inputsDigest", "dc"}}));
  krdc::runner::ResumeIndex index{f};
  CHECK_FALSE(index.in_flight("a"));
  REQUIRE(index.in_flight("b"));
  CHECK(index.in_flight("b")->job_run == "r1");
  CHECK(index.in_flight("b")->attempt == 2);
  CHECK(index.in_flight("b")->submitted["uid"] == "u2");
  CHECK(index.in_flight("b")->inputs_digest == "db");
  REQUIRE(index.in_flight("c"));
  CHECK(index.in_flight("c")->job_run == "r1");
  CHECK(index.in_flight("c")->record_run == "r2");
  CHECK(index.in_flight("c")->submitted.empty());
  REQUIRE(index.in_flight("d"));
  CHECK(index.in_flight("d")->submitted["uid"] == "ud");
  CHECK_FALSE(index.in_flight("e"));
  CHECK(index.in_flight_count() == 3);
}

TEST_CASE("one krdc per result file: a second writer is refused while the first holds it") {
  krdc::test::TempDir dir;
  const auto path = dir / "r.jsonl";
  {
    ResultWriter first(path);
    CHECK_THROWS_WITH_AS(ResultWriter{path}, doctest::Contains("in use by another krdc"), krdc::InvalidInput);
  }
  CHECK_NOTHROW(ResultWriter{path});  // released with the first
}
