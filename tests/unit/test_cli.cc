// The krdc binary as users and scripts meet it: exit codes, messages, signals, completions.
#include <doctest/doctest.h>
#include <signal.h>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "krdc/runner/result_reader.h"
#include "krdc/util/child_process.h"
#include "krdc/util/env.h"
#include "support/run_krdc.h"
#include "support/temp_dir.h"

namespace {

using Ran = krdc::test::KrdcRun;
using krdc::test::run_krdc;

const std::string kHello = std::string(KRDC_SOURCE_DIR) + "/workflows/hello.yaml";

}  // namespace

TEST_CASE("run hello.yaml: exit 0, results in the current directory, footer succeeded") {
  krdc::test::TempDir dir;
  const auto r = run_krdc(dir, {"run", kHello, "-p", "name=Ada Lovelace"});
  INFO(r.output);
  CHECK(r.code == 0);
  const auto file = krdc::runner::read_result_file(dir / "hello.results.jsonl");
  REQUIRE(file.records.size() >= 4);
  CHECK(file.invalid_lines == 0);
  CHECK(file.records.back()["status"] == "succeeded");
  bool saw = false;
  for (const auto& rec : file.records) {
    if (rec.value("step", "") == "shout" && rec.value("event", "") == "end") {
      CHECK(rec["outputs"]["text"] == "HELLO, ADA LOVELACE!");
      saw = true;
    }
  }
  CHECK(saw);
  // Plain, timestamped lines when not on a TTY.
  CHECK(r.output.find("step greet succeeded") != std::string::npos);
  CHECK(r.output.find("\033[") == std::string::npos);
}

namespace {
// Step records of the latest run in a result file, by step name and event.
std::map<std::string, nlohmann::json> step_records(const std::string& path, const std::string& event) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& rec : krdc::runner::read_result_file(path).records) {
    if (rec.value("type", "") == "step" && rec.value("event", "") == event) out[rec.value("step", "")] = rec;
  }
  return out;
}
}  // namespace

TEST_CASE("run scatter.yaml: the example runs with no cluster; -p sets its lists; gather, matrix and when") {
  krdc::test::TempDir dir;
  const std::string scatter = std::string(KRDC_SOURCE_DIR) + "/workflows/scatter.yaml";
  const auto r = run_krdc(dir, {"run", scatter, "-j", "4", "-p", "years=[2022, 2018, 2020]", "-p", "regions=[arctic]"});
  INFO(r.output);
  CHECK(r.code == 0);
  const auto results = dir / "scatter.results.jsonl";
  CHECK(krdc::runner::read_result_file(results).records.back()["status"] == "succeeded");
  auto gathered = step_records(results, "gathered");
  auto ends = step_records(results, "end");
  CHECK(gathered["per-year"]["outputs"]["year"] == nlohmann::json::array({2022, 2018, 2020}));  // item order
  CHECK(ends["summary"]["args"] == nlohmann::json::array({"--years", "2022", "2018", "2020", "--means",
                                                          gathered["per-year"]["outputs"]["mean"][0].dump(),
                                                          gathered["per-year"]["outputs"]["mean"][1].dump(),
                                                          gathered["per-year"]["outputs"]["mean"][2].dump(),
                                                          "--title=global"}));
  // by-region runs when the trend is positive (the example's `when`), as 1 region × 3 years.
  if (ends["summary"]["outputs"]["trend"].get<double>() > 0) {
    CHECK(gathered["by-region"]["instances"] == 3);
    CHECK(ends["by-region[2]"]["item"] == nlohmann::json({{"region", "arctic"}, {"year", 2020}}));
  } else {
    CHECK(ends["by-region"]["reason"] == "condition");
  }
  // A typed bool from -p turns the comparison off: skipped by its condition, whatever the trend.
  const auto off = run_krdc(dir, {"run", scatter, "-p", "compare_regions=false", "--results", "off.jsonl"});
  CHECK(off.code == 0);
  ends = step_records(dir / "off.jsonl", "end");
  CHECK(ends["by-region"]["status"] == "skipped");
  CHECK(ends["by-region"]["reason"] == "condition");
}

