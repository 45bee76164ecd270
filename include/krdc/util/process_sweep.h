#pragma once
// Finding and stopping what a killed krdc left behind on this host (docs/architecture.md,
// "Reattach"). A step's process runs in its own process group (util::ChildProcess) with
// KRDC_RUN_ID, KRDC_STEP and KRDC_ATTEMPT in its environment, which its children inherit. A
// process group id cannot be reused while any member lives, and the environment marks tell an
// unrelated group that later got the same id from ours, so "group G, with these marks" names
// exactly the leftovers of one attempt.
#include <chrono>
#include <string>
#include <vector>

namespace krdc::util {

// The pids in process group `pgid` whose environment holds every entry of `marks`
// ("KEY=VALUE"). Only processes this user may read are seen (the others cannot be ours).
std::vector<int> group_members_marked(int pgid, const std::vector<std::string>& marks);

// SIGKILLs those processes and waits, at most `wait`, until none is left. Returns how many
// there were; throws krdc::Error if some are still alive after `wait`.
size_t kill_marked_group(int pgid, const std::vector<std::string>& marks, std::chrono::milliseconds wait);

}  // namespace krdc::util
