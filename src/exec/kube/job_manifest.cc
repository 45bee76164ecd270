#include "krdc/exec/kube/job_manifest.h"

#include <fmt/format.h>

#include <cctype>

#include "krdc/util/digest.h"

namespace krdc::exec::kube {

namespace {

// Hex of sha256 without the "sha256:" prefix, cut to `n`.
std::string short_hash(const std::string& text, size_t n) {
  const std::string d = util::sha256_digest(text);
  return d.substr(d.find(':') + 1, n);
}

// Lower-case (if asked), every run of characters outside the allowed set → one '-', trimmed of
// non-alphanumerics at both ends, cut to `max`.
std::string slug(const std::string& text, bool lower, const std::string& extra_allowed, size_t max) {
  std::string out;
  for (unsigned char c : text) {
    char ch = static_cast<char>(lower ? std::tolower(c) : c);
    const bool ok = std::isalnum(static_cast<unsigned char>(ch)) && c < 0x80;
    if (ok || extra_allowed.find(ch) != std::string::npos) {
      out.push_back(ch);
    } else if (!out.empty() && out.back() != '-') {
      out.push_back('-');
    }
  }
  if (out.size() > max) out.resize(max);
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  while (!out.empty() && !alnum(out.back())) out.pop_back();
  size_t first = 0;
  while (first < out.size() && !alnum(out[first])) ++first;
  return out.substr(first);
}

bool is_label_value(const std::string& s) {
  if (s.empty()) return true;
  if (s.size() > 63) return false;
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 && static_cast<unsigned char>(c) < 0x80; };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

}  // namespace

nlohmann::json container_security_context() {
  return {{"runAsNonRoot", true},
          {"allowPrivilegeEscalation", false},
          {"capabilities", {{"drop", nlohmann::json::array({"ALL"})}}},
          {"seccompProfile", {{"type", "RuntimeDefault"}}}};
}

std::string job_name(const std::string& run_id, const std::string& step, int attempt) {
  const std::string hash = short_hash(fmt::format("{}\n{}\n{}", run_id, step, attempt), 10);
  std::string s = slug(step, true, "", 63 - 1 - hash.size());
  if (s.empty()) s = "step";
  return s + "-" + hash;
}

std::string label_value(const std::string& text) {
  if (is_label_value(text)) return text;
  const std::string hash = short_hash(text, 8);
  std::string s = slug(text, false, "-_.", 63 - 1 - hash.size());
  return s.empty() ? hash : s + "-" + hash;
}

nlohmann::json job_labels(const StepRequest& req) {
  return {{kRunLabel, label_value(req.run_id)},
          {kStepLabel, label_value(req.step.name)},
          {kWorkflowLabel, label_value(req.workflow_name)}};
}

nlohmann::json render_job(const StepRequest& req, const JobOptions& options) {
  const auto& step = req.step;
  const std::string name = job_name(req.run_id, step.name, req.attempt);
  const nlohmann::json labels = job_labels(req);
  // The originals, unabridged, for people and for reattaching later.
  const nlohmann::json annotations = {{"krdc/run-id", req.run_id},
                                      {"krdc/step-name", step.name},
                                      {"krdc/workflow-name", req.workflow_name},
                                      {"krdc/attempt", std::to_string(req.attempt)}};

  nlohmann::json env = nlohmann::json::array();
  for (const auto& [k, v] : step.env) env.push_back({{"name", k}, {"value", v}});
  // Secret values stay in their Secret: the Job names it, the kubelet reads it.
  for (const auto& [k, ref] : step.secret_env) {
    const nlohmann::json key_ref = {{"name", ref.name}, {"key", ref.key}};
    env.push_back({{"name", k}, {"valueFrom", {{"secretKeyRef", key_ref}}}});
  }
  env.push_back({{"name", "KRDC_OUTPUTS"}, {"value", kTerminationLog}});
  env.push_back({{"name", "KRDC_RUN_ID"}, {"value", req.run_id}});
  env.push_back({{"name", "KRDC_STEP"}, {"value", step.name}});
  env.push_back({{"name", "KRDC_ATTEMPT"}, {"value", std::to_string(req.attempt)}});

  nlohmann::json container = {
      {"name", kContainerName},
      {"image", step.app.image},
      {"args", req.args},
      {"env", env},
      {"terminationMessagePath", kTerminationLog},
      // Outputs come from the file; on failure the log tail is a useful message for kubectl users.
      {"terminationMessagePolicy", "FallbackToLogsOnError"},
      {"securityContext", container_security_context()},
  };
  if (!step.app.command.empty()) container["command"] = step.app.command;
  if (step.resources.is_object() && !step.resources.empty()) container["resources"] = step.resources;

  nlohmann::json pod_spec = {
      {"restartPolicy", "Never"},
      {"terminationGracePeriodSeconds", options.termination_grace_seconds},
      // An app talks to no Kubernetes API: it gets no service-account token (the proxy Job,
      // which patches its own Pod, turns it back on).
      {"automountServiceAccountToken", false},
      {"securityContext", {{"runAsNonRoot", true}, {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      {"containers", nlohmann::json::array({container})},
  };
  if (!options.image_pull_secrets.empty()) {
    nlohmann::json secrets = nlohmann::json::array();
    for (const auto& s : options.image_pull_secrets) secrets.push_back({{"name", s}});
    pod_spec["imagePullSecrets"] = secrets;
  }

  nlohmann::json spec = {
      {"backoffLimit", 0},  // krdc owns retries: one attempt = one Job = one Pod
      {"ttlSecondsAfterFinished", options.ttl_seconds_after_finished},
      {"template", {{"metadata", {{"labels", labels}, {"annotations", annotations}}}, {"spec", pod_spec}}},
  };
  if (step.timeout_ms > 0) spec["activeDeadlineSeconds"] = (step.timeout_ms + 999) / 1000;

  nlohmann::json metadata = {{"name", name}, {"labels", labels}, {"annotations", annotations}};
  if (!options.ns.empty()) metadata["namespace"] = options.ns;
  return {{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"metadata", metadata}, {"spec", spec}};
}

}  // namespace krdc::exec::kube
