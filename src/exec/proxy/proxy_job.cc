#include "krdc/exec/proxy/proxy_job.h"

#include <fmt/format.h>

#include <fstream>
#include <iterator>

#include "krdc/exec/step_spec.h"
#include "krdc/util/errors.h"

namespace krdc::exec::proxy {

using nlohmann::json;

namespace {

constexpr const char* kCredentialsVolume = "remote-credentials";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InvalidInput(fmt::format("cannot read the CA file {}", path));
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The attempt's labels (run, step, workflow) plus what this object is.
json step_labels(const StepRequest& req, const char* role) {
  json labels = kube::job_labels(req);
  labels[kRoleLabel] = role;
  return labels;
}

}  // namespace

std::string credential_secret_name(const std::string& job_name) { return job_name + "-remote"; }

json render_credential_secret(const StepRequest& req, const std::string& ns, const krdc::kube::ClusterAccess& remote,
                              const std::string& token) {
  json data = {{"token", token}, {"server", remote.server}, {"namespace", remote.ns}, {"cluster", remote.name}};
  const std::string ca = !remote.ca_pem.empty() ? remote.ca_pem : remote.ca_file.empty() ? "" : read_file(remote.ca_file);
  if (!ca.empty()) data["ca.crt"] = ca;
  const std::string job = kube::job_name(req.run_id, req.step.name, req.attempt);
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"type", "Opaque"},
          {"metadata",
           {{"name", credential_secret_name(job)},
            {"namespace", ns},
            {"labels", step_labels(req, "proxy-credentials")},
            {"annotations", {{"krdc/run-id", req.run_id}, {kRemoteClusterAnnotation, remote.name}}}}},
          // stringData: the API server encodes it; the text never needs a base64 pass here.
          {"stringData", data}};
}

json render_proxy_job(const StepRequest& req, const std::string& remote_cluster, const ProxyJobOptions& options) {
  kube::JobOptions job_options = options.job;
  job_options.termination_grace_seconds = (req.kill_grace_ms + 999) / 1000 + options.cleanup_seconds;
  json job = kube::render_job(req, job_options);  // name, labels, annotations, TTL as any step Job
  const std::string name = job["metadata"]["name"];
  const json labels = step_labels(req, "proxy");
  job["metadata"]["labels"] = labels;
  job["metadata"]["annotations"][kRemoteClusterAnnotation] = remote_cluster;
  auto& tmpl = job["spec"]["template"];
  tmpl["metadata"]["labels"] = labels;
  tmpl["metadata"]["annotations"][kRemoteClusterAnnotation] = remote_cluster;
  // A backstop only: the driver's own deadline (the step's timeout) deletes the proxy Job
  // first, and the proxy then deletes the remote Job. The cluster's limit leaves it the
  // cleanup time on top.
  if (req.step.timeout_ms > 0) {
    job["spec"]["activeDeadlineSeconds"] = (req.step.timeout_ms + 999) / 1000 + 2 * options.cleanup_seconds;
  }

  auto& pod = tmpl["spec"];
  pod["serviceAccountName"] = options.service_account;
  // The proxy patches its own Pod (progress annotations): it needs its account's token, which
  // render_job turns off for app Pods. Its container keeps the restricted securityContext.
  pod["automountServiceAccountToken"] = true;
  pod["volumes"] = json::array({{{"name", kCredentialsVolume},
                                 {"secret", {{"secretName", credential_secret_name(name)}, {"defaultMode", 0400}}}}});
  auto& c = pod["containers"][0];
  c["image"] = options.image;
  c["command"] = json::array({"krdc", "proxy"});
  c["args"] = json::array({"--credentials", kCredentialsDir});
  c.erase("resources");  // the step's resources are the remote app's, in the spec
  c["resources"] = {{"requests", {{"cpu", "10m"}, {"memory", "32Mi"}}}};
  c["volumeMounts"] = json::array({{{"name", kCredentialsVolume}, {"mountPath", kCredentialsDir}, {"readOnly", true}}});
  auto field_env = [](const char* name, const char* path) {
    return json{{"name", name}, {"valueFrom", {{"fieldRef", {{"fieldPath", path}}}}}};
  };
  // The step's own env is the remote app's (in the spec); the proxy needs only these.
  c["env"] = json::array({{{"name", "KRDC_OUTPUTS"}, {"value", kube::kTerminationLog}},
                          {{"name", kStepSpecEnv}, {"value", step_spec(req).dump()}},
                          field_env("POD_NAME", "metadata.name"),
                          field_env("POD_NAMESPACE", "metadata.namespace")});
  return job;
}

}  // namespace krdc::exec::proxy
