#include "krdc/report/gantt.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "krdc/report/wording.h"

namespace krdc::report {

const char* gantt_glyph(const std::string& status) {
  if (status == "succeeded") return "█";
  if (status == "failed" || status == "timed_out") return "▒";
  return "░";  // cancelled, lost, detached: ended without an outcome
}

namespace {

size_t name_width(const RunSummary& run) {
  size_t w = 4;
  for (const auto& s : run.steps) w = std::max(w, display_width(s.name));
  return std::min<size_t>(w, 24);
}

// One step's row: `cells` columns, each attempt drawn from its start to its end column.
std::string bar_row(const StepSummary& step, double span, int cells) {
  if (step.tries.empty()) return fmt::format("({})", status_label(step.status));
  std::vector<std::string> row(static_cast<size_t>(cells), " ");
  for (const auto& a : step.tries) {
    // Clamped as doubles first: the cast of an out-of-range double is undefined.
    auto column = [&](double sec) { return std::clamp(sec / span * cells, 0.0, static_cast<double>(cells)); };
    const int from = std::min(static_cast<int>(std::floor(column(a.start_sec))), cells - 1);
    const int to = std::max(static_cast<int>(std::ceil(column(a.end_sec))), from + 1);
    for (int c = from; c < to; ++c) row[static_cast<size_t>(c)] = gantt_glyph(a.status);
  }
  std::string out;
  for (const auto& c : row) out += c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

std::string render_gantt(const RunSummary& run, int width) {
  const size_t names = name_width(run);
  // Name, " │", the bars, "┘ " and the span (about 8 columns) fit in `width`.
  const int cells = std::max(40, width) - static_cast<int>(names) - 12;
  const double span = run.span_sec > 0 ? run.span_sec : 1.0;
  std::string out = fmt::format("timeline: {} from start to last record, at most {} at once\n",
                                format_seconds(run.span_sec), plural(static_cast<size_t>(run.lanes), "step"));
  for (const auto& s : run.steps) {
    const std::string name = display_width(s.name) > names ? s.name.substr(0, names - 1) + "…" : s.name;
    out += pad_right(name, names) + " │" + bar_row(s, span, cells) + "\n";
  }
  std::string axis;
  for (int c = 0; c < cells; ++c) axis += "─";
  out += std::string(names, ' ') + " └" + axis + "┘ " + format_seconds(span) + "\n";
  out += fmt::format("{} succeeded  {} failed or timed out  {} cancelled, lost or detached\n", gantt_glyph("succeeded"),
                     gantt_glyph("failed"), gantt_glyph("lost"));
  return out;
}

}  // namespace krdc::report
