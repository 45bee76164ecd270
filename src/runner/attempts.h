#pragma once
// Every attempt of one unit of work (a step, or one instance of a scattered step), on a worker
// thread: the `start`/`submitted`/`retry`/`lost` records, backoff between attempts, and
// adopting an attempt an earlier krdc left in flight (docs/architecture.md, "Reattach").
// Internal to the runner: the scheduling loop (runner.cc) decides what runs; this runs it.
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "krdc/exec/executor.h"
#include "krdc/runner/result_writer.h"
#include "krdc/runner/runner.h"
#include "krdc/runner/status_printer.h"

namespace krdc::runner {

// What the attempts of one unit need from the run around them.
struct AttemptContext {
  const workflow::Workflow& wf;
  const RunOptions& options;
  StatusPrinter& status;
  exec::StepObserver& progress;  // executor progress for people (status line, log echo)
  const exec::CancelToken& stop;
  // Appends a record; never throws (a failed write stops the run instead).
  std::function<void(nlohmann::json, ResultWriter::Sync)> record;
};

// One unit, resolved and ready to run.
struct UnitWork {
  workflow::Step step;             // the step, named as the unit: "sim" or "sim[3]"
  nlohmann::json params;           // resolved
  std::vector<std::string> args;   // rendered
  std::string digest;              // inputs digest
  nlohmann::json record_fields = nlohmann::json::object();  // added to start/end (instance of…)
};

// What a worker thread hands back to the scheduling loop.
struct Completion {
  size_t unit = 0;
  exec::StepResult result;
  int attempts = 0;
  double seconds = 0;
  std::string executor;
  std::string digest;
  std::vector<std::string> args;
  std::filesystem::path log_file;
  bool maybe_running = false;  // krdc lost sight of the last attempt after it existed
};

// A step record for `step` (a unit's name) of this run.
nlohmann::json step_record(const RunOptions& options, const std::string& step, const char* event);

// Runs attempts until one succeeds, the retries are used up, or the run stops. Throws only
// what the executor throws that is not a krdc::Error (the caller records it).
Completion run_attempts(const AttemptContext& ctx, const UnitWork& work, exec::Executor& executor);

}  // namespace krdc::runner
