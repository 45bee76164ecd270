#pragma once
// `krdc report -o html`: one self-contained page (no network: inline CSS, SVG and a few lines
// of vanilla JS to sort the table), readable in light and dark mode (prefers-color-scheme).
#include <string>

#include "krdc/report/run_summary.h"

namespace krdc::report {

std::string render_html(const RunSummary& run);

}  // namespace krdc::report
