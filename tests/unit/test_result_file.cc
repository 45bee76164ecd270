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
#include "support/temp_dir.h"

using krdc::runner::read_result_file;
using krdc::runner::ResultWriter;

TEST_CASE("records are appended after existing content, never truncating it") {
  krdc::test::TempDir dir;
  const auto path = dir.write("r.jsonl", "{\"type\":\"run\",\"run\":\"old\"}\n");
  {
    ResultWriter w(path);
    w.append({{"type", "run"}, {"run", "new"}}, ResultWriter::Sync::kNow);
  }
  const auto file = read_result_file(path);
  REQUIRE(file.records.size() == 2);
  CHECK(file.records[0]["run"] == "old");
  CHECK(file.records[1]["run"] == "new");
  CHECK(file.records[1].contains("time"));
}

TEST_CASE("a torn last line from a crash is fenced off so new records parse") {
  krdc::test::TempDir dir;
  const auto path = dir.write("r.jsonl", "{\"a\":1}\n{\"b\":");
  {
    ResultWriter w(path);
    w.append({{"c", 3}});
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
    w.append({{"logTail", std::string("ok \xff\xfe bytes")}});
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
  f.records.push_back({{"type", "step"}, {"event", "end"}, {"step", "a"}, {"status", "succeeded"}, {"inputsDigest", "d1"},
                       {"outputs", {{"v", 1}}}});
  f.records.push_back({{"type", "step"}, {"event", "end"}, {"step", "a"}, {"status", "failed"}, {"inputsDigest", "d2"}});
  f.records.push_back({{"type", "step"}, {"event", "end"}, {"step", "a"}, {"status", "succeeded"}, {"inputsDigest", "d1"},
                       {"outputs", {{"v", 2}}}});
  krdc::runner::ResumeIndex index(f);
  REQUIRE(index.find("a", "d1"));
  CHECK((*index.find("a", "d1"))["v"] == 2);
  CHECK_FALSE(index.find("a", "d2"));
  CHECK_FALSE(index.find("b", "d1"));
}
