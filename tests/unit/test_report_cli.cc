// `krdc report` as users meet it: every -o the CLI offers, --run, and a result file copied
// away from the machine (and directory) that wrote it.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>

#include "krdc/report/run_summary.h"
#include "krdc/runner/result_reader.h"
#include "krdc/util/child_process.h"
#include "krdc/util/env.h"
#include "support/run_krdc.h"
#include "support/temp_dir.h"

namespace {

krdc::test::KrdcRun report(const krdc::test::TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "report");
  return krdc::test::run_krdc(dir, args);
}

// A copy of a test result file in `dir`: nothing the report reads may come from elsewhere.
std::string copy_of(const krdc::test::TempDir& dir, const std::string& name) {
  const std::string target = dir / (name + ".results.jsonl");
  std::filesystem::copy_file(std::string(KRDC_SOURCE_DIR) + "/tests/data/results/" + name + ".results.jsonl", target);
  return target;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("krdc report: every format of a copied result file, exit 0") {
  krdc::test::TempDir dir;
  const std::string file = copy_of(dir, "failed");
  const auto text = report(dir, {file});
  CHECK(text.code == 0);
  CHECK(has(text.output, "status:    failed"));
  CHECK(has(text.output, "timed out"));
  CHECK_FALSE(has(text.output, "timeline:"));  // not a terminal
  CHECK(report(dir, {file, "-o", "table"}).output == text.output);
  const auto json = report(dir, {file, "-o", "json"});
  CHECK(json.code == 0);
  CHECK(nlohmann::json::parse(json.output)["steps"].size() == 5);
  const auto yaml = report(dir, {file, "-o", "yaml"});
  CHECK(yaml.code == 0);
  CHECK(has(yaml.output, "status: failed"));
  const auto md = report(dir, {file, "-o", "markdown"});
  CHECK(md.code == 0);
  CHECK(has(md.output, "| check | failed | process |"));
  const auto html = report(dir, {file, "-o", "html"});
  CHECK(html.code == 0);
  CHECK(html.output.rfind("<!doctype html>", 0) == 0);
  CHECK(has(html.output, "<svg class=\"timeline\""));
  const auto csv = report(dir, {file, "-o", "csv"});
  CHECK(csv.code == 2);
  CHECK(has(csv.output, "csv"));
}

TEST_CASE("krdc report --run: an earlier run by id; an unknown id lists the valid ones, exit 2") {
  krdc::test::TempDir dir;
  const std::string file = copy_of(dir, "resumed");
  const auto runs = krdc::report::list_runs(krdc::runner::read_result_file(file));
  REQUIRE(runs.size() == 2);
  const auto first = report(dir, {file, "--run", runs[0].run_id});
  CHECK(first.code == 0);
  CHECK(has(first.output, "run:       " + runs[0].run_id));
  CHECK(has(first.output, "status:    failed"));
  const auto unknown = report(dir, {file, "--run", "20990101-000000-abcdef"});
  CHECK(unknown.code == 2);
  CHECK(has(unknown.output, "no run 20990101-000000-abcdef"));
  CHECK(has(unknown.output, runs[0].run_id));
  CHECK(has(unknown.output, runs[1].run_id));
  CHECK(has(unknown.output, "--run"));
}
