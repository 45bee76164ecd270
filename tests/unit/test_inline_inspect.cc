// Inline apps that run a Python file are checked against their real argparse (python3), with
// the derived interface cached by the program's digest (docs/architecture.md, "App interfaces").
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include "krdc/runner/result_reader.h"
#include "krdc/runner/runner.h"
#include "krdc/util/cancel.h"
#include "krdc/util/child_process.h"
#include "krdc/util/env.h"
#include "krdc/util/errors.h"
#include "krdc/workflow/inspect_cache.h"
#include "krdc/workflow/loader.h"
#include "krdc/workflow/params.h"
#include "support/run_krdc.h"
#include "support/temp_dir.h"

using namespace krdc::workflow;
namespace fs = std::filesystem;

namespace {

// An app that reports what argparse made of its command line as its outputs.
constexpr const char* kEchoFiles = R"PY(
import argparse, json, os
p = argparse.ArgumentParser()
p.add_argument("--files", nargs="+")
p.add_argument("--label", default="x")
args = p.parse_args()
with open(os.environ["KRDC_OUTPUTS"], "w") as f:
    json.dump({"files": args.files, "label": args.label}, f)
)PY";

std::string workflow(const std::string& app, const std::string& params, const std::string& step_extra = "") {
  return "apiVersion: krdc/v1\nkind: Workflow\nmetadata: {name: t}\nspec:\n  steps:\n"
         "    - name: echo\n      app: " + app + "\n      params: " + params + "\n" + step_extra;
}

// A load as `krdc validate` does it, with inspection on, the cache in `cache`, notices kept.
struct Loader {
  krdc::test::TempDir dir;
  std::string cache = dir / "cache/krdc/apps";
  std::vector<std::string> notices;
  std::string python;  // empty: the app's own interpreter

  Workflow load(const std::string& text, bool verbose = false) {
    LoadOptions options;
    options.inspect.enabled = true;
    options.inspect.cache_dir = cache;
    options.inspect.python = python;
    options.inspect.verbose = verbose;
    options.inspect.notice = [this](const std::string& line) { notices.push_back(line); };
    return load_workflow(dir.write("wf.yaml", text), options);
  }
  size_t cache_entries() const {
    size_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(cache, ec)) n += e.path().extension() == ".json";
    return n;
  }
};

krdc::test::KrdcRun run_with_cache(const krdc::test::TempDir& dir, const std::vector<std::string>& args) {
  // The cache goes to the test's directory, never the user's.
  return krdc::test::run_krdc(dir, args, {{"CI", "1"}, {"XDG_CACHE_HOME", dir / "xdg-cache"}});
}

nlohmann::json outputs_of(const std::string& results, const std::string& step) {
  nlohmann::json found;
  for (const auto& r : krdc::runner::read_result_file(results).records) {
    if (r.value("event", "") == "end" && r.value("step", "") == step) found = r.value("outputs", nlohmann::json());
  }
  return found;
}

}  // namespace

