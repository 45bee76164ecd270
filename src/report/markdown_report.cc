#include "krdc/report/markdown_report.h"

#include <fmt/format.h>

#include "krdc/report/step_columns.h"
#include "krdc/report/wording.h"

namespace krdc::report {

std::string markdown_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

namespace {

std::string code(const std::string& text) { return "`" + markdown_cell(text) + "`"; }

std::string header(const RunSummary& run) {
  std::string out = fmt::format("# Run {} of {}\n\n", code(run.run_id), code(run.workflow));
  out += fmt::format("- **Status:** {}{}\n", run_status_line(run),
                     status_counts(run).empty() ? "" : " — " + status_counts(run));
  out += fmt::format("- **Started:** {} by {}\n", run.start, run.user.empty() ? "-" : code(run.user));
  out += fmt::format("- **Duration:** {}\n", format_seconds(run.duration_sec));
  if (!run.workflow_file.empty()) out += fmt::format("- **Workflow file:** {}\n", code(run.workflow_file));
  out += fmt::format("- **Params:** {}\n", run.params.empty() ? "(none)" : code(run.params.dump()));
  out += fmt::format("- **krdc:** {}\n", run.krdc_version.empty() ? "-" : run.krdc_version);
  return out;
}

std::string steps_table(const RunSummary& run) {
  std::string out = "|";
  std::string rule = "|";
  for (const auto& name : step_column_names()) {
    out += " " + name.substr(0, 1) + [&] {
      std::string rest = name.substr(1);
      for (auto& c : rest) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return rest;
    }() + " |";
    rule += name == "ATTEMPTS" || name == "DURATION" || name == "EXIT" ? " --: |" : " --- |";
  }
  out += "\n" + rule + "\n";
  for (const auto& s : run.steps) {
    out += "|";
    for (const auto& cell : step_cells(s)) out += " " + markdown_cell(cell) + " |";
    out += "\n";
  }
  return out;
}

std::string notes(const RunSummary& run) {
  std::string out;
  for (const auto& s : run.steps) {
    if (s.status == "succeeded" || s.reason.empty()) continue;
    out += fmt::format("- **{}** ({}): {}", markdown_cell(s.name), status_label(s.status), markdown_cell(s.reason));
    if (!s.log.empty() && s.status != "skipped") out += fmt::format(" — log {}", code(s.log));
    out += "\n";
  }
  return out.empty() ? out : "\n## Notes\n\n" + out;
}

}  // namespace

std::string render_markdown(const RunSummary& run) {
  std::string out = header(run) + "\n## Steps\n\n" + steps_table(run) + notes(run);
  if (run.planned_steps > run.steps.size()) {
    out += fmt::format("\n{} of the workflow's {} never started.\n", plural(run.planned_steps - run.steps.size(), "step"),
                       run.planned_steps);
  }
  return out;
}

}  // namespace krdc::report
