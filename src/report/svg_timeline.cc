#include "krdc/report/svg_timeline.h"

#include <fmt/format.h>

#include <cmath>

#include "krdc/report/wording.h"

namespace krdc::report {

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

double lane_y(const SvgLayout& l, int lane) { return lane * (l.lane_height + l.lane_gap); }

std::string lane_labels(const RunSummary& run, const SvgLayout& l) {
  std::string out;
  for (int lane = 0; lane < run.lanes; ++lane) {
    out += fmt::format(R"(<text class="lane" x="0" y="{:.0f}">slot {}</text>)", lane_y(l, lane) + l.lane_height * 0.65,
                       lane + 1);
    out += "\n";
  }
  return out;
}

std::string attempt_rect(const StepSummary& s, const Attempt& a, double span, const SvgLayout& l) {
  const double scale = l.plot_width() / span;
  const double x = l.label_width + a.start_sec * scale;
  const double w = (a.end_sec - a.start_sec) * scale;
  const double y = lane_y(l, a.lane);
  const double seconds = a.end_sec - a.start_sec;
  std::string title = fmt::format("{} attempt {}: {}, {}", s.name, a.number, status_label(a.status), format_seconds(seconds));
  std::string out = fmt::format(
      R"(<g><title>{}</title><rect class="bar s-{}" x="{:.2f}" y="{:.0f}" width="{:.2f}" height="{}" rx="3" )"
      R"(data-step="{}" data-attempt="{}" data-seconds="{:.3f}"/>)",
      xml_escape(title), xml_escape(a.status), x, y, w, l.lane_height, xml_escape(s.name), a.number, seconds);
  // The step's name inside its bar when it fits (about 7 px a character).
  const std::string name = a.number > 1 ? fmt::format("{} #{}", s.name, a.number) : s.name;
  if (w > 7.0 * display_width(name) + 8) {
    out += fmt::format(R"(<text class="bar-label" x="{:.2f}" y="{:.0f}">{}</text>)", x + 4, y + l.lane_height * 0.65,
                       xml_escape(name));
  }
  return out + "</g>\n";
}

std::string axis(double span, const SvgLayout& l, double top) {
  std::string out = fmt::format(R"(<line class="axis" x1="{}" y1="{:.0f}" x2="{:.2f}" y2="{:.0f}"/>)", l.label_width, top,
                                l.label_width + l.plot_width(), top);
  constexpr int kTicks = 5;
  for (int i = 0; i <= kTicks; ++i) {
    const double x = l.label_width + l.plot_width() * i / kTicks;
    out += fmt::format(R"(<line class="axis" x1="{:.2f}" y1="{:.0f}" x2="{:.2f}" y2="{:.0f}"/>)", x, top, x, top + 4);
    out += fmt::format(R"(<text class="tick" x="{:.2f}" y="{:.0f}" text-anchor="{}">{}</text>)", x, top + 16,
                       i == 0 ? "start" : (i == kTicks ? "end" : "middle"), format_seconds(span * i / kTicks));
  }
  return out + "\n";
}

}  // namespace

std::string render_svg_timeline(const RunSummary& run, const SvgLayout& l) {
  if (run.lanes == 0) return "";
  const double span = run.span_sec > 0 ? run.span_sec : 1.0;
  const double lanes_height = lane_y(l, run.lanes) - l.lane_gap;
  const double height = lanes_height + l.axis_height + 4;
  std::string out = fmt::format(
      R"(<svg class="timeline" role="img" width="{}" height="{:.0f}" viewBox="0 0 {} {:.0f}">)",
      l.width, height, l.width, height);
  out += fmt::format("\n<title>Timeline of run {}: {}, {} at most at once</title>\n", xml_escape(run.run_id),
                     format_seconds(run.span_sec), plural(static_cast<size_t>(run.lanes), "step"));
  out += lane_labels(run, l);
  for (const auto& s : run.steps) {
    for (const auto& a : s.tries) out += attempt_rect(s, a, span, l);
  }
  out += axis(span, l, lanes_height + 4);
  return out + "</svg>";
}

}  // namespace krdc::report
