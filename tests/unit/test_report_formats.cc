// Every `krdc report` format against result files from real runs (tests/data/results): what a
// person or a script reads in each, step by step.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <regex>
#include <sstream>

#include "krdc/report/gantt.h"
#include "krdc/report/html_report.h"
#include "krdc/report/json_report.h"
#include "krdc/report/markdown_report.h"
#include "krdc/report/render.h"
#include "krdc/report/svg_timeline.h"
#include "krdc/report/text_report.h"
#include "krdc/report/wording.h"
#include "krdc/runner/result_reader.h"
#include "krdc/util/errors.h"

using namespace krdc::report;

namespace {

RunSummary data(const std::string& name, const std::string& run = "") {
  return summarize_run(
      krdc::runner::read_result_file(std::string(KRDC_SOURCE_DIR) + "/tests/data/results/" + name + ".results.jsonl"),
      run);
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
  return n;
}

// The first line of `text` that starts with `prefix`.
std::string line_of(const std::string& text, const std::string& prefix) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) == 0) return line;
  }
  return "";
}

}  // namespace

TEST_CASE("wording: plurals, statuses, durations and outputs for people") {
  CHECK(plural(1, "dependency") == "1 dependency");
  CHECK(plural(2, "dependency") == "2 dependencies");
  CHECK(plural(0, "step") == "0 steps");
  CHECK(plural(1, "step") == "1 step");
  CHECK(plural(3, "day") == "3 days");
  CHECK(status_label("timed_out") == "timed out");
  CHECK(status_label("reused") == "reused");
  CHECK(executor_label("kube") == "job");
  CHECK(executor_label("proxy") == "proxy");
  CHECK(format_seconds(0.73) == "0.7s");
  CHECK(format_seconds(125) == "2m 05s");
  CHECK(format_seconds(3720) == "1h 02m");
  CHECK(format_seconds(std::nullopt) == "-");
  CHECK(format_seconds(36000) == "10h 00m");
  CHECK(has(format_seconds(1e300), "h "));  // a hand-edited duration: no integer overflow
  const std::string long_line = outputs_line({{"text", std::string(200, 'x')}}, 40);
  CHECK(display_width(long_line) == 40);
  CHECK(long_line.ends_with("…"));
  // Cut on a character boundary: a multi-byte character is never split.
  const std::string cut = outputs_line({{"t", "ééééééééééééééééééééééé"}}, 10);
  CHECK(display_width(cut) <= 10);
  CHECK(cut.ends_with("…"));
}

TEST_CASE("text report: header, one row per step with its values, and notes") {
  const auto run = data("failed");
  const std::string out = render_text(run, {});
  CHECK(has(out, "workflow:  pipeline"));
  CHECK(has(out, "run:       " + run.run_id));
  CHECK(has(out, "status:    failed"));
  CHECK(has(out, "user:      root"));
  CHECK(has(out, "count_ms=5000"));
  CHECK(has(line_of(out, "STEP"), "OUTPUTS"));
  const std::string check = line_of(out, "check ");
  CHECK(has(check, "failed"));
  CHECK(has(check, "process"));
  CHECK(has(check, " 2 "));  // attempts
  CHECK(has(check, " 3 "));  // exit code
  CHECK(has(line_of(out, "count "), "timed out"));
  CHECK_FALSE(has(out, "timed_out"));
  CHECK(has(line_of(out, "prepare "), "label=prepare"));
  CHECK(has(line_of(out, "publish "), "skipped"));
  // Why check failed, and where its log is.
  CHECK(has(out, "check (failed): exited with code 3"));
  CHECK(has(out, "/check/attempt-2.log"));
  CHECK_FALSE(has(out, "timeline:"));  // no Gantt unless asked (a pipe, not a terminal)
}

