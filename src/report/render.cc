#include "krdc/report/render.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "krdc/report/html_report.h"
#include "krdc/report/json_report.h"
#include "krdc/report/markdown_report.h"
#include "krdc/util/errors.h"
#include "krdc/workflow/yaml_writer.h"

namespace krdc::report {

const std::vector<std::string>& report_formats() {
  static const std::vector<std::string> formats = {"text", "table", "json", "yaml", "markdown", "html"};
  return formats;
}

std::string render_report(const RunSummary& run, const std::string& format, const TextOptions& text) {
  if (format == "text" || format == "table") return render_text(run, text);
  if (format == "json") return to_json(run).dump(2) + "\n";
  if (format == "yaml") return workflow::json_to_yaml(to_json(run)) + "\n";
  if (format == "markdown") return render_markdown(run);
  if (format == "html") return render_html(run);
  throw InvalidInput(fmt::format("krdc report does not print -o {}", format),
                     fmt::format("use one of: {}", fmt::join(report_formats(), ", ")));
}

}  // namespace krdc::report
