#pragma once
// `krdc report -o json` / `-o yaml`: the run summary as data, for scripts (the result file
// itself stays the complete record).
#include <nlohmann/json.hpp>

#include "krdc/report/run_summary.h"

namespace krdc::report {

// Field names follow the result file's (camelCase: durationSec, exitCode); a value a step
// does not have is absent rather than null.
nlohmann::json to_json(const RunSummary& run);

}  // namespace krdc::report
