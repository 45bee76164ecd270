#pragma once
// Asking the cluster about an attempt krdc recorded as a Job (its `submitted` details: job,
// namespace, uid), for `krdc status` and `krdc logs` while it may still run. A proxy step's Job
// is the local proxy Job, whose log mirrors the remote Job's. Errors propagate (ApiError,
// UnreachableError, AuthError); callers fall back to what the result file says.
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "krdc/kube/api_client.h"

namespace krdc::report {

// True when `submitted` names a Job (kube and proxy attempts).
bool names_job(const nlohmann::json& submitted);

// One phrase: "Job running (1 active Pod)", "Job succeeded", "Job failed: DeadlineExceeded",
// "Job gone (deleted)", "Job not yet running". A Job whose uid is not the recorded one is
// someone else's: "Job gone (replaced by another of the same name)".
std::string job_state(kube::ApiClient& api, const nlohmann::json& submitted);

// Prints the log of the Job's (newest) Pod; with `follow`, until its container ends. Throws
// InvalidInput when the Job has no Pod whose container has started.
void job_log(kube::ApiClient& api, const nlohmann::json& submitted, bool follow, std::ostream& out);

}  // namespace krdc::report
