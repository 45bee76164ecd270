#pragma once
// The per-step table every human format shows (text, markdown, HTML), as text cells: one
// definition of which columns there are and what goes in them.
#include <string>
#include <vector>

#include "krdc/report/run_summary.h"

namespace krdc::report {

// STEP, STATUS, EXECUTOR, CLUSTER, JOB, ATTEMPTS, START, DURATION, EXIT, OUTPUTS.
const std::vector<std::string>& step_column_names();
// The cells of one step, in step_column_names() order; "-" where a step has no value (a
// skipped step has no executor, a process step no cluster).
std::vector<std::string> step_cells(const StepSummary& step);
// The time of day of an RFC 3339 time (07:31:05), the whole text when it is not one.
std::string time_of_day(const std::string& rfc3339);

}  // namespace krdc::report
