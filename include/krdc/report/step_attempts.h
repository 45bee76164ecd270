#pragma once
// Every attempt of every step of one run, read from the result file alone: when it started and
// ended, how, where it ran (executor, cluster, its `submitted` details: Job name, namespace,
// uid, or pid), its argv and outputs, and where it wrote its log — the run directory the run
// header names (older files: the directory an `end` record's `log` lies in), then
// attempt-N.log, or adopted-RUN-N.log when a later krdc adopted it. `krdc logs` picks one
// attempt; `krdc export --ro-crate` turns each into a CreateAction.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "krdc/runner/result_reader.h"

namespace krdc::report {

struct AttemptDetail {
  int attempt = 1;
  std::string executor;                                  // process, kube, proxy
  std::string cluster;                                   // "" for a local process
  std::string log_path;                                  // the log file in the run directory
  std::string start_time;                                // RFC 3339, from its start record
  std::string end_time;                                  // from the record that closed it; "" while open
  bool closed = false;                                   // an end, retry or lost record ended it
  std::string status;                                    // how it ended: succeeded, failed, timed_out, lost, ...
  std::string reason;
  std::string tail;                                      // the log tail recorded when it ended
  nlohmann::json args = nlohmann::json::array();         // argv after substitution
  nlohmann::json params;                                 // params after substitution; null in older files
  nlohmann::json outputs = nlohmann::json::object();     // from the step's end record
  nlohmann::json submitted = nlohmann::json::object();  // where it ran, if recorded
};

struct StepAttempts {
  std::string run;
  std::string step;
  std::vector<AttemptDetail> attempts;  // in the order they started; empty for a skipped step
  std::string status;             // the step's end status ("reused" for --resume), "" while it has none

  // The attempt numbered `n`, or the latest with n == 0; InvalidInput naming the attempts there are.
  const AttemptDetail& pick(int n) const;
};

// The id of the latest run in the file (its last run header); InvalidInput when there is none.
std::string latest_run(const runner::ResultFile& file, const std::string& path);

// Every step of `run` that has a record, in the order they first appear. `results_path` locates
// a run directory the records do not name. InvalidInput when the file has no such run.
std::vector<StepAttempts> run_attempts(const runner::ResultFile& file, const std::string& results_path,
                                       const std::string& run);

// One step's attempts in `run` ("" = the latest run); InvalidInput for an unknown step, listing
// the run's steps.
StepAttempts find_step_attempts(const runner::ResultFile& file, const std::string& results_path,
                                const std::string& run, const std::string& step);

}  // namespace krdc::report
