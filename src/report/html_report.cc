#include "krdc/report/html_report.h"

#include <fmt/format.h>

#include "krdc/report/step_columns.h"
#include "krdc/report/svg_timeline.h"
#include "krdc/report/wording.h"

namespace krdc::report {

namespace {

// Colours by status as CSS variables, one set per colour scheme.
constexpr const char* kStyle = R"(<style>
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1d1d1f; --muted: #5f6368; --line: #d9d9de;
  --head: #f3f3f6; --ok: #2e7d32; --fail: #c62828; --timeout: #e65100; --stop: #8d6e63; --lost: #7b1fa2;
  --reused: #1565c0; --skip: #9e9e9e; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #16181c; --fg: #e8e8ea; --muted: #a0a4ab; --line: #33363d; --head: #20232a; --ok: #66bb6a;
    --fail: #ef5350; --timeout: #ffa726; --stop: #bcaaa4; --lost: #ce93d8; --reused: #64b5f6; --skip: #757575; }
  svg text.bar-label { fill: #111 !important; }
}
body { background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, sans-serif; margin: 2rem; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; } h1 small { color: var(--muted); font-weight: normal; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 .6rem; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; margin: 0; }
dt { color: var(--muted); } dd { margin: 0; }
code { font: 12px ui-monospace, monospace; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th, td:not(:last-child) { white-space: nowrap; }
th { background: var(--head); } th button { all: unset; cursor: pointer; font-weight: 600; }
th button::after { content: " \2195"; color: var(--muted); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.status { font-weight: 600; }
.s-succeeded { --c: var(--ok); } .s-failed { --c: var(--fail); } .s-timed_out { --c: var(--timeout); }
.s-cancelled { --c: var(--stop); } .s-lost, .s-incomplete { --c: var(--lost); } .s-reused { --c: var(--reused); }
.s-skipped, .s-detached, .s-running { --c: var(--skip); }
span.status { color: var(--c); } rect.bar { fill: var(--c); }
svg.timeline { max-width: 100%; height: auto; }
svg text { fill: var(--fg); font: 11px system-ui, sans-serif; } svg text.bar-label { fill: #fff; }
svg text.lane, svg text.tick { fill: var(--muted); } line.axis { stroke: var(--muted); }
.legend span { margin-right: 1rem; } .legend i { display: inline-block; width: .8rem; height: .8rem;
  background: var(--c); border-radius: 2px; margin-right: .3rem; vertical-align: -1px; }
</style>
)";

// Sorts the steps table by the clicked column: numbers by data-sort, text by its content.
constexpr const char* kScript = R"(<script>
document.querySelectorAll("table.sortable th button").forEach((button, column) => {
  button.addEventListener("click", () => {
    const body = button.closest("table").tBodies[0];
    const key = row => row.cells[column].dataset.sort ?? row.cells[column].textContent;
    const numeric = button.closest("th").classList.contains("num");
    const up = button.dataset.dir !== "up"; button.dataset.dir = up ? "up" : "down";
    const rows = [...body.rows].sort((a, b) => numeric ? key(a) - key(b) : key(a).localeCompare(key(b)));
    (up ? rows : rows.reverse()).forEach(row => body.append(row));
  });
});
</script>
)";

bool numeric_column(const std::string& name) { return name == "ATTEMPTS" || name == "DURATION" || name == "EXIT"; }

std::string title_case(const std::string& name) {
  std::string out = name;
  for (size_t i = 1; i < out.size(); ++i) out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
  return out;
}

std::string header(const RunSummary& run) {
  std::string out = fmt::format("<header>\n<h1>{} <small>run {}</small></h1>\n<dl>\n", xml_escape(run.workflow),
                                xml_escape(run.run_id));
  auto item = [&out](const char* term, const std::string& html) { out += fmt::format("<dt>{}</dt><dd>{}</dd>\n", term, html); };
  item("Status", fmt::format(R"(<span class="status s-{}">{}</span>{})", xml_escape(run.status),
                             xml_escape(run_status_line(run)),
                             status_counts(run).empty() ? "" : " — " + xml_escape(status_counts(run))));
  item("Started", xml_escape(run.start));
  item("Duration", xml_escape(format_seconds(run.duration_sec)));
  item("User", xml_escape(run.user.empty() ? "-" : run.user));
  item("Params", run.params.empty() ? "(none)" : "<code>" + xml_escape(run.params.dump()) + "</code>");
  if (!run.workflow_file.empty()) item("Workflow file", "<code>" + xml_escape(run.workflow_file) + "</code>");
  item("krdc", xml_escape(run.krdc_version.empty() ? "-" : run.krdc_version));
  return out + "</dl>\n</header>\n";
}

std::string timeline(const RunSummary& run) {
  const std::string svg = render_svg_timeline(run);
  if (svg.empty()) return "<h2>Timeline</h2>\n<p>No step ran in this run (every step was reused or skipped).</p>\n";
  std::string legend = R"(<p class="legend">)";
  for (const char* s : {"succeeded", "failed", "timed_out", "cancelled", "lost"}) {
    legend += fmt::format(R"(<span class="s-{}"><i></i>{}</span>)", s, status_label(s));
  }
  return fmt::format("<h2>Timeline</h2>\n<p>One lane per parallel slot; each bar is one attempt.</p>\n{}\n{}</p>\n", svg,
                     legend);
}

// A cell's sort key where its text does not sort right (durations, numbers).
std::string sort_key(const StepSummary& s, const std::string& column) {
  if (column == "DURATION") return fmt::format("{:.3f}", s.duration_sec.value_or(-1));
  if (column == "EXIT") return s.exit_code ? std::to_string(*s.exit_code) : "-1";
  if (column == "ATTEMPTS") return std::to_string(s.attempts);
  if (column == "START") return s.start;
  return "";
}

std::string step_row(const StepSummary& s) {
  const auto& names = step_column_names();
  const auto cells = step_cells(s);
  std::string out = fmt::format(R"(<tr class="s-{}">)", xml_escape(s.status));
  for (size_t c = 0; c < cells.size(); ++c) {
    const std::string key = sort_key(s, names[c]);
    std::string text = xml_escape(cells[c]);
    if (names[c] == "STATUS") text = R"(<span class="status">)" + text + "</span>";
    if (names[c] == "OUTPUTS" && s.outputs.is_object() && !s.outputs.empty()) {
      text = fmt::format(R"(<span title="{}">{}</span>)", xml_escape(s.outputs.dump()), text);
    }
    out += fmt::format("<td{}{}>{}</td>", numeric_column(names[c]) ? R"( class="num")" : "",
                       key.empty() ? "" : fmt::format(R"( data-sort="{}")", xml_escape(key)), text);
  }
  return out + "</tr>\n";
}

std::string steps_table(const RunSummary& run) {
  std::string out = "<h2>Steps</h2>\n<table class=\"sortable\" id=\"steps\">\n<thead><tr>";
  for (const auto& name : step_column_names()) {
    out += fmt::format("<th{}><button type=\"button\">{}</button></th>", numeric_column(name) ? R"( class="num")" : "",
                       title_case(name));
  }
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& s : run.steps) out += step_row(s);
  return out + "</tbody>\n</table>\n";
}

std::string notes(const RunSummary& run) {
  std::string out;
  for (const auto& s : run.steps) {
    if (s.status == "succeeded" || s.reason.empty()) continue;
    out += fmt::format(R"(<li class="s-{}"><b>{}</b> <span class="status">{}</span>: {})", xml_escape(s.status),
                       xml_escape(s.name), xml_escape(status_label(s.status)), xml_escape(s.reason));
    if (!s.log.empty() && s.status != "skipped") out += fmt::format(" — log <code>{}</code>", xml_escape(s.log));
    out += "</li>\n";
  }
  if (run.planned_steps > run.steps.size()) {
    out += fmt::format("<li>{} of the workflow's {} never started</li>\n",
                       plural(run.planned_steps - run.steps.size(), "step"), run.planned_steps);
  }
  return out.empty() ? out : "<h2>Notes</h2>\n<ul>\n" + out + "</ul>\n";
}

}  // namespace

std::string render_html(const RunSummary& run) {
  std::string out = "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"color-scheme\" content=\"light dark\">\n";
  out += fmt::format("<title>krdc report: {} run {}</title>\n", xml_escape(run.workflow), xml_escape(run.run_id));
  out += kStyle;
  out += "</head>\n<body>\n" + header(run) + timeline(run) + steps_table(run) + notes(run);
  out += kScript;
  return out + "</body>\n</html>\n";
}

}  // namespace krdc::report
