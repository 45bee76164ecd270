#include "krdc/report/step_columns.h"

#include "krdc/report/wording.h"

namespace krdc::report {

const std::vector<std::string>& step_column_names() {
  static const std::vector<std::string> names = {"STEP",  "STATUS", "EXECUTOR", "CLUSTER", "JOB",
                                                 "ATTEMPTS", "START", "DURATION", "EXIT", "OUTPUTS"};
  return names;
}

std::string time_of_day(const std::string& rfc3339) {
  return parse_rfc3339(rfc3339) ? rfc3339.substr(11, 8) : rfc3339;
}

std::vector<std::string> step_cells(const StepSummary& step) {
  auto or_dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
  return {step.name,
          status_label(step.status),
          or_dash(executor_label(step.executor)),
          or_dash(step.cluster),
          or_dash(step.job),
          std::to_string(step.attempts),
          or_dash(time_of_day(step.start)),
          format_seconds(step.duration_sec),
          step.exit_code ? std::to_string(*step.exit_code) : "-",
          or_dash(outputs_line(step.outputs))};
}

}  // namespace krdc::report