TEST_CASE("text report: a killed run says incomplete and shows lost steps; reused steps say reused") {
  const std::string killed = render_text(data("killed"), {});
  CHECK(has(killed, "incomplete (no run footer"));
  CHECK(has(line_of(killed, "align "), "lost"));
  CHECK(has(killed, "never started"));
  const std::string resumed = render_text(data("resumed"), {});
  for (const char* name : {"prepare ", "align ", "count ", "check "}) CHECK(has(line_of(resumed, name), "reused"));
  CHECK(has(line_of(resumed, "publish "), "succeeded"));
  CHECK(has(resumed, "1 succeeded, 4 reused"));
}

TEST_CASE("text Gantt: one row per step, bars where its attempts ran") {
  const auto run = data("failed");
  const std::string gantt = render_gantt(run, 100);
  CHECK(has(gantt, "at most 2 steps"));
  // prepare ran first: its bar starts at the left edge; check's bars come later and in two
  // attempts (failed glyphs).
  const std::string prepare = line_of(gantt, "prepare");
  CHECK(has(prepare, "│█"));
  const std::string check = line_of(gantt, "check");
  CHECK(has(check, "▒"));
  CHECK(check.find("▒") > prepare.find("█"));
  CHECK(has(line_of(gantt, "publish"), "(skipped)"));
  // On a terminal the text report carries it.
  TextOptions tty;
  tty.gantt = true;
  tty.width = 100;
  CHECK(has(render_text(run, tty), gantt));
}

TEST_CASE("json and yaml report: the model as data") {
  const auto run = data("resumed");
  const auto j = nlohmann::json::parse(render_report(run, "json"));
  CHECK(j["run"] == run.run_id);
  CHECK(j["status"] == "succeeded");
  REQUIRE(j["steps"].size() == 5);
  CHECK(j["steps"][0]["status"] == "reused");
  CHECK(j["steps"][0]["timeline"].empty());
  CHECK_FALSE(j["steps"][0].contains("exitCode"));
  const auto& publish = j["steps"][4];
  CHECK(publish["name"] == "publish");
  CHECK(publish["exitCode"] == 0);
  CHECK(publish["timeline"].size() == 1);
  CHECK(publish["outputs"]["label"] == "publish");

  const YAML::Node y = YAML::Load(render_report(run, "yaml"));
  CHECK(y["run"].as<std::string>() == run.run_id);
  CHECK(y["steps"].size() == 5);
  CHECK(y["steps"][4]["status"].as<std::string>() == "succeeded");
}

TEST_CASE("markdown report: a table with one row per step, cells escaped") {
  const auto run = data("failed");
  const std::string md = render_markdown(run);
  CHECK(has(md, "# Run `" + run.run_id + "` of `pipeline`"));
  CHECK(has(md, "| Step | Status | Executor |"));
  CHECK(has(md, "| --- | --- |"));
  CHECK(count(md, "\n| ") == run.steps.size() + 2);  // header, rule, steps
  CHECK(has(md, "| check | failed | process |"));
  CHECK(has(md, "| count | timed out |"));
  CHECK(has(md, "## Notes"));
  CHECK(markdown_cell("a|b\nc") == "a\\|b c");
}

TEST_CASE("html report: self-contained, both colour schemes, the table and the SVG timeline") {
  const auto run = data("failed");
  const std::string html = render_html(run);
  CHECK(html.rfind("<!doctype html>", 0) == 0);
  CHECK(has(html, "@media (prefers-color-scheme: dark)"));
  CHECK(has(html, "<meta name=\"color-scheme\" content=\"light dark\">"));
  // No network: nothing is loaded from anywhere, and no external link at all.
  CHECK_FALSE(std::regex_search(html, std::regex(R"((src|href)\s*=)", std::regex::icase)));
  CHECK_FALSE(has(html, "http://"));
  CHECK_FALSE(has(html, "https://"));
  CHECK_FALSE(has(html, "<link"));
  // One table row per step, the table sortable by a few lines of plain JS.
  CHECK(count(html, "<tr class=\"s-") == run.steps.size());
  CHECK(has(html, "<tr class=\"s-timed_out\"><td>count</td><td><span class=\"status\">timed out</span>"));
  CHECK(has(html, "table class=\"sortable\""));
  CHECK(has(html, "addEventListener(\"click\""));
  // The timeline: one rect per attempt (check ran twice), one lane label per parallel slot.
  size_t attempts = 0;
  for (const auto& s : run.steps) attempts += s.tries.size();
  CHECK(attempts == 5);
  CHECK(count(html, "<rect class=\"bar") == attempts);
  CHECK(count(html, "class=\"lane\"") == static_cast<size_t>(run.lanes));
}

