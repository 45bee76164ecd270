// Loading and validating workflows: every bad input is rejected before anything runs, with
// file:line:column and the step named.
#include <doctest/doctest.h>

#include <string>

#include "krdc/util/errors.h"
#include "krdc/workflow/loader.h"
#include "support/temp_dir.h"

using krdc::workflow::load_workflow;
using krdc::workflow::load_workflow_text;
using krdc::workflow::LoadOptions;

namespace {

constexpr const char* kHeader = "apiVersion: krdc/v1\nkind: Workflow\nmetadata: {name: t}\nspec:\n";

std::string error_of(const std::string& text, const LoadOptions& options = {}) {
  try {
    load_workflow_text(text, "wf.yaml", options);
  } catch (const krdc::InvalidInput& e) {
    CHECK(e.code() == krdc::ExitCode::kInvalid);
    return e.what();
  }
  FAIL("expected the workflow to be rejected");
  return {};
}

std::string wf(const std::string& steps) { return std::string(kHeader) + "  steps:\n" + steps; }

}  // namespace

TEST_CASE("a valid workflow loads with defaults applied") {
  const auto w = load_workflow_text(std::string(kHeader) +
                                        "  defaults: {timeout: 1m30s, retries: 2, retryBackoff: 250ms}\n"
                                        "  steps:\n"
                                        "    - name: a\n"
                                        "      app: {command: [echo]}\n"
                                        "    - name: b\n"
                                        "      needs: [a]\n"
                                        "      timeout: 5s\n"
                                        "      app: {command: [echo]}\n",
                                    "wf.yaml");
  REQUIRE(w.steps.size() == 2);
  CHECK(w.name == "t");
  CHECK(w.digest.rfind("sha256:", 0) == 0);
  CHECK(w.steps[0].timeout_ms == 90'000);
  CHECK(w.steps[0].retries == 2);
  CHECK(w.steps[0].retry_backoff_ms == 250);
  CHECK(w.steps[1].timeout_ms == 5'000);
  CHECK(w.steps[1].needs == std::vector<std::string>{"a"});
}

TEST_CASE("malformed YAML reports line and column") {
  const auto msg = error_of(wf("    - name: a\n      app: [unclosed\n"));
  CHECK(msg.find("wf.yaml:") == 0);
  CHECK(msg.find("YAML syntax error") != std::string::npos);
}

TEST_CASE("unknown fields are rejected with their position and the allowed ones") {
  const auto msg = error_of(wf("    - name: a\n      app: {command: [echo]}\n      nedds: [b]\n"));
  CHECK(msg.find("wf.yaml:8:7:") == 0);
  CHECK(msg.find("step \"a\": unknown field") != std::string::npos);
  CHECK(msg.find("unknown field \"nedds\"") != std::string::npos);
}

TEST_CASE("wrong types are rejected") {
  CHECK(error_of(wf("    - name: a\n      app: {command: [echo]}\n      retries: lots\n")).find("retries must be an integer") !=
        std::string::npos);
  CHECK(error_of(wf("    - name: a\n      app: {command: [echo]}\n      timeout: soon\n")).find("must be a duration") !=
        std::string::npos);
}

TEST_CASE("duplicate step names name both places") {
  const auto msg = error_of(wf("    - name: a\n      app: {command: [echo]}\n    - name: a\n      app: {command: [echo]}\n"));
  CHECK(msg.find("wf.yaml:8:7:") == 0);
  CHECK(msg.find("defined twice (first at wf.yaml:6:7)") != std::string::npos);
}

TEST_CASE("unknown needs are rejected at the need's position") {
  const auto msg = error_of(wf("    - name: a\n      needs: [ghost]\n      app: {command: [echo]}\n"));
  CHECK(msg.find("wf.yaml:7:15:") == 0);
  CHECK(msg.find("\"ghost\", which is not a step") != std::string::npos);
}

TEST_CASE("cycles are named") {
  const auto msg = error_of(wf("    - name: a\n      needs: [c]\n      app: {command: [echo]}\n"
                               "    - name: b\n      needs: [a]\n      app: {command: [echo]}\n"
                               "    - name: c\n      needs: [b]\n      app: {command: [echo]}\n"));
  CHECK(msg.find("dependency cycle: a -> c -> b -> a") != std::string::npos);
}

TEST_CASE("references must point upstream, to declared outputs and params") {
  krdc::test::TempDir dir;
  dir.write("app/krdc-app.yaml",
            "apiVersion: krdc/v1\nkind: App\nmetadata: {name: x}\nspec:\n  command: [echo]\n"
            "  params:\n    - {name: in, type: str}\n  outputs: [path]\n");
  const std::string head = std::string(kHeader) + "  steps:\n";
  const auto path = dir.write("wf.yaml", head +
                                             "    - name: a\n      app: app\n"
                                             "    - name: b\n      app: app\n"
                                             "      params: {in: \"${{ steps.a.outputs.path }}\"}\n");
  try {
    load_workflow(path);
    FAIL("expected rejection");
  } catch (const krdc::InvalidInput& e) {
    const std::string msg = e.what();
    CHECK(msg.find("wf.yaml:10:16:") != std::string::npos);
    CHECK(msg.find("not upstream") != std::string::npos);
    CHECK(e.hint().find("add \"a\" to the needs of \"b\"") != std::string::npos);
  }
  const auto path2 = dir.write("wf2.yaml", head +
                                               "    - name: a\n      app: app\n"
                                               "    - name: b\n      needs: [a]\n      app: app\n"
                                               "      params: {in: \"${{ steps.a.outputs.nope }}\"}\n");
  CHECK_THROWS_WITH_AS(load_workflow(path2), doctest::Contains("has no output \"nope\""), krdc::InvalidInput);
  const auto path3 = dir.write("wf3.yaml", head + "    - name: a\n      app: app\n      params: {in: \"${{ params.ghost }}\"}\n");
  CHECK_THROWS_WITH_AS(load_workflow(path3), doctest::Contains("is not a workflow param"), krdc::InvalidInput);
  const auto path4 = dir.write("wf4.yaml", head + "    - name: a\n      app: app\n      params: {in: \"${{ steps.a.out }}\"}\n");
  CHECK_THROWS_WITH_AS(load_workflow(path4), doctest::Contains("cannot understand"), krdc::InvalidInput);
}

TEST_CASE("params are checked against the app descriptor") {
  krdc::test::TempDir dir;
  dir.write("app/krdc-app.yaml",
            "apiVersion: krdc/v1\nkind: App\nmetadata: {name: regrid}\nspec:\n  command: [python3, main.py]\n"
            "  params:\n"
            "    - {name: input, type: path, required: true}\n"
            "    - {name: resolution, type: float, default: 1.0}\n"
            "    - {name: method, type: str, choices: [linear, nearest]}\n");
  const std::string head = std::string(kHeader) + "  steps:\n    - name: regrid\n      app: app\n";
  auto load = [&](const std::string& rest) { return load_workflow(dir.write("wf.yaml", head + rest)); };

  CHECK_THROWS_WITH_AS(load("      params: {input: a.nc, colour: red}\n"),
                       doctest::Contains("app \"regrid\" has no param \"colour\""), krdc::InvalidInput);
  CHECK_THROWS_WITH_AS(load("      params: {input: a.nc, resolution: fine}\n"),
                       doctest::Contains("param \"resolution\": expects float"), krdc::InvalidInput);
  CHECK_THROWS_WITH_AS(load("      params: {input: a.nc, method: cubic}\n"), doctest::Contains("not one of the choices"),
                       krdc::InvalidInput);
  CHECK_THROWS_WITH_AS(load("      params: {resolution: 0.5}\n"),
                       doctest::Contains("missing required param input of app \"regrid\""), krdc::InvalidInput);
  CHECK_NOTHROW(load("      params: {input: a.nc, resolution: 0.25, method: linear}\n"));
}

TEST_CASE("a missing app directory is reported where it is named") {
  const auto msg = error_of(wf("    - name: a\n      app: no/such/app\n"));
  CHECK(msg.find("wf.yaml:7:12:") == 0);
  CHECK(msg.find("does not exist") != std::string::npos);
}

TEST_CASE("workflow params: declared, overridden with -p, required ones enforced") {
  const std::string text = std::string(kHeader) + "  params: {year: 2023, region: ~}\n  steps:\n"
                           "    - name: a\n      app: {command: [echo]}\n      params: {y: \"${{ params.year }}\"}\n";
  CHECK(error_of(text).find("workflow param \"region\" is required") != std::string::npos);
  LoadOptions ok;
  ok.params = {{"region", "north"}, {"year", "2024"}};
  const auto w = load_workflow_text(text, "wf.yaml", ok);
  CHECK(w.params["year"] == 2024);  // typed by its default (an int)
  LoadOptions bad;
  bad.params = {{"region", "n"}, {"colour", "x"}};
  CHECK(error_of(text, bad).find("declares no param \"colour\"") != std::string::npos);
}

TEST_CASE("a step that needs an image but has no cluster is rejected") {
  const auto msg = error_of(wf("    - name: a\n      app: {image: reg.example/x:1}\n"));
  CHECK(msg.find("has only an image, so it needs a cluster") != std::string::npos);
}

TEST_CASE("the shipped workflows are valid") {
  for (const char* name : {"hello.yaml", "fan-out.yaml"}) {
    CAPTURE(name);
    CHECK_NOTHROW(load_workflow(std::string(KRDC_SOURCE_DIR) + "/workflows/" + name));
  }
}

TEST_CASE("a workflow's directory is the same however its file is named (resume and attach depend on it)") {
  krdc::test::TempDir dir;
  dir.write("wf.yaml", wf("    - {name: a, app: {command: [echo]}}\n"));
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  const auto relative = load_workflow("wf.yaml");
  std::filesystem::current_path(cwd);
  const auto absolute = load_workflow(dir / "wf.yaml");
  CHECK(relative.dir == absolute.dir);
  CHECK(relative.steps[0].app.dir == absolute.steps[0].app.dir);
  CHECK(relative.dir.back() != '/');
}
