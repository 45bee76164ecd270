#pragma once
// The runner: takes the plan, starts ready steps (up to --jobs at once) on their executor,
// resolves ${{ }} just before a step starts, retries with backoff, enforces timeouts through
// the request deadline, stops on cancel, and turns every event into a result record.
// Nothing else writes the result file.
#include <atomic>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "krdc/exec/executor.h"
#include "krdc/runner/run_identity.h"
#include "krdc/runner/result_reader.h"
#include "krdc/runner/result_writer.h"
#include "krdc/runner/status_printer.h"
#include "krdc/workflow/workflow.h"

namespace krdc::runner {

struct RunOptions {
  int jobs = 1;
  bool fail_fast = false;
  std::string run_id;
  std::filesystem::path run_dir;         // per-step logs and outputs go under it
  // --resume / attach: steps found here with equal inputs are not run again, and attempts left
  // in flight are adopted (docs/architecture.md, "Reattach").
  const ResumeIndex* resume = nullptr;
  bool detach = false;                   // --detach: start what is ready, leave it running, return
  long long kill_grace_ms = 5000;
  long long max_backoff_ms = 60'000;
  nlohmann::json header = nlohmann::json::object();  // extra fields for the run header (user, version...)
};

// Which executor runs a step (process, kube, proxy): decided by the CLI from the cluster
// registry, so the runner never needs to know about clusters.
using ExecutorFor = std::function<exec::Executor&(const workflow::Step&)>;

struct RunSummary {
  std::string status;  // "succeeded", "failed", "cancelled"
  size_t succeeded = 0, failed = 0, skipped = 0, cancelled = 0;
  size_t detached = 0;  // --detach: left running for `krdc attach`
  // Failed steps that could not be run at all because a cluster was unreachable: when they
  // are all of the failures, the run exits 4 rather than 1 (README, "Exit status").
  size_t unreachable = 0;
  // Failed steps a cluster refused to run for this user (e.g. a remote credential rejected
  // mid-run): when they are all of the failures, the run exits 3.
  size_t refused = 0;
};

class Runner {
 public:
  Runner(const workflow::Workflow& wf, RunOptions options, ExecutorFor executor_for, ResultWriter& results,
         StatusPrinter& status, const exec::CancelToken& cancel);
  RunSummary run();
  // True once the run footer is written (thread-safe): a second Ctrl-C after that has nothing
  // to lose in the result file.
  bool footer_written() const { return footer_written_.load(); }

 private:
  struct Impl;
  std::atomic<bool> footer_written_{false};
  const workflow::Workflow& wf_;
  RunOptions options_;
  ExecutorFor executor_for_;
  ResultWriter& results_;
  StatusPrinter& status_;
  const exec::CancelToken& cancel_;
};

}  // namespace krdc::runner
