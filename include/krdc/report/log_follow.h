#pragma once
// `krdc logs --follow` for a log in the run directory: prints what the file holds, then what is
// appended, until the attempt is over. Waits on inotify (the log's directory and the result
// file) rather than polling, each wait bounded, so a record closing the attempt or Ctrl-C ends
// it within a second at most.
#include <functional>
#include <ostream>
#include <string>

#include "krdc/util/cancel.h"

namespace krdc::report {

// True while a krdc holds the result file's writer lock (runner::ResultWriter takes an
// exclusive flock for its lifetime): the run is going on somewhere on this machine.
bool writer_active(const std::string& results_path);

struct FollowTargets {
  std::string log_path;
  std::string results_path;
  // Re-read on each wake-up: true once a record closed the attempt (or nobody writes any more).
  std::function<bool()> over;
};

// Copies the log to `out` from the beginning and keeps following until `over()` (then copies
// the rest) or `cancel` fires. A log that does not exist yet is waited for the same way.
void follow_log(const FollowTargets& targets, std::ostream& out, const util::CancelToken* cancel);

}  // namespace krdc::report
