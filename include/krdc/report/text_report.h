#pragma once
// `krdc report -o text` (or `table`): a header, the step table, why steps did not succeed, and
// on a terminal a text Gantt of the attempts (gantt.h).
#include <string>

#include "krdc/report/run_summary.h"

namespace krdc::report {

struct TextOptions {
  bool gantt = false;  // the CLI sets it when stdout is a terminal
  int width = 80;      // terminal columns, for the Gantt
};

std::string render_text(const RunSummary& run, const TextOptions& options);

// Columns of text aligned by display width (UTF-8 code points), two spaces apart, the last
// column not padded.
std::string align_columns(const std::vector<std::vector<std::string>>& rows);

}  // namespace krdc::report