TEST_CASE("svg timeline: rect widths are proportional to the attempts' durations") {
  for (const char* name : {"succeeded", "failed", "cancelled", "killed"}) {
    INFO(name);
    const auto run = data(name);
    const SvgLayout layout;
    const std::string svg = render_svg_timeline(run, layout);
    const std::regex rect(R"re(<rect class="bar s-(\w+)" x="([\d.]+)" y="(\d+)" width="([\d.]+)"[^>]*data-seconds="([\d.]+)")re");
    size_t rects = 0;
    const double px_per_second = layout.plot_width() / run.span_sec;
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), rect); it != std::sregex_iterator(); ++it) {
      ++rects;
      const double x = std::stod((*it)[2]);
      const double width = std::stod((*it)[4]);
      const double seconds = std::stod((*it)[5]);
      CHECK(width == doctest::Approx(seconds * px_per_second).epsilon(0.01));
      CHECK(x >= layout.label_width);
      CHECK(x + width <= layout.label_width + layout.plot_width() + 0.01);
    }
    size_t attempts = 0;
    for (const auto& s : run.steps) attempts += s.tries.size();
    CHECK(rects == attempts);
    CHECK(rects > 0);
  }
  // A killed run draws its lost attempt in the lost colour.
  CHECK(has(render_svg_timeline(data("killed")), "class=\"bar s-lost\""));
  // A run of reused steps only has no attempts to draw, and the page says so.
  RunSummary nothing_ran = data("resumed");
  nothing_ran.steps.pop_back();
  nothing_ran.lanes = 0;
  CHECK(render_svg_timeline(nothing_ran).empty());
  CHECK(has(render_html(nothing_ran), "No step ran"));
}

TEST_CASE("html report: what a step printed is escaped, never markup") {
  const std::string text =
      R"({"type":"run","event":"start","run":"r1","workflow":"w<b>","time":"2026-01-01T00:00:00.000Z"}
{"type":"step","event":"start","run":"r1","step":"a","attempt":1,"executor":"process","time":"2026-01-01T00:00:00.000Z"}
{"type":"step","event":"end","run":"r1","step":"a","status":"failed","attempts":1,"exitCode":1,"reason":"<script>alert(1)</script>","outputs":{"x":"\"><img src=x>"},"time":"2026-01-01T00:00:01.000Z"}
)";
  const std::string html = render_html(summarize_run(krdc::runner::parse_result_text(text), ""));
  CHECK_FALSE(has(html, "<script>alert"));
  CHECK_FALSE(has(html, "<img"));
  CHECK_FALSE(has(html, "w<b>"));
  CHECK(has(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
}

TEST_CASE("render_report: every format the CLI offers, and a clear refusal for others") {
  const auto run = data("succeeded");
  for (const auto& format : report_formats()) {
    INFO(format);
    CHECK(has(render_report(run, format), "prepare"));
  }
  CHECK(render_report(run, "table") == render_report(run, "text"));
  try {
    render_report(run, "csv");
    FAIL("expected InvalidInput");
  } catch (const krdc::InvalidInput& e) {
    CHECK(has(e.what(), "-o csv"));
    CHECK(has(e.hint(), "markdown"));
  }
}

TEST_CASE("text report: cluster steps show their cluster, executor (job, proxy) and Job") {
  const std::string out = render_text(data("federated"), {});
  const std::string greet = line_of(out, "greet ");
  CHECK(has(greet, " job "));
  CHECK(has(greet, " kisti "));
  CHECK(has(greet, " greet-"));
  const std::string shout = line_of(out, "shout ");
  CHECK(has(shout, " proxy "));
  CHECK(has(shout, " unist "));
  CHECK(has(shout, " shout-"));
}
