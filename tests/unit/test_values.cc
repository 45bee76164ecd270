// Exact values (docs/architecture.md, "Values"): what a workflow, -p, a params file or an
// upstream step gives an app reaches a real python3 argparse app as written, and the result
// file records the value the next step receives. Declared outputs are a contract.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "krdc/exec/outputs.h"
#include "krdc/util/child_process.h"
#include "krdc/util/env.h"
#include "krdc/workflow/app.h"
#include "krdc/workflow/loader.h"
#include "krdc/workflow/params.h"
#include "krdc/workflow/scalar_text.h"
#include "support/run_harness.h"

using krdc::test::Harness;
using krdc::test::workflow_yaml;
using nlohmann::json;
namespace wf = krdc::workflow;

namespace {

// A real argparse app: its arguments and their types come from the JSON file $ARGSPEC
// ({"name": "str" | "int" | "float" | "bool" | "list:int" ...}); it writes what argparse parsed
// as its outputs, so a test compares what the app saw with what the workflow said.
constexpr const char* kEchoApp = R"PY(
import argparse, json, os
spec = json.load(open(os.environ["ARGSPEC"]))
types = {"str": str, "int": int, "float": float}
p = argparse.ArgumentParser()
for name, t in spec.items():
    if t == "bool": p.add_argument("--" + name, action="store_true")
    elif t.startswith("list:"): p.add_argument("--" + name, type=types[t[5:]], nargs="*")
    else: p.add_argument("--" + name, type=types[t])
args = {k: v for k, v in vars(p.parse_args()).items() if v is not None}
json.dump(args, open(os.environ["KRDC_OUTPUTS"], "w"), ensure_ascii=False)
)PY";

// An inline app step running echo.py with `spec` as its argparse interface; `declared` also
// declares it to krdc (otherwise krdc knows no interface and renders --key=value).
std::string echo_step(Harness& h, const std::string& name, const std::map<std::string, std::string>& spec,
                      const std::string& params, bool declared, const std::string& extra = "") {
  h.dir.write("echo.py", kEchoApp);
  json argspec = json::object();
  std::string interface;
  for (const auto& [param, type] : spec) {
    argspec[param] = type;
    const bool list = type.rfind("list:", 0) == 0;
    interface += "\n          - {name: " + param + ", type: " + (list ? type.substr(5) : type) + (list ? ", nargs: \"*\"" : "") + "}";
  }
  h.dir.write(name + ".argspec.json", argspec.dump());
  return "    - name: " + name + "\n      app:\n        command: [python3, echo.py]\n" +
         (declared ? "        params:" + interface + "\n" : "") + "      env: {ARGSPEC: " + name + ".argspec.json}\n" +
         "      params: " + params + "\n" + extra;
}

// A step running a python3 one-file app (no declared interface).
std::string py_step(Harness& h, const std::string& name, const std::string& code, const std::string& app_extra = "",
                    const std::string& extra = "") {
  h.dir.write(name + ".py", code);
  return "    - name: " + name + "\n      app:\n        command: [python3, " + name + ".py]\n" + app_extra + extra;
}

}  // namespace

TEST_CASE("exact values: every scalar reaches a real argparse app as written, declared interface or not") {
  // str: the text as written, whatever YAML would make of it as a number or a word.
  const std::map<std::string, std::string> strs = {
      {"s_dec", "3.10"},  {"s_oct", "0777"},  {"s_exp", "1e5"},     {"s_yes", "yes"},
      {"s_big", "12345678901234567890"},      {"s_huge", "123456789012345678901234567890"},
      {"s_neg", "-7"},    {"s_negf", "-0.5"}, {"s_one", "1.0"},     {"s_plus", "+5"},
      {"s_dot", ".5"},    {"s_uni", "한국 🌊 ñ"}, {"s_int", "2021"}, {"s_float", "0.25"}};
  std::map<std::string, std::string> spec;
  std::string params = "{";
  for (const auto& [name, text] : strs) {
    spec[name] = "str";
    params += name + ": " + text + ", ";
  }
  // int and float: checked as numbers, rendered as written, so nothing is rounded on the way.
  std::map<std::string, std::string> typed = spec;
  typed.insert({{"f_dec", "float"}, {"f_exp", "float"}, {"f_neg", "float"}, {"n_oct", "int"}, {"n_big", "int"},
                {"n_neg", "int"}});
  const std::string typed_params = params +
                                   "f_dec: 3.10, f_exp: 1e5, f_neg: -2.5e-3, n_oct: 0777, "
                                   "n_big: 123456789012345678901234567890, n_neg: -42}";
  params.resize(params.size() - 2);
  params += "}";

  Harness h;
  const auto out = h.run(workflow_yaml(echo_step(h, "typed", typed, typed_params, true) +
                                       echo_step(h, "untyped", spec, params, false)));
  REQUIRE(out.summary.status == "succeeded");
  for (const char* step : {"typed", "untyped"}) {
    CAPTURE(step);
    const json got = out.end_of(step)["outputs"];
    for (const auto& entry : strs) {
      const auto& name = entry.first;  // not a structured binding: CAPTURE's lambda (clang 14)
      CAPTURE(name);
      CHECK(got[name] == entry.second);
    }
    const json args = out.end_of(step)["args"];
    CHECK(std::find(args.begin(), args.end(), "--s_dec=3.10") != args.end());
    CHECK(std::find(args.begin(), args.end(), "--s_oct=0777") != args.end());
  }
  const json got = out.end_of("typed")["outputs"];
  CHECK(got["f_dec"] == 3.1);
  CHECK(got["f_exp"] == 100000.0);
  CHECK(got["f_neg"] == -0.0025);
  CHECK(got["n_oct"] == 777);
  CHECK(got["n_neg"] == -42);
  // Python's int has every digit; parse_outputs keeps an integer beyond 64 bits as its digits.
  CHECK(got["n_big"] == "123456789012345678901234567890");
  const json args = out.end_of("typed")["args"];
  CHECK(std::find(args.begin(), args.end(), "--n_big=123456789012345678901234567890") != args.end());
  CHECK(std::find(args.begin(), args.end(), "--f_exp=1e5") != args.end());
}

