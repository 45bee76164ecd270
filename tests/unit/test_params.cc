// Params → argv: whatever the checker accepts must reach argparse unchanged, whatever the
// characters (spaces, quotes, unicode, leading dashes), with no shell in between.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "krdc/util/child_process.h"
#include "krdc/util/env.h"
#include "krdc/workflow/app.h"
#include "krdc/workflow/params.h"
#include "support/temp_dir.h"

using namespace krdc::workflow;
using nlohmann::json;

namespace {

App app_with(std::vector<ParamSpec> params) {
  App app;
  app.name = "t";
  app.has_interface = true;
  app.params = std::move(params);
  return app;
}

ParamSpec spec(const std::string& name, ParamType type, std::string nargs = "", bool append = false) {
  ParamSpec p;
  p.name = name;
  p.flag = "--" + name;
  p.type = type;
  p.nargs = std::move(nargs);
  p.append = append;
  return p;
}

}  // namespace

TEST_CASE("scalars render as --flag=value so leading dashes stay values") {
  const auto app = app_with({spec("resolution", ParamType::kFloat), spec("offset", ParamType::kInt),
                             spec("title", ParamType::kString)});
  const auto args = render_args(app, {{"resolution", 0.25}, {"offset", -3}, {"title", "-x y"}});
  CHECK(args == std::vector<std::string>{"--resolution=0.25", "--offset=-3", "--title=-x y"});
}

TEST_CASE("booleans: true is the bare flag, false is omitted") {
  const auto app = app_with({spec("verbose", ParamType::kBool), spec("dry", ParamType::kBool)});
  CHECK(render_args(app, {{"verbose", true}, {"dry", false}}) == std::vector<std::string>{"--verbose"});
}

TEST_CASE("lists: nargs after one flag, append repeats the flag") {
  const auto app = app_with({spec("years", ParamType::kInt, "+"), spec("tag", ParamType::kString, "", true)});
  CHECK(render_args(app, {{"years", {2021, 2022}}, {"tag", {"a b", "c"}}}) ==
        std::vector<std::string>{"--years", "2021", "2022", "--tag=a b", "--tag=c"});
}

TEST_CASE("floats keep a decimal point; integers stay integers") {
  const auto app = app_with({spec("x", ParamType::kFloat), spec("n", ParamType::kInt)});
  CHECK(render_args(app, {{"x", 2.0}, {"n", 7}}) == std::vector<std::string>{"--x=2.0", "--n=7"});
}

TEST_CASE("positionals come after -- in declaration order") {
  auto in = spec("input", ParamType::kPath);
  in.flag.clear();
  auto out = spec("output", ParamType::kPath);
  out.flag.clear();
  const auto app = app_with({in, spec("v", ParamType::kBool), out});
  CHECK(render_args(app, {{"output", "-o.nc"}, {"input", "in put.nc"}, {"v", true}}) ==
        std::vector<std::string>{"--v", "--", "in put.nc", "-o.nc"});
}

TEST_CASE("apps without a declared interface get --key=value for every param") {
  App app;
  app.has_interface = false;
  CHECK(render_args(app, {{"b", 1}, {"a", "x"}, {"on", true}, {"off", false}}) ==
        std::vector<std::string>{"--a=x", "--b=1", "--on"});
}

TEST_CASE("check_param: types, string coercion for substituted values, choices, counts") {
  CHECK_FALSE(check_param(spec("n", ParamType::kInt), 3));
  CHECK_FALSE(check_param(spec("n", ParamType::kInt), "42"));  // from -p or an output
  CHECK(check_param(spec("n", ParamType::kInt), "4.2"));
  CHECK(check_param(spec("n", ParamType::kInt), 4.2));
  CHECK_FALSE(check_param(spec("x", ParamType::kFloat), 3));
  CHECK(check_param(spec("x", ParamType::kFloat), "abc"));
  CHECK(check_param(spec("b", ParamType::kBool), "yes"));
  CHECK(check_param(spec("s", ParamType::kString), json::array({1, 2})));
  auto two = spec("pair", ParamType::kInt, "2");
  CHECK_FALSE(check_param(two, {1, 2}));
  CHECK(*check_param(two, {1}) == "needs exactly 2 values, got 1");
  auto choice = spec("m", ParamType::kString);
  choice.choices = {"a", "b"};
  CHECK(check_param(choice, "c")->find("not one of the choices: a, b") != std::string::npos);
  CHECK(*check_param(spec("s", ParamType::kString), nullptr) == "has no value");
}

TEST_CASE("missing_required ignores params with defaults") {
  auto a = spec("a", ParamType::kString);
  a.required = true;
  auto b = spec("b", ParamType::kString);
  b.required = true;
  b.default_value = "x";
  const auto app = app_with({a, b});
  CHECK(missing_required(app, json::object()) == std::vector<std::string>{"a"});
  CHECK(missing_required(app, {{"a", "v"}}).empty());
}

TEST_CASE("argparse reads back exactly what was rendered (real python3, no shell)") {
  krdc::test::TempDir dir;
  auto in = spec("input", ParamType::kString);
  in.flag.clear();
  const auto app = app_with({spec("title", ParamType::kString), spec("offset", ParamType::kInt),
                             spec("scale", ParamType::kFloat), spec("years", ParamType::kInt, "*"),
                             spec("tag", ParamType::kString, "", true), spec("verbose", ParamType::kBool), in});
  const json params = {{"title", "Ocean \"heat\" 'content' $HOME `id` ; rm -rf / 한국 🌊"},
                       {"offset", -5},
                       {"scale", 1e-3},
                       {"years", {2021, -1}},
                       {"tag", {"--not-a-flag", "two words"}},
                       {"verbose", true},
                       {"input", "-dash.nc"}};
  const std::string script = R"PY(
import argparse, json, sys
p = argparse.ArgumentParser()
p.add_argument("--title"); p.add_argument("--offset", type=int); p.add_argument("--scale", type=float)
p.add_argument("--years", type=int, nargs="*"); p.add_argument("--tag", action="append")
p.add_argument("--verbose", action="store_true"); p.add_argument("input")
a = p.parse_args()
json.dump(vars(a), open(sys.argv[0] + ".json", "w"), ensure_ascii=False)
)PY";
  const std::string py = dir.write("echo_args.py", script);
  krdc::util::SpawnSpec s;
  s.argv = {"python3", py};
  for (const auto& a : render_args(app, params)) s.argv.push_back(a);
  s.env = krdc::util::child_environment({});
  s.cwd = dir.path().string();
  s.output_file = dir / "log";
  krdc::util::ChildProcess child(s);
  REQUIRE(child.wait(30'000));
  INFO(krdc::test::read_file(dir / "log"));
  REQUIRE(child.exit_code() == 0);
  const auto got = json::parse(krdc::test::read_file(py + ".json"));
  CHECK(got["title"] == params["title"]);
  CHECK(got["offset"] == -5);
  CHECK(got["scale"].get<double>() == doctest::Approx(0.001));
  CHECK(got["years"] == json::array({2021, -1}));
  CHECK(got["tag"] == json::array({"--not-a-flag", "two words"}));
  CHECK(got["verbose"] == true);
  CHECK(got["input"] == "-dash.nc");
}
