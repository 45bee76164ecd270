#pragma once
// The HTML report's timeline: an inline SVG (inline in HTML it needs no xmlns) with one lane
// per parallel slot and one rect per attempt, its width proportional to the attempt's
// duration, coloured by status (CSS classes `s-<status>`, so light and dark mode colour it).
#include <string>

#include "krdc/report/run_summary.h"

namespace krdc::report {

struct SvgLayout {
  int width = 960;       // the whole drawing, in px
  int label_width = 80;  // the lane names on the left
  int lane_height = 26;
  int lane_gap = 6;
  int axis_height = 24;  // the time axis below the lanes
  double plot_width() const { return width - label_width - 16; }
};

// Empty when no attempt ran (a run of reused and skipped steps only).
std::string render_svg_timeline(const RunSummary& run, const SvgLayout& layout = {});

// Text safe inside XML/HTML elements and attribute values.
std::string xml_escape(const std::string& text);

}  // namespace krdc::report