TEST_CASE("the exact-values convention: numbers stay JSON numbers only when they print back as written") {
  CHECK(wf::number_value("2021", wf::NumberKind::kInt) == 2021);
  CHECK(wf::number_value("-3", wf::NumberKind::kInt) == -3);
  CHECK(wf::number_value("18446744073709551615", wf::NumberKind::kInt) == 18446744073709551615ull);
  CHECK(wf::number_value("18446744073709551616", wf::NumberKind::kInt) == "18446744073709551616");
  CHECK(wf::number_value("0777", wf::NumberKind::kInt) == "0777");
  CHECK(wf::number_value("-0", wf::NumberKind::kInt) == "-0");
  CHECK(wf::number_value("0.25", wf::NumberKind::kFloat) == 0.25);
  CHECK(wf::number_value("1.0", wf::NumberKind::kFloat) == 1.0);
  CHECK(wf::number_value("3.10", wf::NumberKind::kFloat) == "3.10");
  CHECK(wf::number_value("1e5", wf::NumberKind::kFloat) == "1e5");
  CHECK(wf::number_value("0.1", wf::NumberKind::kFloat) == 0.1);
  CHECK(wf::scalar_text(json(2.0)) == "2.0");
  CHECK(wf::scalar_text(json(1e16)) == "1e+16");  // as Python's repr writes it
  CHECK(wf::is_int_text("+5"));
  CHECK(wf::is_int_text("-123456789012345678901234567890"));
  CHECK_FALSE(wf::is_int_text("1e3"));
  CHECK_FALSE(wf::is_int_text("0x1F"));  // Python's int() would refuse it
  CHECK(wf::is_float_text("5."));
  CHECK(wf::is_float_text(".5e-3"));
  CHECK_FALSE(wf::is_float_text("1e400"));  // inf for Python: refused rather than passed on
  CHECK_FALSE(wf::is_float_text(".inf"));
  CHECK_FALSE(wf::is_float_text("1e"));
  CHECK_FALSE(wf::is_float_text("."));
}

TEST_CASE("choices compare numbers as argparse does, after conversion: 0.50 is the choice 0.5") {
  wf::ParamSpec ratio;
  ratio.name = "ratio";
  ratio.flag = "--ratio";
  ratio.type = wf::ParamType::kFloat;
  ratio.choices = {"0.50", 1.0};
  CHECK_FALSE(wf::check_param(ratio, 0.5));
  CHECK_FALSE(wf::check_param(ratio, "1.00"));
  CHECK(wf::check_param(ratio, 0.25));
  wf::ParamSpec n = ratio;
  n.type = wf::ParamType::kInt;
  n.choices = {"007", json("123456789012345678901234567890")};
  CHECK_FALSE(wf::check_param(n, 7));
  CHECK_FALSE(wf::check_param(n, "+123456789012345678901234567890"));
  CHECK(wf::check_param(n, 8));
}

TEST_CASE("outputs keep integers beyond 64 bits as their digits; everything else as JSON says") {
  std::string error;
  const auto out = krdc::exec::parse_outputs(
      R"({"big": 123456789012345678901234567890, "neg": -9223372036854775809, "u64": 18446744073709551615,
          "f": 0.5, "e": 1e-7, "nested": [99999999999999999999, {"x": 1}]})",
      error);
  REQUIRE(out);
  CHECK((*out)["big"] == "123456789012345678901234567890");
  CHECK((*out)["neg"] == "-9223372036854775809");
  CHECK((*out)["u64"] == 18446744073709551615ull);
  CHECK((*out)["f"] == 0.5);
  CHECK((*out)["e"] == 1e-7);
  CHECK((*out)["nested"] == json::array({"99999999999999999999", {{"x", 1}}}));
  CHECK_FALSE(krdc::exec::parse_outputs("{\"inf\": 1e400}", error));  // no double holds it: refused, not rounded
  CHECK_FALSE(krdc::exec::parse_outputs("{\"a\": 1", error));
  CHECK(error.find("not valid JSON") != std::string::npos);
}

