#pragma once
// Lanes of the timeline: attempts that overlap in time go to different lanes, so a reader
// sees how many ran at once (at most --jobs) and where the time went.
#include <vector>

#include "krdc/report/run_summary.h"

namespace krdc::report {

// Sets Attempt::lane for every attempt of every step (greedy by start time: the lowest lane
// free when the attempt starts) and returns how many lanes that took.
int assign_lanes(std::vector<StepSummary>& steps);

}  // namespace krdc::report
