#pragma once
// The one place a report format name becomes a renderer: text (= table), json, yaml,
// markdown, html.
#include <string>
#include <vector>

#include "krdc/report/run_summary.h"
#include "krdc/report/text_report.h"

namespace krdc::report {

const std::vector<std::string>& report_formats();
// The report in `format`; InvalidInput naming the formats there are for any other.
std::string render_report(const RunSummary& run, const std::string& format, const TextOptions& text = {});

}  // namespace krdc::report
