// `krdc app inspect` asks the real argparse (python3) for the interface.
#include <doctest/doctest.h>

#include "krdc/workflow/app_inspect.h"
#include "krdc/workflow/app_loader.h"
#include "krdc/workflow/loader.h"
#include "krdc/workflow/params.h"
#include "support/temp_dir.h"

using namespace krdc::workflow;

TEST_CASE("inspect derives names, types, defaults, choices, nargs and flags from argparse") {
  krdc::test::TempDir dir;
  const auto script = dir.write("regrid/main.py", R"PY(
import argparse
p = argparse.ArgumentParser(description="regrid")
p.add_argument("input", help="input file")
p.add_argument("--resolution", type=float, default=0.5, help="degrees")
p.add_argument("--method", choices=["linear", "nearest"], default="linear")
p.add_argument("--years", type=int, nargs="+")
p.add_argument("-v", "--verbose", action="store_true")
p.add_argument("--tag", action="append")
p.add_argument("--out-dir", required=True)
args = p.parse_args()
raise SystemExit("the real work must never start during inspect")
)PY");
  InspectOptions options;
  options.outputs = {"path"};
  const App app = inspect_python_app(script, options);
  CHECK(app.name == "regrid");
  CHECK(app.command == std::vector<std::string>{"python3", "main.py"});
  REQUIRE(app.params.size() == 7);
  const auto* input = app.find_param("input");
  REQUIRE(input);
  CHECK(input->flag.empty());
  CHECK(input->required);
  const auto* res = app.find_param("resolution");
  REQUIRE(res);
  CHECK(res->type == ParamType::kFloat);
  CHECK(res->default_value == 0.5);
  CHECK(app.find_param("method")->choices.size() == 2);
  CHECK(app.find_param("years")->nargs == "+");
  CHECK(app.find_param("years")->type == ParamType::kInt);
  CHECK(app.find_param("verbose")->type == ParamType::kBool);
  CHECK(app.find_param("verbose")->flag == "--verbose");
  CHECK(app.find_param("tag")->append);
  CHECK(app.find_param("out_dir")->flag == "--out-dir");
  CHECK(app.find_param("out_dir")->required);

  // The YAML it prints loads back as the same interface.
  const auto descriptor = dir.write("regrid/krdc-app.yaml", app_to_yaml(app));
  const App loaded = load_app_descriptor(descriptor, {});
  CHECK(loaded.params.size() == app.params.size());
  CHECK(loaded.find_param("out_dir")->flag == "--out-dir");
  CHECK(loaded.find_param("resolution")->default_value == 0.5);
  CHECK(loaded.declares_output("path"));
}

TEST_CASE("a program that never calls parse_args is reported") {
  krdc::test::TempDir dir;
  const auto script = dir.write("x/main.py", "print('no argparse here')\n");
  CHECK_THROWS_WITH_AS(inspect_python_app(script, {}), doctest::Contains("could not read its argparse interface"),
                       krdc::InvalidInput);
}

namespace {

// Inspects `program` (a real argparse program), writes the descriptor `app inspect` prints and
// loads it back through the descriptor loader, as a workflow would.
struct RoundTrip {
  krdc::test::TempDir dir;
  App inspected;
  App loaded;
  explicit RoundTrip(const std::string& program) {
    const auto script = dir.write("app/main.py", program);
    inspected = inspect_python_app(script, {});
    loaded = load_app_descriptor(dir.write("app/krdc-app.yaml", app_to_yaml(inspected)), {});
  }
};

}  // namespace

