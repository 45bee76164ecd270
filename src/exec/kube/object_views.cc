#include "krdc/exec/kube/object_views.h"

namespace krdc::exec::kube {

namespace {

using nlohmann::json;

// Lookups that never copy: json::value("status", json::object()) copies the whole subtree.
const json& member(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string text(const json& object, const char* key) {
  const json& v = member(object, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

}  // namespace

const krdc::kube::FieldMask& pod_view_fields() {
  static const krdc::kube::FieldMask fields{
      "metadata.name",  "metadata.creationTimestamp", "metadata.deletionTimestamp",
      "status.phase",   "status.reason",              "status.message",
      "status.containerStatuses.name", "status.containerStatuses.state"};
  return fields;
}

const krdc::kube::FieldMask& job_view_fields() {
  static const krdc::kube::FieldMask fields{"status.conditions.type", "status.conditions.status",
                                            "status.conditions.reason", "status.conditions.message"};
  return fields;
}

PodView view_pod(const json& pod, const std::string& container) {
  PodView v;
  const json& md = member(pod, "metadata");
  const json& st = member(pod, "status");
  v.name = text(md, "name");
  v.created = text(md, "creationTimestamp");
  v.deleting = !member(md, "deletionTimestamp").is_null();
  v.phase = text(st, "phase");
  const json& statuses = member(st, "containerStatuses");
  if (statuses.is_array()) {
    for (const json& cs : statuses) {
      if (text(cs, "name") != container) continue;
      const json& state = member(cs, "state");
      if (member(state, "running").is_object()) v.running = true;
      if (const json& t = member(state, "terminated"); t.is_object()) {
        v.terminated = true;
        v.exit_code = member(t, "exitCode").is_number_integer() ? member(t, "exitCode").get<int>() : -1;
        v.reason = text(t, "reason");
        v.message = text(t, "message");
      }
      if (const json& w = member(state, "waiting"); w.is_object()) {
        v.waiting_reason = text(w, "reason");
        v.waiting_message = text(w, "message");
      }
    }
  }
  if (!v.terminated && (v.phase == "Failed" || v.phase == "Succeeded")) {
    // A pod failed before its container ran (e.g. evicted, DeadlineExceeded at pod level).
    v.terminated = true;
    v.reason = text(st, "reason");
    if (v.reason.empty()) v.reason = v.phase;
    v.message = text(st, "message");
  }
  return v;
}

JobView view_job(const json& job) {
  JobView v;
  const json& conditions = member(member(job, "status"), "conditions");
  if (!conditions.is_array()) return v;
  for (const json& c : conditions) {
    if (text(c, "status") != "True") continue;
    const std::string type = text(c, "type");
    if (type == "Complete") v.complete = true;
    // FailureTarget comes first (k8s ≥ 1.31), Failed once the pods are gone: either decides.
    if (type == "Failed" || type == "FailureTarget") {
      v.failed = true;
      v.reason = text(c, "reason");
      v.message = text(c, "message");
    }
  }
  return v;
}

}  // namespace krdc::exec::kube
