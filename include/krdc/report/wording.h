#pragma once
// How the report says things to people, once for every human format (text, markdown, HTML):
// statuses in words, plurals, durations, outputs cut to a readable length.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "krdc/report/run_summary.h"

namespace krdc::report {

// "timed_out" → "timed out"; the rest as they are.
std::string status_label(const std::string& status);
// Which executor ran a step, in the words: process, job (a Job on the local cluster),
// proxy (a proxy Job for a remote cluster).
std::string executor_label(const std::string& executor);
// "1 step", "2 steps", "1 dependency", "3 dependencies".
std::string plural(size_t n, std::string_view noun);
// "0.7s", "12.3s", "2m 05s", "1h 02m"; "-" when unknown.
std::string format_seconds(std::optional<double> seconds);
// `key=value, key=value` in one line, cut at about `max` characters with "…".
std::string outputs_line(const nlohmann::json& outputs, size_t max = 60);
// One line saying how the steps ended: "3 succeeded, 1 failed, 1 skipped".
std::string status_counts(const RunSummary& run);
// The run's status for people, with what "incomplete" means.
std::string run_status_line(const RunSummary& run);
// Columns a UTF-8 string takes on a terminal, counted as code points (no wide characters in
// what krdc prints itself; names and outputs that have them only misalign).
size_t display_width(std::string_view text);
// `text` followed by spaces up to `width` columns.
std::string pad_right(const std::string& text, size_t width);

}  // namespace krdc::report