TEST_CASE("big-integer outputs pass downstream exactly, and the result file records what the next step got") {
  Harness h;
  const auto out = h.run(workflow_yaml(
      py_step(h, "produce",
              "import os\nopen(os.environ['KRDC_OUTPUTS'], 'w').write("
              "'{\"big\": 123456789012345678901234567890, \"neg\": -98765432109876543210, \"n\": 5}')\n") +
      echo_step(h, "consume", {{"big", "int"}, {"neg", "str"}, {"n", "int"}},
                "{big: \"${{ steps.produce.outputs.big }}\", neg: \"${{ steps.produce.outputs.neg }}\", "
                "n: \"${{ steps.produce.outputs.n }}\"}",
                true, "      needs: [produce]\n")));
  REQUIRE(out.summary.status == "succeeded");
  CHECK(out.end_of("produce")["outputs"]["big"] == "123456789012345678901234567890");
  CHECK(out.end_of("produce")["outputs"]["neg"] == "-98765432109876543210");
  const json got = out.end_of("consume")["outputs"];
  CHECK(got["big"] == "123456789012345678901234567890");  // argparse's int, back as digits
  CHECK(got["neg"] == "-98765432109876543210");
  CHECK(got["n"] == 5);
}

TEST_CASE("a NUL in an output bound for argv fails the consumer, naming the step and param; nothing is cut") {
  Harness h;
  const auto out = h.run(workflow_yaml(
      py_step(h, "produce", "import json, os\njson.dump({'x': 'a\\u0000b'}, open(os.environ['KRDC_OUTPUTS'], 'w'))\n") +
      echo_step(h, "consume", {{"x", "str"}}, "{x: \"${{ steps.produce.outputs.x }}\"}", true,
                "      needs: [produce]\n")));
  CHECK(out.end_of("produce")["outputs"]["x"] == std::string("a\0b", 3));  // recorded in full
  const json c = out.end_of("consume");
  CHECK(c["status"] == "failed");
  CHECK(c["attempts"] == 0);
  const std::string reason = c["reason"];
  CHECK(reason.find("step \"consume\"") != std::string::npos);
  CHECK(reason.find("param \"x\"") != std::string::npos);
  CHECK(reason.find("NUL byte (byte 2)") != std::string::npos);
}

TEST_CASE("render_args refuses a value argv would cut or mangle, apps without an interface too") {
  wf::App app;
  CHECK_THROWS_WITH_AS(wf::render_args(app, {{"x", std::string("a\0b", 3)}}),
                       doctest::Contains("param \"x\": the value holds a NUL byte"), krdc::InvalidInput);
  CHECK_THROWS_WITH_AS(wf::render_args(app, {{"y", json::array({"ok", "caf\xe9"})}}),
                       doctest::Contains("param \"y\": the value is not valid UTF-8 (byte 4)"), krdc::InvalidInput);
}

TEST_CASE("a declared output the app never writes fails the step, naming it; required: false relaxes it; no retry") {
  const std::string writes_one = "import os\nopen(os.environ['KRDC_OUTPUTS'], 'w').write('{\"path\": \"/x\"}')\n";
  Harness h;
  const auto out = h.run(workflow_yaml(
      py_step(h, "partial", writes_one, "        outputs: [path, {name: count}, {name: size}]\n",
              "      retries: 2\n      retryBackoff: 10ms\n") +
      py_step(h, "after", "pass\n", "", "      needs: [partial]\n") +
      py_step(h, "relaxed", writes_one, "        outputs: [path, {name: count, required: false}]\n")));
  const json partial = out.end_of("partial");
  CHECK(partial["status"] == "failed");
  CHECK(partial["exitCode"] == 0);
  CHECK(partial["attempts"] == 1);  // deterministic: not retried
  CHECK(out.count("retry", "partial") == 0);
  const std::string reason = partial["reason"];
  CHECK(reason.find("did not write its declared outputs count, size") != std::string::npos);
  CHECK(reason.find("required: false") != std::string::npos);
  CHECK(partial["outputs"] == json{{"path", "/x"}});
  CHECK(out.end_of("after")["status"] == "skipped");
  CHECK(out.end_of("relaxed")["status"] == "succeeded");
  CHECK(out.summary.status == "failed");
  CHECK(out.summary.failed == 1);
}

TEST_CASE("an output's required field must be a bool, with its position") {
  krdc::test::TempDir dir;
  const std::string text = workflow_yaml(
      "    - name: a\n      app:\n        command: [true]\n        outputs: [{name: o, required: maybe}]\n");
  CHECK_THROWS_WITH_AS(wf::load_workflow_text(text, dir / "wf.yaml"),
                       doctest::Contains("wf.yaml:9:39: step \"a\" app output \"o\" required must be true or false"),
                       krdc::InvalidInput);
}
