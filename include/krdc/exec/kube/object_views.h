#pragma once
// The few facts of a Pod and a Job the kube executor decides on, taken out of a watch event
// once, in the watch thread. Steps wake on every event and read their state under a lock: small
// structs keep that copy cheap (a Pod's JSON is kilobytes; copying it per wake-up was most of a
// waiting run's CPU).
#include <nlohmann/json.hpp>
#include <string>

#include "krdc/kube/field_mask.h"

namespace krdc::exec::kube {

struct PodView {
  std::string name;
  std::string created;   // metadata.creationTimestamp (RFC 3339: orders as text)
  std::string phase;
  bool running = false;
  bool terminated = false;
  bool deleting = false;
  int exit_code = -1;
  std::string reason;    // terminated reason (Completed, Error, OOMKilled, DeadlineExceeded)
  std::string message;   // the termination message
  std::string waiting_reason;
  std::string waiting_message;
  bool operator==(const PodView&) const = default;
};

struct JobView {
  bool complete = false;
  bool failed = false;
  std::string reason;
  std::string message;
  bool operator==(const JobView&) const = default;
};

// What view_pod / view_job read: a watch need keep no more of each object.
const krdc::kube::FieldMask& pod_view_fields();
const krdc::kube::FieldMask& job_view_fields();

// `container` is the step's container; other containers' states are ignored.
PodView view_pod(const nlohmann::json& pod, const std::string& container);
JobView view_job(const nlohmann::json& job);

}  // namespace krdc::exec::kube