TEST_CASE("inline python app: a list param reaches argparse as that list (krdc run); --no-inspect keeps the old argv") {
  krdc::test::TempDir dir;
  dir.write("main.py", kEchoFiles);
  const auto wf = dir.write("wf.yaml", workflow("{command: [python3, main.py]}", R"({files: ["a b.nc", "c.nc"]})"));

  const auto r = run_with_cache(dir, {"run", wf, "--results", dir / "r1.jsonl"});
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(outputs_of(dir / "r1.jsonl", "echo")["files"] == nlohmann::json{"a b.nc", "c.nc"});
  CHECK(r.output.find("notice") == std::string::npos);
  // Cached 0700 under $XDG_CACHE_HOME/krdc/apps, one entry.
  struct stat st {};
  REQUIRE(stat((dir / "xdg-cache/krdc/apps").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  // Without inspection: --files=a b.nc --files=c.nc, and argparse keeps the last one only.
  const auto old = run_with_cache(dir, {"run", wf, "--no-inspect", "--results", dir / "r2.jsonl"});
  INFO(old.output);
  REQUIRE(old.code == 0);
  CHECK(outputs_of(dir / "r2.jsonl", "echo")["files"] == nlohmann::json{"c.nc"});
  // The run header says so, and `krdc attach` follows it (the same argv, the same inputs digests).
  CHECK(krdc::runner::read_result_file(dir / "r1.jsonl").last_header()->value("inspect", false));
  CHECK_FALSE(krdc::runner::read_result_file(dir / "r2.jsonl").last_header()->value("inspect", true));
  const auto attached = run_with_cache(dir, {"attach", dir / "r2.jsonl"});
  INFO(attached.output);
  REQUIRE(attached.code == 0);
  nlohmann::json last_end;
  for (const auto& r : krdc::runner::read_result_file(dir / "r2.jsonl").records) {
    if (r.value("event", "") == "end" && r.value("step", "") == "echo") last_end = r;
  }
  CHECK(last_end.value("resumed", false));  // inspecting now would change the argv and rerun it
}

TEST_CASE("inline python app: an unknown param is refused at validate, naming the step and the app's params") {
  krdc::test::TempDir dir;
  dir.write("main.py", kEchoFiles);
  const auto wf = dir.write("wf.yaml", workflow("{command: [python3, -u, main.py]}", "{files: [a], colour: red}"));
  const auto r = run_with_cache(dir, {"validate", wf});
  INFO(r.output);
  CHECK(r.code == 2);
  CHECK(r.output.find("wf.yaml:8:28: step \"echo\": app \"echo\" has no param \"colour\"") != std::string::npos);
  CHECK(r.output.find("it accepts: files, label") != std::string::npos);
  // --no-inspect: not checked, as before.
  const auto unchecked = run_with_cache(dir, {"validate", wf, "--no-inspect"});
  INFO(unchecked.output);
  CHECK(unchecked.code == 0);

  // Types and required params are checked too.
  dir.write("typed.py", "import argparse\np = argparse.ArgumentParser()\np.add_argument('--n', type=int, "
                        "required=True)\np.add_argument('--mode', choices=['a', 'b'])\np.parse_args()\n");
  Loader l;
  l.dir.write("typed.py", krdc::test::read_file(dir / "typed.py"));
  CHECK_THROWS_WITH_AS(l.load(workflow("{command: [python3, typed.py]}", "{n: many}")),
                       doctest::Contains("step \"echo\" param \"n\": expects int"), krdc::InvalidInput);
  CHECK_THROWS_WITH_AS(l.load(workflow("{command: [python3, typed.py]}", "{n: 1, mode: c}")),
                       doctest::Contains("is not one of the choices: a, b"), krdc::InvalidInput);
  CHECK_THROWS_WITH_AS(l.load(workflow("{command: [python3, typed.py]}", "{mode: a}")),
                       doctest::Contains("missing required param n"), krdc::InvalidInput);
}

TEST_CASE("inspection cache: a hit spawns no python; an edited program misses; a corrupt entry is redone") {
  Loader l;
  l.dir.write("main.py", kEchoFiles);
  const std::string text = workflow("{command: [python3, main.py]}", "{files: [a, b]}");
  const auto first = l.load(text);
  CHECK(first.steps[0].app.has_interface);
  CHECK(l.cache_entries() == 1);

  // No python at all: the interface still comes back, from the cache.
  l.python = "/nonexistent/python3";
  const auto hit = l.load(text);
  CHECK(l.notices.empty());
  REQUIRE(hit.steps[0].app.has_interface);
  CHECK(render_args(hit.steps[0].app, hit.steps[0].params) == std::vector<std::string>{"--files", "a", "b"});
  CHECK(hit.steps[0].app.interface_digest == first.steps[0].app.interface_digest);

  // Edited: a miss. Without python that shows as a failed inspection and the old rendering...
  l.dir.write("main.py", std::string(kEchoFiles).replace(std::string(kEchoFiles).find("args ="), 0,
                                                          "p.add_argument('--extra')\n"));
  const std::string with_extra = workflow("{command: [python3, main.py]}", "{files: [a, b], extra: yes}");
  const auto miss = l.load(with_extra);
  REQUIRE(l.notices.size() == 1);
  CHECK(l.notices[0].find("step \"echo\": params passed unchecked as --key=value (could not inspect main.py") == 0);
  CHECK_FALSE(miss.steps[0].app.has_interface);
  // ... and with python, re-inspected: the new param is accepted.
  l.python.clear();
  const auto redone = l.load(with_extra);
  REQUIRE(redone.steps[0].app.has_interface);
  CHECK(redone.steps[0].app.find_param("extra"));
  CHECK(redone.steps[0].app.interface_digest != first.steps[0].app.interface_digest);
  CHECK(l.cache_entries() == 2);

  // A corrupt entry is ignored and rewritten.
  for (const auto& e : fs::directory_iterator(l.cache)) std::ofstream(e.path(), std::ios::trunc) << "{\"key\": tor";
  CHECK(l.load(with_extra).steps[0].app.find_param("extra"));
  l.python = "/nonexistent/python3";
  l.notices.clear();
  CHECK(l.load(with_extra).steps[0].app.find_param("extra"));  // the entry was redone
  CHECK(l.notices.empty());
}

TEST_CASE("not inspected: a non-Python app, a failing program, inspect: false, and --no-inspect") {
  Loader l;
  SUBCASE("a shell command gets a notice when it has params, and the old rendering") {
    const auto wf = l.load(workflow("{command: [sh, -c, 'exit 0', sh]}", "{files: [a, b]}"));
    REQUIRE(l.notices.size() == 1);
    CHECK(l.notices[0] == "step \"echo\": params passed unchecked as --key=value (its command runs sh, not a Python file)");
    CHECK_FALSE(wf.steps[0].app.has_interface);
    CHECK(render_args(wf.steps[0].app, wf.steps[0].params) == std::vector<std::string>{"--files=a", "--files=b"});
    l.notices.clear();
    l.load(workflow("{command: [python3, -c, 'pass']}", "{}"));  // no params: nothing goes unchecked
    CHECK(l.notices.empty());
  }
  SUBCASE("a program with a syntax error") {
    l.dir.write("main.py", "import argparse\ndef broken(:\n");
    const auto wf = l.load(workflow("{command: [python3, main.py]}", "{files: [a, b]}"));
    REQUIRE(l.notices.size() == 1);
    CHECK(l.notices[0].find("could not inspect main.py") != std::string::npos);
    CHECK(l.notices[0].find("SyntaxError") != std::string::npos);
    CHECK(l.notices[0].find('\n') == std::string::npos);
    CHECK(render_args(wf.steps[0].app, wf.steps[0].params) == std::vector<std::string>{"--files=a", "--files=b"});
    CHECK(l.cache_entries() == 0);  // failures are not cached
  }
  SUBCASE("an import error, and a program without argparse") {
    l.dir.write("a.py", "import no_such_module_krdc\n");
    l.dir.write("b.py", "print('hello')\n");
    l.load(workflow("{command: [python3, a.py]}", "{x: 1}"));
    l.load(workflow("{command: [python3, b.py]}", "{x: 1}"));
    REQUIRE(l.notices.size() == 2);
    CHECK(l.notices[0].find("ModuleNotFoundError") != std::string::npos);
    CHECK(l.notices[1].find("without calling parse_args") != std::string::npos);
  }
  SUBCASE("a program that blocks before parse_args is stopped at the timeout") {
    l.dir.write("main.py", "import time\ntime.sleep(60)\n");
    LoadOptions options;
    options.inspect.enabled = true;
    options.inspect.timeout_ms = 300;
    std::vector<std::string> notices;
    options.inspect.notice = [&](const std::string& line) { notices.push_back(line); };
    const auto started = std::chrono::steady_clock::now();
    load_workflow(l.dir.write("wf.yaml", workflow("{command: [python3, main.py]}", "{x: 1}")), options);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
    REQUIRE(notices.size() == 1);
    CHECK(notices[0].find("inspecting took over 1 s") != std::string::npos);
  }
  SUBCASE("Ctrl-C (the abort token) stops an inspection and the load: nothing is guessed") {
    l.dir.write("main.py", "import time\ntime.sleep(60)\n");
    krdc::util::CancelToken abort;
    abort.cancel();
    LoadOptions options;
    options.inspect.enabled = true;
    options.inspect.cancel = &abort;
    const auto started = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(load_workflow(l.dir.write("wf.yaml", workflow("{command: [python3, main.py]}", "{x: 1}")), options),
                    krdc::Interrupted);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
  }
  SUBCASE("inspect: false on the app") {
    l.dir.write("main.py", kEchoFiles);
    const auto wf = l.load(workflow("{command: [python3, main.py], inspect: false}", "{files: [a, b], other: 1}"));
    CHECK_FALSE(wf.steps[0].app.has_interface);
    CHECK(l.notices.empty());
    CHECK(l.cache_entries() == 0);
  }
  SUBCASE("inspection off (--no-inspect, and the library default)") {
    l.dir.write("main.py", kEchoFiles);
    const auto wf = load_workflow(l.dir.write("wf.yaml", workflow("{command: [python3, main.py]}", "{other: 1}")));
    CHECK_FALSE(wf.steps[0].app.has_interface);
  }
}

TEST_CASE("cluster steps: the program is asked only when a copy is next to the workflow; the digest follows it") {
  Loader l;
  const std::string text = workflow(R"({image: "reg.example/echo:1", command: [python3, main.py]})", "{files: [a]}",
                                    "      cluster: far\n");
  const auto absent = l.load(text);
  CHECK_FALSE(absent.steps[0].app.has_interface);
  CHECK(l.notices.empty());  // only with -v
  l.load(text, /*verbose=*/true);
  REQUIRE(l.notices.size() == 1);
  CHECK(l.notices[0].find("main.py is not in") != std::string::npos);

  l.dir.write("main.py", kEchoFiles);
  const auto present = l.load(text);
  REQUIRE(present.steps[0].app.has_interface);
  const auto args = render_args(present.steps[0].app, present.steps[0].params);
  const std::string before = krdc::runner::inputs_digest(present.steps[0], args);
  // Same argv, edited program: the inputs digest changes, so --resume reruns the step.
  l.dir.write("main.py", std::string(kEchoFiles) + "# edited\n");
  const auto edited = l.load(text);
  CHECK(render_args(edited.steps[0].app, edited.steps[0].params) == args);
  CHECK(krdc::runner::inputs_digest(edited.steps[0], args) != before);
}

TEST_CASE("python_script_of finds the program a command runs") {
  std::string why;
  CHECK(python_script_of({"python3", "main.py"}, why) == "main.py");
  CHECK(python_script_of({"python3", "-u", "tool.py", "--x"}, why) == "tool.py");
  CHECK(python_script_of({"/opt/conda/bin/python3.11", "-W", "ignore", "-B", "run.py"}, why) == "run.py");
  CHECK(python_script_of({"/usr/bin/env", "PYTHONHASHSEED=0", "python", "a.py"}, why) == "a.py");
  CHECK_FALSE(python_script_of({"python3", "-m", "pkg.main"}, why));
  CHECK(why.find("module") != std::string::npos);
  CHECK_FALSE(python_script_of({"python3"}, why));
  CHECK_FALSE(python_script_of({"bash", "run.sh"}, why));
  CHECK(why == "its command runs bash, not a Python file");
  CHECK_FALSE(python_script_of({"pythonista", "x.py"}, why));
}

TEST_CASE("inspection cache directory: XDG_CACHE_HOME, else HOME/.cache; relative values ignored") {
  CHECK(default_inspect_cache_dir("/x/cache", "/home/u") == "/x/cache/krdc/apps");
  CHECK(default_inspect_cache_dir(nullptr, "/home/u") == "/home/u/.cache/krdc/apps");
  CHECK(default_inspect_cache_dir("rel", "/home/u") == "/home/u/.cache/krdc/apps");
  CHECK(default_inspect_cache_dir(nullptr, nullptr).empty());
}
