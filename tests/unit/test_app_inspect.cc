// `krdc app inspect` asks the real argparse (python3) for the interface.
#include <doctest/doctest.h>

#include "krdc/workflow/app_inspect.h"
#include "krdc/workflow/app_loader.h"
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
