#pragma once
// `krdc status`: what is running, done, failed in one run — the run model `krdc report` reads
// (summarize_run), plus what only a live view needs: a step the model calls lost (started,
// never ended) is `running` while a krdc holds the result file (report::writer_active); when
// none does it is `lost` (a process dies with krdc) or `in-flight` (a Job may still run;
// `krdc attach` follows it). For Jobs in flight the caller may add what the cluster says.
#include <nlohmann/json.hpp>
#include <optional>
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
  std::optional<double> duration_sec;
  std::optional<int> exit_code;
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
  std::optional<double> duration_sec;
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
