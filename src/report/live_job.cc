#include "krdc/report/live_job.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>

#include "krdc/util/errors.h"

namespace krdc::report {

namespace {

using nlohmann::json;

std::string field(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// A Kubernetes object name krdc could have recorded (a DNS-1123 label). The names come from a
// result file, which may have been copied or edited: only such a name goes into an API path.
bool is_dns_label(const std::string& s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

std::string job_path(const json& submitted) {
  return fmt::format("/apis/batch/v1/namespaces/{}/jobs/{}", field(submitted, "namespace"), field(submitted, "job"));
}

// The Job's newest Pod (the one its controller made last), or null.
json newest_pod(kube::ApiClient& api, const json& submitted) {
  const json pods = api.get(fmt::format("/api/v1/namespaces/{}/pods?labelSelector={}", field(submitted, "namespace"),
                                        kube::query_escape("job-name=" + field(submitted, "job"))));
  json newest;
  for (const auto& pod : pods.value("items", json::array())) {
    const std::string created = pod["metadata"].value("creationTimestamp", "");
    if (newest.is_null() || created >= newest["metadata"].value("creationTimestamp", "")) newest = pod;
  }
  return newest;
}

}  // namespace

bool names_job(const json& submitted) {
  return submitted.is_object() && is_dns_label(field(submitted, "job")) && is_dns_label(field(submitted, "namespace"));
}

std::string job_state(kube::ApiClient& api, const json& submitted) {
  json job;
  try {
    job = api.get(job_path(submitted));
  } catch (const kube::ApiError& e) {
    if (e.status() == 404) return "Job gone (deleted)";
    throw;
  }
  const std::string uid = field(submitted, "uid");
  if (!uid.empty() && job["metadata"].value("uid", "") != uid) return "Job gone (replaced by another of the same name)";
  const json status = job.value("status", json::object());
  for (const auto& c : status.value("conditions", json::array())) {
    if (c.value("status", "") != "True") continue;
    if (c.value("type", "") == "Complete") return "Job succeeded";
    if (c.value("type", "") == "Failed") return "Job failed: " + c.value("reason", "unknown reason");
  }
  const int active = status.value("active", 0);
  if (active > 0) return fmt::format("Job running ({} active Pod{})", active, active == 1 ? "" : "s");
  return "Job not yet running";
}

void job_log(kube::ApiClient& api, const json& submitted, bool follow, std::ostream& out) {
  const json pod = newest_pod(api, submitted);
  if (pod.is_null()) {
    throw InvalidInput(fmt::format("Job {} has no Pod (yet, or any more)", field(submitted, "job")));
  }
  const json containers = pod["spec"].value("containers", json::array());
  const std::string container = containers.empty() ? "" : containers[0].value("name", "");
  const std::string path = fmt::format("/api/v1/namespaces/{}/pods/{}/log?container={}{}", field(submitted, "namespace"),
                                       pod["metadata"].value("name", ""), kube::query_escape(container),
                                       follow ? "&follow=true" : "");
  // Ctrl-C ends the stream through the client's own interrupt (ApiClientOptions::http).
  const std::atomic<bool> never{false};
  try {
    api.stream(path, [&](std::string_view chunk) {
      out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      out.flush();
      return true;
    }, never);
  } catch (const kube::ApiError& e) {
    if (e.status() == 400) {
      throw InvalidInput(fmt::format("the Pod of Job {} has not started its container yet", field(submitted, "job")),
                         "try again in a moment");
    }
    throw;
  }
}

}  // namespace krdc::report
