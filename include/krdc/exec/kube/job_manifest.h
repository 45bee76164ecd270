#pragma once
// A step attempt as a batch/v1 Job (docs/architecture.md, "Kubernetes"): named deterministically from run + step +
// attempt, labelled so one watch per namespace finds every Job and Pod of a run, and shaped so
// krdc, not Kubernetes, owns retries and time limits.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "krdc/exec/executor.h"

namespace krdc::exec::kube {

inline constexpr const char* kRunLabel = "krdc/run";
inline constexpr const char* kStepLabel = "krdc/step";
inline constexpr const char* kWorkflowLabel = "krdc/workflow";
inline constexpr const char* kContainerName = "step";
inline constexpr const char* kTerminationLog = "/dev/termination-log";
// What a kubelet keeps of a termination message: outputs must fit (README, "Outputs").
inline constexpr size_t kTerminationMessageLimit = 4096;

// A valid DNS-1123 label (≤ 63, [a-z0-9-], alphanumeric at both ends): a readable slug of the
// step name followed by a short hash of (run, step, attempt), so names differ across runs,
// steps and attempts even when slugs collide ("a_b" vs "a.b") or are cut.
std::string job_name(const std::string& run_id, const std::string& step, int attempt);

// A valid label value (≤ 63, [A-Za-z0-9-_.], alphanumeric at both ends): the text itself when
// it already is one, else a slug with a short hash of the original (so two different values
// never map to the same label).
std::string label_value(const std::string& text);

struct JobOptions {
  std::string ns;
  std::vector<std::string> image_pull_secrets;
  long long ttl_seconds_after_finished = 86400;  // safety net: the cluster cleans up if we cannot
  long long termination_grace_seconds = 5;       // SIGTERM → SIGKILL when deleted
};

// The labels every object of an attempt carries: krdc/run, krdc/step, krdc/workflow (one watch
// per run selects on krdc/run; cleanup by run finds them all).
nlohmann::json job_labels(const StepRequest& request);

// What every container krdc creates runs with: the Pod Security "restricted" level
// (runAsNonRoot, no privilege escalation, all capabilities dropped, the runtime's default
// seccomp profile). The image must therefore run as a non-root (numeric) user.
nlohmann::json container_security_context();

// The Job for one attempt. The container runs the app's image with command = app.command and
// args = the rendered params (argv, never a shell); KRDC_OUTPUTS points at the termination log.
// The Pod gets no service-account token and container_security_context(); env values from
// Secrets (Step::secret_env) are valueFrom.secretKeyRef, never the value.
nlohmann::json render_job(const StepRequest& request, const JobOptions& options);

}  // namespace krdc::exec::kube
