#pragma once
// `krdc status`: what is running, done, failed in one run, from the result file (and, for
// cluster Jobs still in flight, what the cluster says when it can be asked). A step without an
// end record is running while a krdc holds the result file (report::writer_active); when none
// does, krdc died or left (--detach): its attempt is `lost` (a process died with krdc) or
// `in-flight` (a Job may still run; `krdc attach` follows it) — or `detached` when it left on
// purpose.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "krdc/report/step_attempts.h"
#include "krdc/runner/result_reader.h"

namespace krdc::report {

struct StepStatus {
  std::string step;
  std::string state;     // running, succeeded, failed, timed_out, cancelled, skipped, reused, lost, in-flight, detached
  int attempts = 0;      // attempts started (in this run)
  std::string executor;  // of the latest attempt
  std::string cluster;
  std::string where;     // Job namespace/name or pid of the latest attempt
  std::string started;   // RFC 3339
  std::string ended;
  std::string reason;
  std::string log;       // the latest attempt's log file
  std::string live;      // what the cluster says about a Job in flight; "" when not asked
  nlohmann::json job = nlohmann::json::object();  // the latest attempt's `submitted` details
};

struct RunStatus {
  std::string run;
  std::string workflow;
  std::string user;
  std::string started;
  std::string ended;
  std::string state;        // running, succeeded, failed, cancelled, detached, interrupted
  bool writer_active = false;
  int steps_total = 0;      // as the run header counts them
  std::vector<StepStatus> steps;
  std::string note;         // one line about the cluster (unreachable, no credentials), if any
};

// `writer_active`: whether a krdc holds the file now (report::writer_active).
RunStatus read_run_status(const runner::ResultFile& file, const std::string& results_path, const std::string& run,
                     bool writer_active);

nlohmann::json to_json(const RunStatus& status);
std::string render_status(const RunStatus& status, bool color);

}  // namespace krdc::report
