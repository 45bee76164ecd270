// Workflow params from outside the file: -p typed by each param's default, --params-file read
// strictly, -p winning over the file, and the typed values a run recorded for `krdc attach`.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "krdc/runner/result_reader.h"
#include "krdc/util/child_process.h"
#include "krdc/util/env.h"
#include "krdc/workflow/loader.h"
#include "support/run_krdc.h"
#include "support/temp_dir.h"

using nlohmann::json;
namespace wf = krdc::workflow;

namespace {

// spec.params of every kind, and one step (no interface) that uses them all.
const std::string kWorkflow = R"(apiVersion: krdc/v1
kind: Workflow
metadata: {name: typed}
spec:
  params:
    b: false
    years: [2020]
    s: text
    n: 1
    ratio: 0.5
    who:
  steps:
    - name: echo
      app: {command: [python3, echo.py]}
      params: {b: "${{ params.b }}", years: "${{ params.years }}", s: "${{ params.s }}", n: "${{ params.n }}",
               ratio: "${{ params.ratio }}", who: "${{ params.who }}"}
)";

wf::Workflow load(const std::map<std::string, std::string>& p, const std::string& params_file = "",
                  const json& values = json::object()) {
  wf::LoadOptions options;
  options.params = p;
  options.params_file = params_file;
  options.values = values;
  return wf::load_workflow_text(kWorkflow, "wf.yaml", options);
}

std::string error_of(const std::map<std::string, std::string>& p, const std::string& params_file = "") {
  try {
    load(p, params_file);
  } catch (const krdc::InvalidInput& e) {
    return std::string(e.what()) + " | hint: " + e.hint();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("-p values are typed by the param's default") {
  const auto w = load({{"b", "true"}, {"years", "[2021, 2022]"}, {"s", "3.10"}, {"n", "0777"}, {"ratio", "1e5"},
                       {"who", "Ada"}});
  CHECK(w.params["b"] == true);
  CHECK(w.params["years"] == json::array({2021, 2022}));
  CHECK(w.params["s"] == "3.10");     // a str param takes the text verbatim
  CHECK(w.params["n"] == "0777");     // an int, kept as written (scalar_text.h)
  CHECK(w.params["ratio"] == "1e5");  // a float, kept as written
  CHECK(w.params["who"] == "Ada");
  // A str param needs no quoting, whatever YAML would make of the text.
  const auto odd = load({{"s", "a: b # [c"}, {"who", "x"}});
  CHECK(odd.params["s"] == "a: b # [c");
  // An int beyond 64 bits is kept, every digit (Python's int takes it).
  CHECK(load({{"n", "123456789012345678901234567890"}, {"who", "x"}}).params["n"] == "123456789012345678901234567890");
  // A param without a default takes the YAML value the text is.
  CHECK(load({{"who", "[1, 2]"}}).params["who"] == json::array({1, 2}));
  CHECK(load({{"who", "3.10"}}).params["who"] == "3.10");
}

TEST_CASE("-p values of the wrong type are refused with the type, the value and an example") {
  CHECK(error_of({{"b", "maybe"}, {"who", "x"}}) ==
        "-p b: expects bool (the type of its default), got \"maybe\" | hint: give true or false, e.g. -p 'b=true'");
  CHECK(error_of({{"n", "4.5"}, {"who", "x"}}).find("-p n: expects int (the type of its default), got 4.5") == 0);
  CHECK(error_of({{"ratio", "1e400"}, {"who", "x"}}).find("-p ratio: expects float") == 0);  // would be inf
  CHECK(error_of({{"years", "2021"}, {"who", "x"}}).find("-p years: expects list (the type of its default), got 2021 | "
                                                        "hint: give a list in brackets, e.g. -p 'years=[2021, 2022]'") == 0);
  CHECK(error_of({{"years", "[2021"}, {"who", "x"}}).find("-p years: \"[2021\" is not a YAML value (-p years:1:") == 0);
  CHECK(error_of({{"b", ""}, {"who", "x"}}).find("-p b: has no value") == 0);
  CHECK(error_of({{"nope", "1"}, {"who", "x"}}).find("-p nope: the workflow declares no param \"nope\"") == 0);
  CHECK(error_of({}).find("workflow param \"who\" is required") != std::string::npos);
}

TEST_CASE("--params-file: a strict YAML mapping, typed like -p, with -p winning over it") {
  krdc::test::TempDir dir;
  const auto ok = dir.write("p.yaml", "b: true\nyears: [2021, 2022]\ns: 3.10\nwho: Ada\nn: 7\n");
  const auto w = load({{"n", "8"}}, ok);
  CHECK(w.params["b"] == true);
  CHECK(w.params["years"] == json::array({2021, 2022}));
  CHECK(w.params["s"] == "3.10");  // a plain 3.10 stays its text
  CHECK(w.params["who"] == "Ada");
  CHECK(w.params["n"] == 8);  // -p wins
  const auto empty = load({{"who", "x"}}, dir.write("empty.yaml", "# nothing\n"));
  CHECK(empty.params["b"] == false);  // an empty file sets nothing
}

TEST_CASE("--params-file errors carry file:line:column") {
  krdc::test::TempDir dir;
  const auto at = [&](const std::string& name, const std::string& text) {
    return error_of({{"who", "x"}}, dir.write(name, text));
  };
  CHECK(at("syntax.yaml", "b: true\nyears: [2021\n").find(dir / "syntax.yaml:3:1: YAML syntax error") == 0);
  CHECK(at("type.yaml", "b: true\nn: many\n") ==
        dir / "type.yaml:2:4: param \"n\": expects int (the type of its default), got \"many\" | hint: give a whole "
              "number, e.g. n: 2024");
  CHECK(at("unknown.yaml", "b: true\nyear: 2024\n").find(dir / "unknown.yaml:2:1: params file: the workflow declares "
                                                              "no param \"year\"") == 0);
  CHECK(at("dup.yaml", "n: 1\nn: 2\n").find(dir / "dup.yaml:2:1: duplicate key \"n\"") == 0);
  CHECK(at("list.yaml", "- n\n").find(dir / "list.yaml:1:1: a params file must be a mapping") == 0);
  CHECK(at("str.yaml", "s: true\n").find("param \"s\": expects str (the type of its default), got true") !=
        std::string::npos);
}

TEST_CASE("recorded params (krdc attach) are applied as typed, never re-read as text") {
  const json recorded = {{"b", true}, {"years", {2021, 2022}}, {"s", "[not a list"}, {"n", "0777"}, {"ratio", 0.5},
                         {"who", "true"}};
  const auto w = load({}, "", recorded);
  CHECK(w.params == recorded);  // "true" stays a string for the param without a default
  CHECK_THROWS_WITH_AS(load({}, "", {{"who", "x"}, {"n", "many"}}),
                       doctest::Contains("recorded param n: expects int"), krdc::InvalidInput);
}

namespace {

using krdc::test::run_krdc;

// Declares its argparse interface to krdc, so krdc checks and renders every typed value.
const std::string kTypedApp = R"(apiVersion: krdc/v1
kind: App
metadata: {name: echo}
spec:
  command: [python3, main.py]
  params:
    - {name: b, type: bool}
    - {name: years, type: int, nargs: "*"}
    - {name: s, type: str}
    - {name: n, type: int}
    - {name: ratio, type: float}
    - {name: who, type: str}
  outputs: [b, years, s, n, ratio, who]
)";

const std::string kTypedMain = R"(import argparse, json, os
p = argparse.ArgumentParser()
p.add_argument("--b", action="store_true"); p.add_argument("--years", type=int, nargs="*")
p.add_argument("--s"); p.add_argument("--n", type=int); p.add_argument("--ratio", type=float); p.add_argument("--who")
json.dump(vars(p.parse_args()), open(os.environ["KRDC_OUTPUTS"], "w"), ensure_ascii=False)
)";

}  // namespace

