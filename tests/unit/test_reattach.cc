// Nothing lost, nothing run twice (docs/architecture.md, "Reattach"): krdc killed with SIGKILL
// mid-run, then resumed, with the real binary and real process steps.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include "krdc/runner/result_reader.h"
#include "krdc/runner/runner.h"
#include "krdc/util/child_process.h"
#include "krdc/util/env.h"
#include "support/temp_dir.h"

namespace {

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Waits, bounded, until `path` has at least `n` lines.
bool wait_for_lines(const std::string& path, size_t n, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (lines_of(path).size() >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

krdc::util::SpawnSpec krdc_spec(const krdc::test::TempDir& dir, std::vector<std::string> args, const std::string& log) {
  krdc::util::SpawnSpec spec;
  spec.argv = {KRDC_BINARY};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = krdc::util::child_environment({{"CI", "1"}});
  spec.cwd = dir.path().string();
  spec.output_file = dir / log;
  return spec;
}

}  // namespace

TEST_CASE("SIGKILL of krdc mid-run, then --resume: every process step succeeds exactly once, never twice at once") {
  krdc::test::TempDir dir;
  const std::string d = dir.path().string();
  // Each step holds a lock for its whole life, in a child process (sleep) that outlives its
  // shell: a second copy of a step beside a leftover of the first finds the lock taken.
  const std::string script = "exec 9>>'" + d + "/lock-'$KRDC_STEP; flock -n 9 || { echo $KRDC_STEP >> '" + d +
                             "/twice'; exit 1; }; echo $KRDC_STEP >> '" + d + "/starts'; sleep 1.5; echo '{}' > " +
                             "$KRDC_OUTPUTS; echo $KRDC_STEP >> '" + d + "/done'";
  std::string steps;
  for (int i = 0; i < 6; ++i) {
    steps += "    - {name: s" + std::to_string(i) + ", app: {command: " + nlohmann::json({"sh", "-c", script}).dump() +
             "}}\n";
  }
  dir.write("wf.yaml", "apiVersion: krdc/v1\nkind: Workflow\nmetadata: {name: wf}\nspec:\n  steps:\n" + steps);
  {
    krdc::util::ChildProcess first(krdc_spec(dir, {"run", "wf.yaml", "-j", "3"}, "first.log"));
    REQUIRE(wait_for_lines(dir / "starts", 3, std::chrono::seconds(20)));
    ::kill(first.pid(), SIGKILL);  // krdc only: its steps are in process groups of their own
    REQUIRE(first.wait(10'000));
  }
  // The steps' shells died with krdc (parent-death signal); their sleeps hold the locks.
  krdc::util::ChildProcess second(krdc_spec(dir, {"run", "wf.yaml", "-j", "3", "--resume"}, "second.log"));
  REQUIRE(second.wait(60'000));
  INFO(krdc::test::read_file(dir / "second.log"));
  CHECK(second.exit_code() == 0);
  CHECK_FALSE(std::filesystem::exists(dir / "twice"));
  std::multiset<std::string> done;
  for (const auto& s : lines_of(dir / "done")) done.insert(s);
  for (int i = 0; i < 6; ++i) CHECK(done.count("s" + std::to_string(i)) == 1);

  const auto file = krdc::runner::read_result_file(dir / "wf.results.jsonl");
  CHECK(file.invalid_lines <= 1);  // at most the line SIGKILL tore
  CHECK(file.odd_records == 0);
  size_t lost = 0, submitted = 0;
  for (const auto& r : file.records) {
    lost += r["event"] == "lost";
    submitted += r["event"] == "submitted";
  }
  CHECK(lost == 3);  // the three in flight were found, swept and started again
  CHECK(submitted == 9);
}

TEST_CASE("--resume never adopts an attempt whose inputs changed; the app's own files are part of its inputs") {
  krdc::test::TempDir dir;
  krdc::workflow::Step step;
  step.name = "s";
  step.app.dir = dir.path().string();
  step.app.command = {"python3", "main.py"};
  dir.write("main.py", "print(1)\n");
  const std::string before = krdc::runner::inputs_digest(step, {"--x=1"});
  CHECK(krdc::runner::inputs_digest(step, {"--x=1"}) == before);
  dir.write("main.py", "print(2)\n");
  CHECK(krdc::runner::inputs_digest(step, {"--x=1"}) != before);
  // A cluster step is its image: local files do not matter.
  step.cluster = "kisti";
  step.app.image = "repo/app:1";
  const std::string on_cluster = krdc::runner::inputs_digest(step, {"--x=1"});
  dir.write("main.py", "print(3)\n");
  CHECK(krdc::runner::inputs_digest(step, {"--x=1"}) == on_cluster);
}

TEST_CASE("--detach refuses process steps, which cannot outlive krdc") {
  krdc::test::TempDir dir;
  dir.write("wf.yaml",
            "apiVersion: krdc/v1\nkind: Workflow\nmetadata: {name: wf}\nspec:\n  steps:\n"
            "    - {name: local, app: {command: [\"true\"]}}\n");
  krdc::util::ChildProcess run(krdc_spec(dir, {"run", "wf.yaml", "--detach"}, "run.log"));
  REQUIRE(run.wait(20'000));
  const std::string log = krdc::test::read_file(dir / "run.log");
  CHECK(run.exit_code() == 2);
  CHECK(log.find("wf.yaml:6:") != std::string::npos);
  CHECK(log.find("--detach: step \"local\" runs as a local process") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "wf.results.jsonl"));
}

namespace {
// Processes whose environment holds `mark` (e.g. "KRDC_RUN_ID=<run>"): a run's step processes.
size_t processes_marked(const std::string& mark) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    std::ifstream in(entry.path() / "environ", std::ios::binary);
    for (std::string var; std::getline(in, var, '\0');) n += var == mark;
  }
  return n;
}
}  // namespace

TEST_CASE("the disk fills up mid-run (a 12 KiB file size limit): exit 5, only whole records, nothing left running") {
  krdc::test::TempDir dir;
  std::string steps;
  for (int i = 0; i < 200; ++i) {
    steps += "    - {name: s" + std::to_string(i) + ", app: {command: [sh, -c, 'sleep 0.05; echo {} > $KRDC_OUTPUTS']}}\n";
  }
  dir.write("wf.yaml", "apiVersion: krdc/v1\nkind: Workflow\nmetadata: {name: wf}\nspec:\n  steps:\n" + steps);
  for (int round = 0; round < 3; ++round) {
    const std::string results = "r" + std::to_string(round) + ".jsonl";
    auto spec = krdc_spec(dir, {"run", "wf.yaml", "-j", "16", "--results", results, "--run-dir", "runs"}, "run.log");
    spec.argv.insert(spec.argv.begin(), {"prlimit", "--fsize=12288", "--"});
    krdc::util::ChildProcess run(spec);
    REQUIRE(run.wait(60'000));
    const std::string log = krdc::test::read_file(dir / "run.log");
    INFO(log);
    CHECK(run.exit_code() == 5);
    CHECK(log.find("cannot write result file") != std::string::npos);
    const auto file = krdc::runner::read_result_file(dir / results);
    CHECK(file.invalid_lines == 0);
    CHECK(file.odd_records == 0);
    REQUIRE(file.last_header());
    const std::string mark = "KRDC_RUN_ID=" + (*file.last_header())["run"].get<std::string>();
    CHECK(processes_marked(mark) == 0);
  }
}

TEST_CASE("a torn result file is resumed: the torn line fenced off, successes reused, new records whole") {
  krdc::test::TempDir dir;
  dir.write("wf.yaml",
            "apiVersion: krdc/v1\nkind: Workflow\nmetadata: {name: wf}\nspec:\n  steps:\n"
            "    - {name: a, app: {command: [sh, -c, 'echo a >> ran; echo {} > $KRDC_OUTPUTS']}}\n"
            "    - {name: b, needs: [a], app: {command: [sh, -c, 'echo b >> ran; echo {} > $KRDC_OUTPUTS']}}\n");
  krdc::util::ChildProcess first(krdc_spec(dir, {"run", "wf.yaml"}, "first.log"));
  REQUIRE(first.wait(20'000));
  REQUIRE(first.exit_code() == 0);
  {
    std::ofstream torn(dir / "wf.results.jsonl", std::ios::app | std::ios::binary);
    torn << R"({"type":"step","event":"start","run":"x","st)";  // a power cut mid-record
  }
  krdc::util::ChildProcess second(krdc_spec(dir, {"run", "wf.yaml", "--resume"}, "second.log"));
  REQUIRE(second.wait(20'000));
  INFO(krdc::test::read_file(dir / "second.log"));
  CHECK(second.exit_code() == 0);
  CHECK(lines_of(dir / "ran") == std::vector<std::string>{"a", "b"});  // nothing ran again
  const auto file = krdc::runner::read_result_file(dir / "wf.results.jsonl");
  CHECK(file.invalid_lines == 1);
  size_t resumed = 0;
  for (const auto& r : file.records) resumed += r.value("resumed", false);
  CHECK(resumed == 2);
}
