// The krdc binary as users and scripts meet it: exit codes, messages, signals, completions.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include "krdc/runner/result_reader.h"
#include "krdc/util/child_process.h"
#include "krdc/util/env.h"
#include "support/temp_dir.h"

namespace {

struct Ran {
  int code = -1;
  std::string output;  // stdout and stderr together
};

Ran run_krdc(const krdc::test::TempDir& dir, std::vector<std::string> args,
         const std::map<std::string, std::string>& env = {{"CI", "1"}}) {
  krdc::util::SpawnSpec spec;
  spec.argv = {KRDC_BINARY};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = krdc::util::child_environment(env);
  spec.cwd = dir.path().string();
  spec.output_file = dir / "out.log";
  std::filesystem::remove(spec.output_file);
  krdc::util::ChildProcess child(spec);
  REQUIRE(child.wait(60'000));
  return {child.exit_code(), krdc::test::read_file(spec.output_file)};
}

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