TEST_CASE("krdc run: typed -p and --params-file reach a real argparse app; validate refuses bad ones (exit 2)") {
  krdc::test::TempDir dir;
  std::string text = kWorkflow;
  const std::string inline_app = "{command: [python3, echo.py]}";
  text.replace(text.find(inline_app), inline_app.size(), "apps/echo");
  dir.write("wf.yaml", text);
  dir.write("apps/echo/krdc-app.yaml", kTypedApp);
  dir.write("apps/echo/main.py", kTypedMain);
  // who: the string "true" (quoted), which a re-read of its text would turn into a bool.
  dir.write("p.yaml", "years: [2021, 2022]\nn: 123456789012345678901234567890\nwho: \"true\"\ns: from the file\n");
  const auto r = run_krdc(dir, {"run", "wf.yaml", "--params-file", "p.yaml", "-p", "b=true", "-p", "s=3.10", "-p",
                                "ratio=1e5", "--results", "r.jsonl"});
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto file = krdc::runner::read_result_file(dir / "r.jsonl");
  json outputs;
  for (const auto& rec : file.records) {
    if (rec.value("step", "") == "echo" && rec.value("event", "") == "end") outputs = rec["outputs"];
    if (rec.value("type", "") == "run" && rec.value("event", "") == "start") {
      CHECK(rec["params"]["s"] == "3.10");  // the header records the typed values attach re-applies
      CHECK(rec["params"]["years"] == json::array({2021, 2022}));
    }
  }
  CHECK(outputs["b"] == true);
  CHECK(outputs["years"] == json::array({2021, 2022}));
  CHECK(outputs["s"] == "3.10");
  CHECK(outputs["n"] == "123456789012345678901234567890");
  CHECK(outputs["ratio"] == 100000.0);
  CHECK(outputs["who"] == "true");

  // attach re-applies the recorded typed params: the same argv, so the step is reused, not rerun.
  const auto attached = run_krdc(dir, {"attach", "r.jsonl"});
  INFO(attached.output);
  CHECK(attached.code == 0);
  const auto after = krdc::runner::read_result_file(dir / "r.jsonl");
  REQUIRE_FALSE(after.records.empty());
  const json last_end = [&] {
    json found;
    for (const auto& rec : after.records) {
      if (rec.value("step", "") == "echo" && rec.value("event", "") == "end") found = rec;
    }
    return found;
  }();
  CHECK(last_end.value("resumed", false));
  CHECK(last_end["outputs"] == outputs);

  const auto bad = run_krdc(dir, {"validate", "wf.yaml", "-p", "who=x", "-p", "b=yes"});
  CHECK(bad.code == 2);
  CHECK(bad.output.find("-p b: expects bool (the type of its default), got \"yes\"") != std::string::npos);
  dir.write("bad.yaml", "who: x\nyears: [2021,\n");
  const auto bad_file = run_krdc(dir, {"validate", "wf.yaml", "--params-file", "bad.yaml"});
  CHECK(bad_file.code == 2);
  CHECK(bad_file.output.find("bad.yaml:3:1: YAML syntax error") != std::string::npos);
}
