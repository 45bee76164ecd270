#include "krdc/report/lanes.h"

#include <algorithm>

namespace krdc::report {

int assign_lanes(std::vector<StepSummary>& steps) {
  std::vector<Attempt*> attempts;
  for (auto& s : steps) {
    for (auto& a : s.tries) attempts.push_back(&a);
  }
  std::stable_sort(attempts.begin(), attempts.end(),
                   [](const Attempt* a, const Attempt* b) { return a->start_sec < b->start_sec; });
  std::vector<double> lane_free_at;  // per lane: when its last attempt ended
  for (Attempt* a : attempts) {
    // Record times have millisecond resolution: an attempt that starts the millisecond the
    // previous one ended reuses its lane.
    auto free = std::find_if(lane_free_at.begin(), lane_free_at.end(),
                             [a](double end) { return end <= a->start_sec + 0.0005; });
    if (free == lane_free_at.end()) free = lane_free_at.insert(lane_free_at.end(), 0.0);
    a->lane = static_cast<int>(free - lane_free_at.begin());
    *free = a->end_sec;
  }
  return static_cast<int>(lane_free_at.size());
}

}  // namespace krdc::report
