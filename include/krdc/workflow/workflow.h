#pragma once
// The workflow model: what `krdc run` was asked to do, fully loaded and checked.
// Produced by load_workflow(); everything downstream (plan, runner, executors) reads it.
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "krdc/workflow/app.h"
#include "krdc/workflow/source_mark.h"

namespace krdc::workflow {

// A cluster named by steps. Details may also come from the user's config (the cluster
// registry merges both); the workflow only says what it knows.
struct ClusterRef {
  std::string name;
  std::string server;
  std::string audience;    // the hub client that stands for this cluster
  std::string namespace_;  // `namespace` in YAML
  std::string ca_file;
  SourceMark mark;
};

// An env value a cluster step takes from a Kubernetes Secret that already exists in the
// namespace it runs in: `env: {API_KEY: {secretKeyRef: {name: api, key: token}}}`. krdc never
// reads the value; the Job spec carries only this reference (valueFrom.secretKeyRef).
struct SecretKeyRef {
  std::string name;  // the Secret
  std::string key;   // its data key
  SourceMark mark;
};

// A step that runs once per item (docs/architecture.md, "Scatter, gather and conditions").
// `forEach` is a list or one ${{ }} reference to a list (a workflow param, an upstream output);
// `matrix` maps axis names to such lists and runs their cross product. Each instance is named
// `NAME[k]` (k in item order, the last axis fastest) and sees its item as ${{ item }} (a matrix
// item is an object: ${{ item.AXIS }}).
struct Scatter {
  enum class Kind { kNone, kForEach, kMatrix };
  Kind kind = Kind::kNone;
  nlohmann::json for_each;                                      // kForEach: list or "${{ ref }}"
  std::vector<std::pair<std::string, nlohmann::json>> matrix;  // kMatrix: axes as written
  std::vector<SourceMark> axis_marks;                          // kMatrix: one per axis
  SourceMark mark;

  bool active() const { return kind != Kind::kNone; }
};

struct Step {
  std::string name;
  SourceMark mark;
  App app;
  nlohmann::json params = nlohmann::json::object();  // may contain ${{ }} references
  std::map<std::string, SourceMark> param_marks;
  std::vector<std::string> needs;
  std::vector<SourceMark> needs_marks;
  std::string cluster;           // empty: run as a local process (embedded default)
  std::string pull;              // "" or "shared": image from shared storage, run on the local cluster
  long long timeout_ms = 0;      // 0: no timeout
  int retries = 0;               // extra attempts after a failure
  long long retry_backoff_ms = 1000;  // first backoff; doubles per attempt, capped
  std::map<std::string, std::string> env;
  std::map<std::string, SecretKeyRef> secret_env;  // env from Secrets (cluster steps only)
  nlohmann::json resources;      // passed to the container (kube executors); null when absent
  Scatter scatter;
  // `when`: a condition over params and upstream outputs; false → the step is skipped
  // ("condition") and so are its dependents, except those with `onSkipped: run`.
  std::string when;              // empty: always
  SourceMark when_mark;
  bool run_if_upstream_skipped = false;  // `onSkipped: run`
};

struct Workflow {
  std::string file;     // as given on the command line
  std::string dir;      // absolute directory of the file (relative app paths start here)
  std::string name;
  std::string digest;   // "sha256:<hex>" of the file's bytes
  std::string hub;      // issuer URL from spec.hub; may be empty
  std::map<std::string, ClusterRef> clusters;
  // Workflow-level inputs: name -> default (null = required), overridden by `-p key=value`.
  nlohmann::json params = nlohmann::json::object();
  std::map<std::string, SourceMark> param_marks;
  std::vector<Step> steps;

  const Step* find_step(const std::string& name) const;
  int step_index(const std::string& name) const;  // -1 when absent
};

}  // namespace krdc::workflow
