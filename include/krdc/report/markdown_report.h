#pragma once
// `krdc report -o markdown`: for a paper's supplement, a README or an issue comment.
#include <string>

#include "krdc/report/run_summary.h"

namespace krdc::report {

std::string render_markdown(const RunSummary& run);
// A table cell's text: `|` escaped, line breaks as spaces.
std::string markdown_cell(const std::string& text);

}  // namespace krdc::report
