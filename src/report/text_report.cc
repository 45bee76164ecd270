#include "krdc/report/text_report.h"

#include <fmt/format.h>

#include <algorithm>

#include "krdc/report/gantt.h"
#include "krdc/report/step_columns.h"
#include "krdc/report/wording.h"

namespace krdc::report {

std::string align_columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], display_width(row[c]));
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      out += c + 1 == row.size() ? row[c] : pad_right(row[c], widths[c]) + "  ";
    }
    out += "\n";
  }
  return out;
}

namespace {

std::string params_line(const nlohmann::json& params) {
  if (!params.is_object() || params.empty()) return "(none)";
  std::string line;
  for (const auto& [key, value] : params.items()) {
    line += fmt::format("{}{}={}", line.empty() ? "" : ", ", key, value.is_string() ? value.get<std::string>() : value.dump());
  }
  return line;
}

std::string header(const RunSummary& run) {
  std::vector<std::vector<std::string>> rows = {
      {"workflow:", run.workflow + (run.workflow_file.empty() ? "" : " (" + run.workflow_file + ")")},
      {"run:", run.run_id},
      {"status:", run_status_line(run)},
      {"steps:", status_counts(run).empty() ? "none recorded" : status_counts(run)},
      {"user:", run.user.empty() ? "-" : run.user},
      {"started:", run.start},
      {"duration:", format_seconds(run.duration_sec)},
      {"params:", params_line(run.params)},
      {"krdc:", run.krdc_version.empty() ? "-" : run.krdc_version},
  };
  return align_columns(rows);
}

// Why each step that did not succeed ended as it did, and where its log is.
std::string notes(const RunSummary& run) {
  std::string out;
  for (const auto& s : run.steps) {
    if (s.status == "succeeded" || s.reason.empty()) continue;
    out += fmt::format("  {} ({}): {}\n", s.name, status_label(s.status), s.reason);
    if (!s.log.empty() && s.status != "skipped") out += fmt::format("    log: {}\n", s.log);
  }
  return out;
}

std::string footnotes(const RunSummary& run) {
  std::string out;
  if (run.planned_steps > run.steps.size()) {
    out += fmt::format("{} of the workflow's {} never started\n", plural(run.planned_steps - run.steps.size(), "step"),
                       run.planned_steps);
  }
  if (run.invalid_lines) out += fmt::format("({} skipped)\n", plural(run.invalid_lines, "unreadable line"));
  if (run.odd_records) out += fmt::format("({} of unexpected shape skipped)\n", plural(run.odd_records, "record"));
  return out;
}

}  // namespace

std::string render_text(const RunSummary& run, const TextOptions& options) {
  std::vector<std::vector<std::string>> rows = {step_column_names()};
  for (const auto& s : run.steps) rows.push_back(step_cells(s));
  std::string out = header(run) + "\n" + align_columns(rows);
  if (const auto n = notes(run); !n.empty()) out += "\n" + n;
  if (const auto f = footnotes(run); !f.empty()) out += "\n" + f;
  if (options.gantt && !run.steps.empty()) out += "\n" + render_gantt(run, options.width);
  return out;
}

}  // namespace krdc::report
