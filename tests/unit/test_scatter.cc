// Scatter/gather (forEach, matrix) and conditions (when, onSkipped): loading and validation,
// expansion, plan rules, and real runs with the process executor observed in the result file.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <set>

#include "krdc/plan/plan.h"
#include "krdc/report/run_summary.h"
#include "krdc/util/errors.h"
#include "krdc/workflow/loader.h"
#include "krdc/workflow/scatter.h"
#include "support/run_harness.h"

using krdc::test::Harness;
using krdc::test::workflow_yaml;
using krdc::workflow::load_workflow_text;

namespace {

std::string error_of(const std::string& text) {
  try {
    load_workflow_text(text, "wf.yaml");
  } catch (const krdc::InvalidInput& e) {
    return e.what();
  }
  return "(loaded)";
}

// An inline app running a shell snippet; params arrive as "$@" (--key=value, sorted by key).
std::string sh_step(const std::string& name, const std::string& script, const std::string& extra = "") {
  nlohmann::json cmd = {"sh", "-c", script, "sh"};
  return "    - name: " + name + "\n      app: {command: " + cmd.dump() + "}\n" + extra;
}

// Writes {"v": <the value of --v=...>} as outputs; fails when the value is in `fail_file`.
std::string echo_v(const std::string& fail_file = "/nonexistent") {
  return "v=${1#--v=}; if grep -qx \"$v\" " + fail_file + " 2>/dev/null; then echo \"fail $v\"; exit 3; fi; "
         "printf '{\"v\": \"%s\"}' \"$v\" > \"$KRDC_OUTPUTS\"";
}

std::vector<std::string> step_names(const krdc::test::RunOutcome& out, const std::string& event) {
  std::vector<std::string> names;
  for (const auto& r : out.records) {
    if (r.value("type", "") == "step" && r.value("event", "") == event) names.push_back(r["step"]);
  }
  return names;
}

nlohmann::json gathered(const krdc::test::RunOutcome& out, const std::string& step) {
  for (const auto& r : out.records) {
    if (r.value("event", "") == "gathered" && r.value("step", "") == step) return r;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("scatter: expansion names instances in item order; a matrix varies its last axis fastest") {
  const auto wf = load_workflow_text(workflow_yaml(sh_step("s", "true", "      forEach: [a, b, c]\n      params: {v: \"${{ item }}\"}\n") +
                                                   sh_step("m", "true", "      matrix: {x: [1, 2], y: [p, q, r]}\n")),
                                     "wf.yaml");
  const auto none = [](const krdc::workflow::Reference&) -> std::optional<nlohmann::json> { return std::nullopt; };
  const auto s = krdc::workflow::expand(wf.steps[0], krdc::workflow::resolve_items(wf.steps[0], none));
  REQUIRE(s.size() == 3);
  CHECK(s[0].name == "s[0]");
  CHECK(s[2].name == "s[2]");
  CHECK(s[1].item == "b");
  const auto m = krdc::workflow::expand(wf.steps[1], krdc::workflow::resolve_items(wf.steps[1], none));
  REQUIRE(m.size() == 6);
  CHECK(m[0].item == nlohmann::json({{"x", 1}, {"y", "p"}}));
  CHECK(m[1].item == nlohmann::json({{"x", 1}, {"y", "q"}}));
  CHECK(m[3].item == nlohmann::json({{"x", 2}, {"y", "p"}}));
  CHECK(m[5].name == "m[5]");
}

TEST_CASE("scatter: what validation refuses, with the position and the step") {
  CHECK(error_of(workflow_yaml(sh_step("s", "true", "      forEach: [1]\n      matrix: {a: [1]}\n")))
            .find("forEach and matrix cannot both be set") != std::string::npos);
  CHECK(error_of(workflow_yaml(sh_step("s", "true", "      forEach: abc\n"))) ==
        "wf.yaml:8:16: step \"s\" forEach must be a list or one ${{ }} reference to a list");
  CHECK(error_of(workflow_yaml(sh_step("s", "true", "      params: {v: \"${{ item }}\"}\n"))) ==
        "wf.yaml:8:16: step \"s\" param \"v\": ${{ item }} has no value: the step has no forEach or matrix");
  CHECK(error_of(workflow_yaml(sh_step("s", "true", "      matrix: {a: [1]}\n      params: {v: \"${{ item.b }}\"}\n")))
            .find("${{ item.b }} names no matrix axis") != std::string::npos);
  CHECK(error_of(workflow_yaml(sh_step("s", "true", "      forEach: ${{ params.nope }}\n")))
            .find("step \"s\" forEach: ${{ params.nope }} is not a workflow param") != std::string::npos);
  CHECK(error_of(workflow_yaml(sh_step("s", "true", "      forEach: ${{ params.years }}\n"), "  params: {years: 2021}\n"))
            .find("${{ params.years }} is number 2021, not a list") != std::string::npos);
  CHECK(error_of(workflow_yaml(sh_step("a", "true") + sh_step("s", "true", "      forEach: ${{ steps.a.outputs.l }}\n")))
            .find("refers to step \"a\", which is not upstream") != std::string::npos);
  CHECK(error_of(workflow_yaml(sh_step("s", "true", "      forEach: [{y: 1}, {z: 2}]\n      params: {v: \"${{ item.y }}\"}\n")))
            .find("step \"s[1]\" param \"v\": ${{ item.y }} has no value") != std::string::npos);
  CHECK(error_of(workflow_yaml(sh_step("s", "true", "      matrix: {a: [1], 'b c': [2]}\n")))
            .find("axis name \"b c\" is not valid") != std::string::npos);
  std::string hundred_and_one;
  for (int k = 0; k < 101; ++k) hundred_and_one += (k ? "," : "") + std::to_string(k);
  CHECK(error_of(workflow_yaml(sh_step("s", "true", "      matrix: {a: \"${{ params.a }}\", b: \"${{ params.a }}\"}\n"),
                               "  params:\n    a: [" + hundred_and_one + "]\n"))
            .find("would run 10201 instances, more than the 10000 krdc allows") != std::string::npos);
}

TEST_CASE("scatter: each known instance is checked against the app's interface before anything runs") {
  krdc::test::TempDir dir;
  dir.write("app/krdc-app.yaml",
            "apiVersion: krdc/v1\nkind: App\nmetadata: {name: y}\nspec:\n  command: [python3, main.py]\n"
            "  params:\n    - {name: year, type: int, required: true}\n");
  const std::string text = workflow_yaml(
      "    - name: s\n      app: app\n      forEach: [2020, 2021, twenty-two]\n      params: {year: \"${{ item }}\"}\n");
  const auto path = dir.write("wf.yaml", text);
  try {
    krdc::workflow::load_workflow(path);
    FAIL("expected the third item to be refused");
  } catch (const krdc::InvalidInput& e) {
    CHECK(std::string(e.what()).find("step \"s[2]\" param \"year\": expects int") != std::string::npos);
  }
}

TEST_CASE("scatter: 1000 items validate and expand quickly (the figure is printed, not gated)") {
  std::string items;
  for (int k = 0; k < 1000; ++k) items += (k ? ", " : "") + std::to_string(2000 + k);
  const auto t0 = std::chrono::steady_clock::now();
  const auto wf = load_workflow_text(
      workflow_yaml(sh_step("s", "true", "      forEach: [" + items + "]\n      params: {v: \"${{ item }}\"}\n")),
      "wf.yaml");
  const auto none = [](const krdc::workflow::Reference&) -> std::optional<nlohmann::json> { return std::nullopt; };
  const auto instances = krdc::workflow::expand(wf.steps[0], krdc::workflow::resolve_items(wf.steps[0], none));
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("1000-item scatter: load + validate + expand in " << ms << " ms");
  REQUIRE(instances.size() == 1000);
  CHECK(instances[999].name == "s[999]");
  CHECK(instances[999].item == 2999);
}

TEST_CASE("plan: a step skipped by its condition skips its dependents, except those with onSkipped: run") {
  const auto wf = load_workflow_text(
      workflow_yaml(sh_step("check", "true") + sh_step("a", "true", "      needs: [check]\n      when: 'false'\n") +
                    sh_step("b", "true", "      needs: [a]\n") +
                    sh_step("c", "true", "      needs: [b]\n") +
                    sh_step("report", "true", "      needs: [a, check]\n      onSkipped: run\n")),
      "wf.yaml");
  krdc::plan::Plan p(wf);
  CHECK(p.take_ready() == std::vector<size_t>{0});
  p.finish(0, true);
  CHECK(p.take_ready() == std::vector<size_t>{1});
  CHECK(p.skip(1) == std::vector<size_t>{2, 3});  // b, and c through b
  CHECK(p.take_ready() == std::vector<size_t>{4});  // report opted in
  p.finish(4, true);
  CHECK(p.done());
}

TEST_CASE("scatter run: 1 and 3 items; gather keeps item order whatever order instances finish in") {
  Harness h;
  h.jobs = 3;
  // Later items finish first: the gather must still be in item order.
  const auto out = h.run(workflow_yaml(
      sh_step("s", "v=${1#--v=}; sleep 0.$((4 - v)); printf '{\"v\": %s}' \"$v\" > \"$KRDC_OUTPUTS\"",
              "      forEach: [1, 2, 3]\n      params: {v: \"${{ item }}\"}\n") +
      sh_step("one", echo_v(), "      forEach: [solo]\n      params: {v: \"${{ item }}\"}\n") +
      sh_step("g", "printf '{\"got\": \"%s\"}' \"$*\" > \"$KRDC_OUTPUTS\"",
              "      needs: [s, one]\n      params: {a: \"${{ steps.s.outputs.v }}\", b: \"${{ steps.one.outputs.v }}\"}\n")));
  CHECK(out.summary.status == "succeeded");
  CHECK(out.summary.succeeded == 5);
  CHECK(out.end_of("s[0]")["item"] == 1);
  CHECK(out.end_of("s[2]")["instanceOf"] == "s");
  CHECK(out.end_of("s[2]")["index"] == 2);
  CHECK(gathered(out, "s")["outputs"]["v"] == nlohmann::json::array({1, 2, 3}));
  CHECK(gathered(out, "s")["instances"] == 3);
  CHECK(gathered(out, "one")["outputs"]["v"] == nlohmann::json::array({"solo"}));
  // The downstream step received the gathered lists (a list renders as a repeated flag for an
  // app without a declared interface).
  CHECK(out.end_of("g")["outputs"]["got"] == "--a=1 --a=2 --a=3 --b=solo");
}

TEST_CASE("scatter run: a failing instance fails the step; independent instances finish; dependents skip") {
  Harness h;
  h.jobs = 2;
  const auto fail_file = h.dir.write("fail", "b\n");
  const auto out = h.run(workflow_yaml(
      sh_step("s", echo_v(fail_file), "      forEach: [a, b, c, d]\n      params: {v: \"${{ item }}\"}\n") +
      sh_step("after", "true", "      needs: [s]\n")));
  CHECK(out.summary.status == "failed");
  CHECK(out.end_of("s[1]")["status"] == "failed");
  for (const char* ok : {"s[0]", "s[2]", "s[3]"}) CHECK(out.end_of(ok)["status"] == "succeeded");
  CHECK(gathered(out, "s")["status"] == "failed");
  CHECK(gathered(out, "s")["succeededInstances"] == 3);
  CHECK(out.end_of("after")["status"] == "skipped");
  CHECK(out.end_of("after")["reason"] == "upstream step \"s\" failed");
}

TEST_CASE("scatter run: resume reruns only the failed instances, then the gather") {
  Harness h;
  const auto fail_file = h.dir.write("fail", "b\nc\n");
  const auto log = h.dir / "ran";
  const std::string script = "echo \"$1\" >> " + log + "; " + echo_v(fail_file);
  const std::string text = workflow_yaml(
      sh_step("s", script, "      forEach: [a, b, c, d]\n      params: {v: \"${{ item }}\"}\n") +
      sh_step("g", "printf '{\"all\": \"%s\"}' \"$*\" > \"$KRDC_OUTPUTS\"",
              "      needs: [s]\n      params: {vs: \"${{ steps.s.outputs.v }}\"}\n"));
  const auto first = h.run(text);
  CHECK(first.summary.status == "failed");
  h.dir.write("fail", "");
  h.dir.write("ran", "");
  const auto index = krdc::runner::ResumeIndex(krdc::runner::read_result_file(h.results()));
  h.resume = &index;
  const auto second = h.run(text);
  CHECK(second.summary.status == "succeeded");
  CHECK(second.end_of("s[0]")["resumed"] == true);
  CHECK(second.end_of("s[3]")["resumed"] == true);
  CHECK_FALSE(second.end_of("s[1]").contains("resumed"));
  const std::string ran = krdc::test::read_file(log);
  CHECK(ran.find("--v=b") != std::string::npos);
  CHECK(ran.find("--v=c") != std::string::npos);
  CHECK(ran.find("--v=a") == std::string::npos);  // only the failed instances ran again
  CHECK(second.end_of("g")["outputs"]["all"] == "--vs=a --vs=b --vs=c --vs=d");
}

TEST_CASE("scatter run: forEach over an upstream list output, expanded when that step is done") {
  Harness h;
  const auto out = h.run(workflow_yaml(
      sh_step("list", "printf '{\"files\": [\"x.nc\", \"y y.nc\"]}' > \"$KRDC_OUTPUTS\"") +
      sh_step("each", echo_v(), "      needs: [list]\n      forEach: ${{ steps.list.outputs.files }}\n      params: {v: \"${{ item }}\"}\n") +
      sh_step("empty", "printf '{\"none\": []}' > \"$KRDC_OUTPUTS\"") +
      sh_step("zero", "exit 9", "      needs: [empty]\n      forEach: ${{ steps.empty.outputs.none }}\n") +
      sh_step("bad", "true", "      needs: [list]\n      forEach: ${{ steps.list.outputs.nope }}\n")));
  CHECK(out.end_of("each[1]")["outputs"]["v"] == "y y.nc");
  CHECK(gathered(out, "each")["outputs"]["v"] == nlohmann::json::array({"x.nc", "y y.nc"}));
  CHECK(gathered(out, "zero")["status"] == "succeeded");  // nothing to run is not a failure
  CHECK(gathered(out, "zero")["instances"] == 0);
  CHECK(out.end_of("bad")["status"] == "failed");
  CHECK(out.end_of("bad")["reason"].get<std::string>().find("${{ steps.list.outputs.nope }} has no value") !=
        std::string::npos);
}

TEST_CASE("scatter run: a matrix runs every combination with item fields") {
  Harness h;
  h.jobs = 4;
  const auto out = h.run(workflow_yaml(
      sh_step("m", "printf '{\"c\": \"%s %s\"}' \"$1\" \"$2\" > \"$KRDC_OUTPUTS\"",
              "      matrix: {region: \"${{ params.regions }}\", year: [2021, 2022]}\n"
              "      params: {r: \"${{ item.region }}\", y: \"${{ item.year }}\"}\n"),
      "  params: {regions: [eu, asia]}\n"));
  CHECK(out.summary.succeeded == 4);
  CHECK(gathered(out, "m")["outputs"]["c"] ==
        nlohmann::json::array({"--r=eu --y=2021", "--r=eu --y=2022", "--r=asia --y=2021", "--r=asia --y=2022"}));
  CHECK(out.end_of("m[2]")["item"] == nlohmann::json({{"region", "asia"}, {"year", 2021}}));
}

TEST_CASE("scatter run: 1000 instances run, each recorded, gathered in order") {
  Harness h;
  h.jobs = 8;
  std::string items;
  for (int k = 0; k < 1000; ++k) items += (k ? ", " : "") + std::to_string(k);
  const auto out = h.run(workflow_yaml(sh_step("s", "printf '{\"v\": %s}' \"${1#--v=}\" > \"$KRDC_OUTPUTS\"",
                                               "      forEach: [" + items + "]\n      params: {v: \"${{ item }}\"}\n")));
  CHECK(out.summary.status == "succeeded");
  CHECK(out.summary.succeeded == 1000);
  const auto g = gathered(out, "s");
  REQUIRE(g["outputs"]["v"].size() == 1000);
  bool in_order = true;
  for (int k = 0; k < 1000; ++k) in_order &= g["outputs"]["v"][k] == k;
  CHECK(in_order);
  const auto ends = step_names(out, "end");
  CHECK(std::set<std::string>(ends.begin(), ends.end()).size() == 1000);
}

TEST_CASE("when: true runs, false skips (condition) and skips dependents unless they opt in") {
  Harness h;
  const auto out = h.run(workflow_yaml(
      sh_step("check", "printf '{\"ok\": false, \"n\": 7}' > \"$KRDC_OUTPUTS\"") +
      sh_step("yes", "true", "      needs: [check]\n      when: ${{ steps.check.outputs.n > 5 && params.mode == 'full' }}\n") +
      sh_step("no", "true", "      needs: [check]\n      when: ${{ steps.check.outputs.ok }}\n") +
      sh_step("after-no", "true", "      needs: [no]\n") +
      sh_step("cleanup", "true", "      needs: [no]\n      onSkipped: run\n") +
      sh_step("broken", "true", "      needs: [check]\n      when: ${{ steps.check.outputs.n }}\n"),
      "  params: {mode: full}\n"));
  CHECK(out.end_of("yes")["status"] == "succeeded");
  CHECK(out.end_of("no")["status"] == "skipped");
  CHECK(out.end_of("no")["reason"] == "condition");
  CHECK(out.end_of("after-no")["status"] == "skipped");
  CHECK(out.end_of("after-no")["reason"] == "upstream step \"no\" was skipped (condition)");
  CHECK(out.end_of("cleanup")["status"] == "succeeded");
  CHECK(out.end_of("broken")["status"] == "failed");
  CHECK(out.end_of("broken")["reason"].get<std::string>().find("when: ${{ steps.check.outputs.n }} is number 7") !=
        std::string::npos);
  CHECK(out.summary.status == "failed");  // only because of `broken`
}

TEST_CASE("when: a condition on a scattered step decides for all its instances") {
  Harness h;
  const auto out = h.run(workflow_yaml(
      sh_step("s", "true", "      forEach: [1, 2]\n      when: ${{ params.go }}\n"), "  params: {go: false}\n"));
  CHECK(out.summary.status == "succeeded");
  CHECK(out.end_of("s")["status"] == "skipped");
  CHECK(out.count("start", "s[0]") == 0);
}

TEST_CASE("scatter run: --fail-fast records the instances it never started, and the step ends failed") {
  Harness h;
  h.jobs = 1;
  h.fail_fast = true;
  const auto fail_file = h.dir.write("fail", "a\n");
  const auto out = h.run(workflow_yaml(
      sh_step("s", echo_v(fail_file), "      forEach: [a, b, c]\n      params: {v: \"${{ item }}\"}\n") +
      sh_step("after", "true", "      needs: [s]\n")));
  CHECK(out.summary.status == "failed");
  CHECK(out.end_of("s[0]")["status"] == "failed");
  CHECK(out.end_of("s[1]")["status"] == "skipped");
  CHECK(out.end_of("s[2]")["reason"] == "--fail-fast: an earlier step failed");
  CHECK(out.count("start", "s[1]") == 0);
  CHECK(gathered(out, "s")["status"] == "failed");
  CHECK(out.end_of("after")["status"] == "skipped");
  // Every unit and step ended exactly once.
  for (const char* name : {"s[0]", "s[1]", "s[2]", "after"}) CHECK(out.count("end", name) == 1);
}

TEST_CASE("scatter run: the report shows a scattered step by its gathered record, and each instance") {
  Harness h;
  h.run(workflow_yaml(sh_step("s", echo_v(), "      forEach: [a, b]\n      params: {v: \"${{ item }}\"}\n")));
  const auto summary = krdc::report::summarize_run(krdc::runner::read_result_file(h.results()), "");
  std::map<std::string, std::string> status;
  for (const auto& step : summary.steps) status[step.name] = step.status;
  CHECK(status["s"] == "succeeded");  // not "lost": a scattered step has no end record of its own
  CHECK(status["s[0]"] == "succeeded");
  CHECK(status["s[1]"] == "succeeded");
}