TEST_CASE("invalid input: exit 2 with file:line:column, nothing started") {
  krdc::test::TempDir dir;
  dir.write("bad.yaml", "apiVersion: krdc/v1\nkind: Workflow\nspec:\n  steps:\n    - name: a\n      app: {command: [true]}\n      needs: [b]\n");
  for (const char* cmd : {"validate", "run"}) {
    const auto r = run_krdc(dir, {cmd, "bad.yaml"});
    CAPTURE(cmd);
    CHECK(r.code == 2);
    CHECK(r.output.find("krdc: error: bad.yaml:7:15: step \"a\" needs \"b\"") != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(dir / "t.results.jsonl"));
  CHECK_FALSE(std::filesystem::exists(dir / ".krdc"));
}

TEST_CASE("usage errors exit 2 and point at --help") {
  krdc::test::TempDir dir;
  const auto r = run_krdc(dir, {"run"});
  CHECK(r.code == 2);
  CHECK(r.output.find("--help") != std::string::npos);
  CHECK(run_krdc(dir, {"frobnicate"}).code == 2);
}

TEST_CASE("a failed step exits 1") {
  krdc::test::TempDir dir;
  dir.write("f.yaml", "apiVersion: krdc/v1\nkind: Workflow\nmetadata: {name: f}\nspec:\n  steps:\n    - {name: a, app: {command: [\"false\"]}}\n");
  const auto r = run_krdc(dir, {"run", "f.yaml"});
  CHECK(r.code == 1);
  CHECK(r.output.find("step a failed") != std::string::npos);
}

TEST_CASE("SIGINT: running steps stopped and recorded cancelled, exit 130") {
  krdc::test::TempDir dir;
  dir.write("slow.yaml", "apiVersion: krdc/v1\nkind: Workflow\nmetadata: {name: slow}\nspec:\n  steps:\n"
                         "    - {name: a, app: {command: [sleep, \"30\"]}}\n"
                         "    - {name: b, needs: [a], app: {command: [\"true\"]}}\n");
  krdc::util::SpawnSpec spec;
  spec.argv = {KRDC_BINARY, "run", "slow.yaml"};
  spec.env = krdc::util::child_environment({{"CI", "1"}});
  spec.cwd = dir.path().string();
  spec.output_file = dir / "out.log";
  krdc::util::ChildProcess child(spec);
  // Wait (bounded) until the step has started, then interrupt like a terminal would.
  for (int i = 0; i < 100 && krdc::test::read_file(dir / "out.log").find("step a started") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(child.pid(), SIGINT);
  REQUIRE(child.wait(15'000));
  CHECK(child.exit_code() == 130);
  const auto file = krdc::runner::read_result_file(dir / "slow.results.jsonl");
  REQUIRE_FALSE(file.records.empty());
  CHECK(file.records.back()["status"] == "cancelled");
  bool a_cancelled = false;
  for (const auto& r : file.records) {
    a_cancelled |= r.value("step", "") == "a" && r.value("event", "") == "end" && r.value("status", "") == "cancelled";
  }
  CHECK(a_cancelled);
}

namespace {

// Starts krdc in `dir`, waits (bounded) until `ready(dir)` holds, sends SIGINT, and returns the
// exit code and how long krdc took to exit after the signal (-1 and 0 s if it never got ready).
struct Interrupted {
  int code = -1;
  std::chrono::milliseconds after_signal{0};
  std::string output;
};

Interrupted interrupt_krdc(const krdc::test::TempDir& dir, std::vector<std::string> args,
                           const std::map<std::string, std::string>& env, const std::function<bool()>& ready) {
  krdc::util::SpawnSpec spec;
  spec.argv = {KRDC_BINARY};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = krdc::util::child_environment(env);
  spec.cwd = dir.path().string();
  spec.output_file = dir / "out.log";
  krdc::util::ChildProcess child(spec);
  Interrupted r;
  bool is_ready = false;
  for (int i = 0; i < 400 && !(is_ready = ready()) && !child.wait(50);) ++i;
  if (!is_ready) {
    r.output = krdc::test::read_file(spec.output_file);
    return r;
  }
  const auto signalled = std::chrono::steady_clock::now();
  kill(child.pid(), SIGINT);
  if (child.wait(10'000)) r.code = child.exit_code();
  r.after_signal = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - signalled);
  r.output = krdc::test::read_file(spec.output_file);
  return r;
}

}  // namespace

TEST_CASE("SIGINT during app inspect: the program is stopped, exit 130 within 2 s") {
  krdc::test::TempDir dir;
  // Blocks at import time, long before parse_args, as a program waiting on a network mount might.
  dir.write("stuck/main.py", "import pathlib, time\npathlib.Path('started').touch()\ntime.sleep(60)\n"
                             "import argparse\nargparse.ArgumentParser().parse_args()\n");
  const auto r = interrupt_krdc(dir, {"app", "inspect", "stuck/main.py"}, {{"CI", "1"}},
                                [&] { return std::filesystem::exists(dir / "stuck/started"); });
  INFO(r.output);
  CHECK(r.code == 130);
  CHECK(r.after_signal < std::chrono::seconds(2));
  CHECK(r.output.find("cancelled") != std::string::npos);
}

TEST_CASE("SIGINT while the hub is retried: exit 130 within 2 s, not 4 after the retries") {
  krdc::test::TempDir dir;
  // Nothing listens on port 1: every attempt is refused and retried with backoff (-v shows it).
  const std::map<std::string, std::string> env{{"CI", "1"},
                                               {"XDG_CONFIG_HOME", dir / "config"},
                                               {"XDG_CACHE_HOME", dir / "cache"},
                                               {"KRDC_HUB", "https://127.0.0.1:1/realms/krdc"},
                                               {"KRDC_CLIENT_ID", "ci"},
                                               {"KRDC_CLIENT_SECRET", "not-a-real-secret"}};
  auto retrying = [&] { return krdc::test::read_file(dir / "out.log").find("(retry 1/") != std::string::npos; };
  SUBCASE("krdc login") {
    const auto r = interrupt_krdc(dir, {"-v", "login"}, env, retrying);
    INFO(r.output);
    CHECK(r.code == 130);
    CHECK(r.after_signal < std::chrono::seconds(2));
  }
  SUBCASE("krdc run: authorisation, before any step") {
    dir.write("remote.yaml", "apiVersion: krdc/v1\nkind: Workflow\nmetadata: {name: remote}\nspec:\n"
                             "  clusters:\n    kisti: {server: \"https://127.0.0.1:2\", audience: kisti}\n"
                             "  steps:\n    - {name: a, cluster: kisti, app: {image: busybox, command: [\"true\"]}}\n");
    const auto r = interrupt_krdc(dir, {"-v", "run", "remote.yaml"}, env, retrying);
    INFO(r.output);
    CHECK(r.code == 130);
    CHECK(r.after_signal < std::chrono::seconds(2));
    CHECK_FALSE(std::filesystem::exists(dir / "remote.results.jsonl"));  // nothing ran
  }
}

TEST_CASE("credentials in krdc's environment never reach the apps") {
  krdc::test::TempDir dir;
  dir.write("env.yaml", "apiVersion: krdc/v1\nkind: Workflow\nmetadata: {name: env}\nspec:\n  steps:\n"
                        "    - {name: a, app: {command: [sh, -c, 'env > \"$KRDC_OUTPUTS.env\"; echo {} > \"$KRDC_OUTPUTS\"']}}\n");
  const auto r = run_krdc(dir, {"run", "env.yaml", "--run-dir", dir / "run"},
                      {{"CI", "1"}, {"KRDC_TOKEN", "sekrit-token"}, {"KRDC_CLIENT_SECRET", "sekrit-secret"}});
  REQUIRE(r.code == 0);
  const std::string env = krdc::test::read_file(dir / "run/a/outputs-1.json.env");
  CHECK(env.find("KRDC_OUTPUTS=") != std::string::npos);
  CHECK(env.find("sekrit") == std::string::npos);
  CHECK(krdc::test::read_file(dir / "env.results.jsonl").find("sekrit") == std::string::npos);
}

TEST_CASE("completion scripts printed are the shipped files; help teaches with examples") {
  krdc::test::TempDir dir;
  const auto bash = run_krdc(dir, {"completion", "bash"});
  CHECK(bash.code == 0);
  CHECK(bash.output == krdc::test::read_file(std::string(KRDC_SOURCE_DIR) + "/completions/krdc.bash"));
  const auto help = run_krdc(dir, {"run", "--help"});
  CHECK(help.code == 0);
  CHECK(help.output.find("Examples:") != std::string::npos);
  const auto version = run_krdc(dir, {"version", "-o", "json"});
  CHECK(nlohmann::json::parse(version.output)["krdc"].is_string());
}

// ---- CLI manners: one test per item of what a new user tripped over. ----

namespace {

struct Split {
  int code = -1;
  std::string out;  // stdout only: what a script reads
  std::string err;  // stderr only: what people read
};

// krdc with stdout and stderr apart (and stdin from `stdin_file`, else /dev/null).
Split run_split(const krdc::test::TempDir& dir, std::vector<std::string> args, const std::string& stdin_file = "/dev/null",
                const std::map<std::string, std::string>& env = {{"CI", "1"}}) {
  krdc::util::SpawnSpec spec;
  spec.argv = {"/bin/sh", "-c", "exec \"$@\" <\"$KRDC_TEST_IN\" >stdout.log 2>stderr.log", "sh", KRDC_BINARY};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  auto with_in = env;
  with_in["KRDC_TEST_IN"] = stdin_file;
  spec.env = krdc::util::child_environment(with_in);
  spec.cwd = dir.path().string();
  spec.output_file = dir / "sh.log";
  krdc::util::ChildProcess child(spec);
  REQUIRE(child.wait(60'000));
  return {child.exit_code(), krdc::test::read_file(dir / "stdout.log"), krdc::test::read_file(dir / "stderr.log")};
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const char* kTwoSteps = "apiVersion: krdc/v1\nkind: Workflow\nmetadata: {name: two}\nspec:\n  steps:\n"
                        "    - {name: a, app: {command: [\"true\"]}}\n"
                        "    - {name: b, needs: [a], app: {command: [\"true\"]}}\n";

}  // namespace

TEST_CASE("manners: krdc --version exits 0 at once, reading no config and touching no network") {
  krdc::test::TempDir dir;
  // A config that cannot be parsed and a hub nobody answers: --version must need neither.
  dir.write("config/krdc/config.yaml", "hub: [this is: not valid\n");
  const std::map<std::string, std::string> env{{"CI", "1"},
                                               {"XDG_CONFIG_HOME", dir / "config"},
                                               {"KRDC_HUB", "https://127.0.0.1:1/realms/krdc"}};
  auto fastest = std::chrono::milliseconds::max();
  for (int i = 0; i < 5; ++i) {  // the fastest of a few: a busy machine must not fail the test
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = run_krdc(dir, {"--version"}, env);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    INFO(r.output);
    REQUIRE(r.code == 0);
    CHECK(r.output.rfind("krdc ", 0) == 0);
    fastest = std::min(fastest, took);
  }
  MESSAGE("krdc --version: fastest of 5 runs " << fastest.count() << " ms");
  // Not a speed gate (CI never gates on timings): a --version that asked the unreachable hub
  // or ran its retries would take seconds, which this bound still catches on a busy machine.
  CHECK(fastest < std::chrono::seconds(2));
  CHECK(run_krdc(dir, {"version"}, env).code == 0);
}

TEST_CASE("manners: an unknown command says so and suggests the closest") {
  krdc::test::TempDir dir;
  dir.write("wf.yaml", kTwoSteps);
  SUBCASE("top level") {
    const auto r = run_split(dir, {"valdate", "wf.yaml"});
    CHECK(r.code == 2);
    CHECK(has(r.err, "\"valdate\" is not a krdc command; did you mean krdc validate?"));
    CHECK_FALSE(has(r.err, "A subcommand is required"));
  }
  SUBCASE("after global options with values") {
    const auto r = run_split(dir, {"--hub", "https://hub.example/realms/x", "-o", "json", "rn", "wf.yaml"});
    CHECK(r.code == 2);
    CHECK(has(r.err, "did you mean krdc run?"));
  }
  SUBCASE("in a command group") {
    const auto r = run_split(dir, {"app", "inspekt", "main.py"});
    CHECK(r.code == 2);
    CHECK(has(r.err, "\"inspekt\" is not a krdc app command; did you mean krdc app inspect?"));
  }
  SUBCASE("nothing close") {
    const auto r = run_split(dir, {"frobnicate"});
    CHECK(r.code == 2);
    CHECK(has(r.err, "\"frobnicate\" is not a krdc command"));
    CHECK_FALSE(has(r.err, "did you mean"));
    CHECK(has(r.err, "try: krdc --help"));
  }
}

TEST_CASE("manners: parser errors are plain sentences") {
  krdc::test::TempDir dir;
  dir.write("wf.yaml", kTwoSteps);
  const auto range = run_split(dir, {"run", "wf.yaml", "-j", "0"});
  CHECK(range.code == 2);
  CHECK(has(range.err, "--jobs must be a number from 1 to 10000"));
  const auto word = run_split(dir, {"run", "wf.yaml", "-j", "abc"});
  CHECK(word.code == 2);
  CHECK(has(word.err, "--jobs"));
  const auto twice = run_split(dir, {"-o", "json", "-o", "yaml", "version"});
  CHECK(twice.code == 2);
  CHECK(has(twice.err, "--output was given"));
  const auto member = run_split(dir, {"-o", "xml", "version"});
  CHECK(member.code == 2);
  CHECK(has(member.err, "--output \"xml\" is not one of: text table json yaml markdown html"));
  const auto missing = run_split(dir, {"run"});
  CHECK(missing.code == 2);
  CHECK(has(missing.err, "missing workflow"));
  const auto nofile = run_split(dir, {"validate", "nope.yaml"});
  CHECK(nofile.code == 2);
  CHECK(has(nofile.err, "no such workflow file: nope.yaml"));
  CHECK(has(nofile.err, "try: krdc validate --help"));
  const auto extra = run_split(dir, {"version", "extra"});
  CHECK(extra.code == 2);
  CHECK(has(extra.err, "unexpected argument for krdc version: extra"));
  CHECK(has(run_split(dir, {"run", "wf.yaml", "one", "two"}).err, "unexpected arguments for krdc run: one two"));
  const auto group = run_split(dir, {"app"});
  CHECK(group.code == 2);
  CHECK(has(group.err, "krdc app needs a command: inspect"));
  for (const auto* r : {&range, &word, &twice, &member, &missing, &nofile, &extra, &group}) {
    INFO(r->err);
    CHECK_FALSE(has(r->err, "Value "));
    CHECK_FALSE(has(r->err, "At Most"));
    CHECK_FALSE(has(r->err, "required but received"));
    CHECK_FALSE(has(r->err, "The following arguments"));
    CHECK(has(r->err, "try: krdc"));
  }
}

TEST_CASE("manners: -o yaml and -o json are honoured wherever data is printed") {
  krdc::test::TempDir dir;
  dir.write("wf.yaml", kTwoSteps);
  const auto version = run_split(dir, {"version", "-o", "yaml"});
  CHECK(version.code == 0);
  CHECK(YAML::Load(version.out)["krdc"].as<std::string>().size() > 0);
  const auto valid = run_split(dir, {"validate", "wf.yaml", "-o", "yaml"});
  CHECK(valid.code == 0);
  const YAML::Node v = YAML::Load(valid.out);
  CHECK(v["valid"].as<bool>());
  CHECK(v["steps"].size() == 2);
  const auto ran = run_split(dir, {"-o", "yaml", "run", "wf.yaml"});
  CHECK(ran.code == 0);
  CHECK(YAML::Load(ran.out)["status"].as<std::string>() == "succeeded");
  const auto report = run_split(dir, {"report", "two.results.jsonl", "-o", "yaml"});
  CHECK(report.code == 0);
  CHECK(YAML::Load(report.out)["steps"].IsSequence());  // the run summary (src/report)
  const auto report_json = run_split(dir, {"report", "two.results.jsonl", "-o", "json"});
  CHECK(nlohmann::json::parse(report_json.out)["steps"].is_array());
  // No step needs a cluster: nothing to authorise, and no hub is needed to say so.
  const std::map<std::string, std::string> no_config{{"CI", "1"}, {"XDG_CONFIG_HOME", dir / "none"}};
  const auto check = run_split(dir, {"run", "--check", "wf.yaml", "-o", "json"}, "/dev/null", no_config);
  CHECK(check.code == 0);
  CHECK(nlohmann::json::parse(check.out)["authorised"] == true);
  const auto auth = run_split(dir, {"auth", "check", "wf.yaml", "-o", "yaml"}, "/dev/null", no_config);
  INFO(auth.err);
  CHECK(auth.code == 0);
  CHECK(YAML::Load(auth.out)["authorised"].as<bool>());
}

TEST_CASE("manners: validate -o json on an invalid workflow prints the errors as JSON on stdout") {
  krdc::test::TempDir dir;
  dir.write("bad.yaml", "apiVersion: krdc/v1\nkind: Workflow\nspec:\n  steps:\n    - name: a\n      app: {command: [true]}\n      needs: [b]\n");
  const auto r = run_split(dir, {"validate", "bad.yaml", "-o", "json"});
  CHECK(r.code == 2);
  INFO(r.out);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["valid"] == false);
  REQUIRE(j["errors"].size() == 1);
  CHECK(has(j["errors"][0]["message"].get<std::string>(), "bad.yaml:7:15: step \"a\" needs \"b\""));
  CHECK(has(r.err, "krdc: error: bad.yaml:7:15"));  // people still read it on stderr
}

TEST_CASE("manners: krdc validate - reads the workflow from standard input") {
  krdc::test::TempDir dir;
  const auto in = dir.write("in.yaml", kTwoSteps);
  const auto r = run_split(dir, {"validate", "-"}, in);
  CHECK(r.code == 0);
  CHECK(has(r.out, "<stdin>: valid workflow \"two\" (2 steps, 1 dependency)"));
  const auto bad = run_split(dir, {"validate", "-"}, dir.write("bad.yaml", "kind: Workflow\nspec: [\n"));
  CHECK(bad.code == 2);
  CHECK(has(bad.err, "<stdin>:"));
}

TEST_CASE("manners: --follow streams a local process step's output as prefixed lines") {
  krdc::test::TempDir dir;
  dir.write("f.yaml", "apiVersion: krdc/v1\nkind: Workflow\nmetadata: {name: f}\nspec:\n  steps:\n"
                      "    - {name: talk, app: {command: [sh, -c, 'echo first; echo second >&2; printf last; "
                      "echo {} > \"$KRDC_OUTPUTS\"']}}\n");
  const auto followed = run_split(dir, {"run", "f.yaml", "--follow"});
  INFO(followed.err);
  CHECK(followed.code == 0);
  CHECK(has(followed.err, "[talk] first\n"));
  CHECK(has(followed.err, "[talk] second\n"));
  CHECK(has(followed.err, "[talk] last\n"));  // the unterminated last line too
  CHECK(followed.err.find("[talk] first") < followed.err.find("step talk succeeded"));
  const auto quiet = run_split(dir, {"run", "f.yaml"});
  CHECK(quiet.code == 0);
  CHECK_FALSE(has(quiet.err, "[talk]"));
}

TEST_CASE("manners: people read 'timed out' and counted nouns") {
  krdc::test::TempDir dir;
  dir.write("t.yaml", "apiVersion: krdc/v1\nkind: Workflow\nmetadata: {name: t}\nspec:\n  steps:\n"
                      "    - {name: slow, timeout: 1s, app: {command: [sleep, \"20\"]}}\n");
  const auto r = run_split(dir, {"run", "t.yaml", "--kill-grace", "1s"});
  CHECK(r.code == 1);
  CHECK(has(r.err, "step slow timed out"));
  CHECK_FALSE(has(r.err, "timed_out"));
  CHECK(has(r.err, "of 1 step in"));
  // The result file keeps the machine name.
  CHECK(has(krdc::test::read_file(dir / "t.results.jsonl"), "\"timed_out\""));
  dir.write("one.yaml", "apiVersion: krdc/v1\nkind: Workflow\nmetadata: {name: one}\nspec:\n  steps:\n"
                        "    - {name: a, app: {command: [\"true\"]}}\n");
  CHECK(has(run_split(dir, {"validate", "one.yaml"}).out, "(1 step, 0 dependencies)"));
}

TEST_CASE("manners: -v shows each hub request with how long it took") {
  krdc::test::TempDir dir;
  const std::map<std::string, std::string> env{{"CI", "1"},
                                               {"XDG_CONFIG_HOME", dir / "config"},
                                               {"XDG_CACHE_HOME", dir / "cache"},
                                               {"KRDC_HUB", "https://127.0.0.1:1/realms/krdc"},
                                               {"KRDC_CLIENT_ID", "ci"},
                                               {"KRDC_CLIENT_SECRET", "not-a-real-secret"}};
  auto retrying = [&] { return has(krdc::test::read_file(dir / "out.log"), "(retry 1/"); };
  const auto r = interrupt_krdc(dir, {"-v", "whoami"}, env, retrying);
  INFO(r.output);
  CHECK(has(r.output, "krdc: http: GET https://127.0.0.1:1/realms/krdc/.well-known/openid-configuration"));
  CHECK(has(r.output, " ms (retry 1/"));
  CHECK_FALSE(has(run_krdc(dir, {"validate", "nothing.yaml"}).output, "krdc: http:"));  // quiet without -v
  // A local run says what it loaded, how fast, and which executor runs how many steps.
  dir.write("wf.yaml", kTwoSteps);
  const auto local = run_split(dir, {"-v", "run", "wf.yaml"});
  CHECK(local.code == 0);
  CHECK(has(local.err, "krdc: loaded and checked wf.yaml in "));
  CHECK(has(local.err, "krdc: process executor: 2 steps"));
  CHECK_FALSE(has(run_split(dir, {"run", "wf.yaml"}).err, "krdc: loaded"));
}

TEST_CASE("manners: a refused run leaves no empty run directory behind") {
  krdc::test::TempDir dir;
  dir.write("wf.yaml", kTwoSteps);
  const auto r = run_split(dir, {"run", "wf.yaml", "--results", "no/such/dir/r.jsonl"});
  CHECK(r.code == 2);
  CHECK(has(r.err, "cannot open result file"));
  CHECK_FALSE(std::filesystem::exists(dir / ".krdc"));
  // A run dir the user made is theirs: never removed.
  std::filesystem::create_directories(dir / "mine");
  CHECK(run_split(dir, {"run", "wf.yaml", "--results", "no/such/dir/r.jsonl", "--run-dir", "mine"}).code == 2);
  CHECK(std::filesystem::exists(dir / "mine"));
}

TEST_CASE("manners: a step that cannot start is not retried") {
  krdc::test::TempDir dir;
  dir.write("c.yaml", "apiVersion: krdc/v1\nkind: Workflow\nmetadata: {name: c}\nspec:\n  steps:\n"
                      "    - {name: a, retries: 3, retryBackoff: 1s, app: {command: [no-such-program-krdc]}}\n");
  const auto r = run_split(dir, {"run", "c.yaml"});
  CHECK(r.code == 1);
  CHECK(has(r.err, "cannot start no-such-program-krdc: not found in PATH"));
  CHECK_FALSE(has(r.err, "retrying"));
  const auto file = krdc::runner::read_result_file(dir / "c.results.jsonl");
  int retries = 0, starts = 0;
  for (const auto& rec : file.records) {
    retries += rec.value("event", "") == "retry";
    starts += rec.value("type", "") == "step" && rec.value("event", "") == "start";
  }
  CHECK(retries == 0);
  CHECK(starts == 1);
}

TEST_CASE("manners: a program on a relative PATH entry is found where it runs, the app's directory") {
  krdc::test::TempDir dir;
  // krdc runs from `dir`; the workflow, hence the app's directory, is `dir/wf`.
  const auto tool = dir.write("wf/tools/say-hi", "#!/bin/sh\necho '{\"hi\": true}' > \"$KRDC_OUTPUTS\"\n");
  std::filesystem::permissions(tool, std::filesystem::perms::owner_all);
  dir.write("wf/p.yaml", "apiVersion: krdc/v1\nkind: Workflow\nmetadata: {name: p}\nspec:\n  steps:\n"
                      "    - {name: a, env: {PATH: 'tools:/usr/bin:/bin'}, app: {command: [say-hi]}}\n");
  const auto r = run_split(dir, {"run", "wf/p.yaml"});
  INFO(r.err);
  CHECK(r.code == 0);
}

TEST_CASE("manners: app --help and auth --help show their own examples") {
  krdc::test::TempDir dir;
  const auto app = run_krdc(dir, {"app", "--help"});
  CHECK(app.code == 0);
  CHECK(has(app.output, "Examples:\n  krdc app inspect"));
  const auto auth = run_krdc(dir, {"auth", "--help"});
  CHECK(auth.code == 0);
  CHECK(has(auth.output, "Examples:\n  krdc auth check"));
}
