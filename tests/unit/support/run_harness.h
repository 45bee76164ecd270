#pragma once
// Runs a workflow through the real runner + process executor in a temp directory, with
// the status printer writing plain lines to a discarded stream. For runner-level tests.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "krdc/exec/process/process_executor.h"
#include "krdc/runner/result_reader.h"
#include "krdc/runner/runner.h"
#include "krdc/workflow/loader.h"
#include "support/temp_dir.h"

namespace krdc::test {

struct RunOutcome {
  runner::RunSummary summary;
  std::vector<nlohmann::json> records;
  size_t invalid_lines = 0;

  // The "end" record of a step in the last run.
  nlohmann::json end_of(const std::string& step) const {
    nlohmann::json found;
    for (const auto& r : records) {
      if (r.value("type", "") == "step" && r.value("event", "") == "end" && r.value("step", "") == step) found = r;
    }
    return found;
  }
  size_t count(const std::string& event, const std::string& step) const {
    size_t n = 0;
    for (const auto& r : records) n += r.value("event", "") == event && r.value("step", "") == step;
    return n;
  }
};

struct Harness {
  TempDir dir;
  int jobs = 2;
  bool fail_fast = false;
  long long kill_grace_ms = 2000;
  const runner::ResumeIndex* resume = nullptr;
  exec::CancelToken* cancel = nullptr;  // optional external token
  exec::Executor* executor = nullptr;    // optional: instead of the process executor

  std::string results_path;  // default: results.jsonl in the temp dir

  std::string results() const { return results_path.empty() ? std::string(dir / "results.jsonl") : results_path; }

  RunOutcome run(const std::string& workflow_text) {
    const auto path = dir.write("wf.yaml", workflow_text);
    const auto wf = workflow::load_workflow(path);
    exec::ProcessExecutor process;
    exec::CancelToken own;
    exec::CancelToken& token = cancel ? *cancel : own;
    runner::RunOptions options;
    options.jobs = jobs;
    options.fail_fast = fail_fast;
    options.run_id = runner::new_run_id();
    options.run_dir = dir.path() / "runs" / options.run_id;
    options.kill_grace_ms = kill_grace_ms;
    options.resume = resume;
    RunOutcome out;
    {
      std::unique_ptr<std::FILE, int (*)(std::FILE*)> sink(std::fopen("/dev/null", "w"), &std::fclose);
      runner::ResultWriter writer(results());
      runner::StatusPrinter status(sink.get(), false, false, wf.steps.size());
      exec::Executor& chosen = executor ? *executor : process;
      runner::Runner r(wf, options, [&](const workflow::Step&) -> exec::Executor& { return chosen; }, writer, status,
                       token);
      out.summary = r.run();
    }
    const auto file = runner::read_result_file(results());
    out.invalid_lines = file.invalid_lines;
    // Keep only the records of this run (the file may hold earlier runs).
    for (const auto& rec : file.records) {
      if (rec.value("run", "") == options.run_id) out.records.push_back(rec);
    }
    return out;
  }
};

inline std::string workflow_yaml(const std::string& steps, const std::string& extra_spec = "") {
  return "apiVersion: krdc/v1\nkind: Workflow\nmetadata: {name: t}\nspec:\n" + extra_spec + "  steps:\n" + steps;
}

}  // namespace krdc::test