TEST_CASE("inspect: action count round-trips as an int that renders the flag N times") {
  RoundTrip t(R"PY(
import argparse
p = argparse.ArgumentParser()
p.add_argument("-v", "--verbose", action="count", default=0)
p.parse_args()
)PY");
  REQUIRE(t.loaded.find_param("verbose"));
  const ParamSpec& v = *t.loaded.find_param("verbose");
  CHECK(v.count);
  CHECK(v.type == ParamType::kInt);
  CHECK(v.flag == "--verbose");
  CHECK(v.default_value == 0);
  CHECK(render_args(t.loaded, {{"verbose", 3}}) == std::vector<std::string>{"--verbose", "--verbose", "--verbose"});
  CHECK(render_args(t.loaded, {{"verbose", 0}}).empty());
  CHECK_FALSE(check_param(v, 2));
  CHECK(check_param(v, -1));
  CHECK(check_param(v, 101));
  CHECK(check_param(v, true));
}

TEST_CASE("inspect: store_const, append_const, store_true and store_false round-trip as switches named by flag") {
  RoundTrip t(R"PY(
import argparse
p = argparse.ArgumentParser()
p.add_argument("--fast", dest="mode", action="store_const", const="fast")
p.add_argument("--slow", dest="mode", action="store_const", const="slow")
p.add_argument("--with-x", dest="features", action="append_const", const="x")
p.add_argument("--with-y", dest="features", action="append_const", const="y")
p.add_argument("--dry", action="store_true")
p.add_argument("--no-cache", dest="cache", action="store_false")
p.parse_args()
)PY");
  for (const char* name : {"fast", "slow", "with-x", "with-y", "dry", "no-cache"}) {
    CAPTURE(name);
    const ParamSpec* p = t.loaded.find_param(name);
    REQUIRE(p);
    CHECK(p->type == ParamType::kBool);
    CHECK(p->flag == std::string("--") + name);
  }
  CHECK(t.loaded.params.size() == 6);
  CHECK(render_args(t.loaded, {{"slow", true}, {"with-x", true}, {"with-y", true}, {"no-cache", true}, {"dry", false}}) ==
        std::vector<std::string>{"--slow", "--with-x", "--with-y", "--no-cache"});
}

TEST_CASE("inspect: mutually exclusive groups are recorded, round-trip and are enforced at validation") {
  RoundTrip t(R"PY(
import argparse
p = argparse.ArgumentParser()
g = p.add_mutually_exclusive_group(required=True)
g.add_argument("--year", type=int)
g.add_argument("--all", action="store_true")
h = p.add_mutually_exclusive_group()
h.add_argument("--quiet", action="store_true")
h.add_argument("-v", "--verbose", action="count")
p.parse_args()
)PY");
  REQUIRE(t.loaded.exclusive.size() == 2);
  CHECK(t.loaded.exclusive[0].params == std::vector<std::string>{"year", "all"});
  CHECK(t.loaded.exclusive[0].required);
  CHECK(t.loaded.exclusive[1].params == std::vector<std::string>{"quiet", "verbose"});
  CHECK_FALSE(t.loaded.exclusive[1].required);

  auto load = [&](const std::string& params) {
    const auto wf = t.dir.write("wf.yaml", "apiVersion: krdc/v1\nkind: Workflow\nspec:\n  steps:\n"
                                           "    - {name: s, app: app, params: " + params + "}\n");
    return load_workflow(wf);
  };
  CHECK_NOTHROW(load("{year: 2024, quiet: true}"));
  CHECK_NOTHROW(load("{all: true, quiet: true, verbose: 0}"));  // a count of 0 (or false) gives nothing
  CHECK_NOTHROW(load("{year: 2024, all: false}"));
  CHECK_THROWS_WITH_AS(load("{year: 2024, all: true}"),
                       doctest::Contains("step \"s\": params \"year\" and \"all\" of app \"app\" cannot be given together"),
                       krdc::InvalidInput);
  CHECK_THROWS_WITH_AS(load("{year: 2024, quiet: true, verbose: 2}"),
                       doctest::Contains("params \"quiet\" and \"verbose\""), krdc::InvalidInput);
  CHECK_THROWS_WITH_AS(load("{quiet: true}"), doctest::Contains("needs one of the params year, all"),
                       krdc::InvalidInput);
}

