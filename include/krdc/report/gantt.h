#pragma once
// The text timeline: one row per step, one bar per attempt on a common time axis, so a
// person at a terminal sees what ran at once and where the time went.
#include <string>

#include "krdc/report/run_summary.h"

namespace krdc::report {

// `width` is the whole line's width in columns (at least 40 is used).
std::string render_gantt(const RunSummary& run, int width);

// The character a bar of an attempt with this status is drawn with.
const char* gantt_glyph(const std::string& status);

}  // namespace krdc::report