TEST_CASE("inspect: --x/--no-x (BooleanOptionalAction) becomes two switches; extend a list") {
  RoundTrip t(R"PY(
import argparse
p = argparse.ArgumentParser()
p.add_argument("--color", action=argparse.BooleanOptionalAction, default=True)
p.add_argument("--files", action="extend", nargs="+")
p.add_argument("--tag", action="extend", type=str)
p.parse_args()
)PY");
  REQUIRE(t.loaded.find_param("color"));
  REQUIRE(t.loaded.find_param("no-color"));
  CHECK(render_args(t.loaded, {{"no-color", true}}) == std::vector<std::string>{"--no-color"});
  REQUIRE(t.loaded.find_param("files"));
  CHECK(t.loaded.find_param("files")->nargs == "+");
  CHECK(render_args(t.loaded, {{"files", {"a b", "c"}}}) == std::vector<std::string>{"--files", "a b", "c"});
  CHECK(t.loaded.find_param("tag")->append);
}

TEST_CASE("inspect: subparsers and custom actions are refused naming the argument") {
  krdc::test::TempDir dir;
  const auto sub = dir.write("sub/main.py", R"PY(
import argparse
p = argparse.ArgumentParser()
s = p.add_subparsers(dest="command")
s.add_parser("train")
s.add_parser("eval")
p.parse_args()
)PY");
  CHECK_THROWS_WITH_AS(inspect_python_app(sub, {}),
                       doctest::Contains("argument \"command\" is a sub-command (subparsers: train, eval)"),
                       krdc::InvalidInput);
  const auto custom = dir.write("custom/main.py", R"PY(
import argparse
class Upper(argparse.Action):
    def __call__(self, parser, ns, values, option_string=None): setattr(ns, self.dest, values.upper())
p = argparse.ArgumentParser()
p.add_argument("--name", action=Upper)
p.parse_args()
)PY");
  CHECK_THROWS_WITH_AS(inspect_python_app(custom, {}), doctest::Contains("argument \"--name\" uses action Upper"),
                       krdc::InvalidInput);
}

TEST_CASE("descriptor loader: count needs a flag and an int; exclusive groups name declared params") {
  krdc::test::TempDir dir;
  auto load = [&](const std::string& spec) {
    return load_app_descriptor(dir.write("a/krdc-app.yaml", "apiVersion: krdc/v1\nkind: App\nspec:\n" + spec), {});
  };
  CHECK_THROWS_WITH_AS(load("  command: [x]\n  params:\n    - {name: v, type: str, action: count}\n"),
                       doctest::Contains("action count takes an int"), krdc::InvalidInput);
  CHECK_THROWS_WITH_AS(load("  command: [x]\n  params:\n    - {name: v, flag: \"\", action: count}\n"),
                       doctest::Contains("action count needs a flag"), krdc::InvalidInput);
  CHECK_THROWS_WITH_AS(load("  command: [x]\n  params: [{name: a}, {name: b}]\n  exclusive: [{params: [a, c]}]\n"),
                       doctest::Contains("exclusive group names \"c\", which is not a param"), krdc::InvalidInput);
  CHECK_THROWS_WITH_AS(load("  command: [x]\n  params: [{name: a}, {name: b}]\n  exclusive: [{params: [a]}]\n"),
                       doctest::Contains("at least two params"), krdc::InvalidInput);
  CHECK_THROWS_WITH_AS(
      load("  command: [x]\n  params: [{name: a}, {name: b}]\n  exclusive: [{params: [a, b]}, {params: [b, a]}]\n"),
      doctest::Contains("param \"b\" is in two exclusive groups"), krdc::InvalidInput);
  CHECK(load("  command: [x]\n  params: [{name: a}, {name: b}]\n  exclusive: [{params: [a, b], required: true}]\n")
            .exclusive.at(0)
            .required);
}
