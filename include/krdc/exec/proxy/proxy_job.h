#pragma once
// The two objects the proxy executor creates in the LOCAL cluster for a remote step
// (docs/architecture.md, "Remote steps"):
//   - a Secret holding only the remote cluster's address, CA and the user's token exchanged for
//     that cluster's audience (never the hub session, never a kubeconfig);
//   - the proxy Job: an ordinary krdc step Job (same name, labels and annotations as the app
//     Job would have) whose container runs `krdc proxy` with the Secret mounted as files and the
//     step spec (step_spec.h, no credential in it) in its environment.
#include <nlohmann/json.hpp>
#include <string>

#include "krdc/exec/executor.h"
#include "krdc/exec/kube/job_manifest.h"
#include "krdc/kube/cluster.h"

namespace krdc::exec::proxy {

inline constexpr const char* kRoleLabel = "krdc/role";
inline constexpr const char* kCredentialsDir = "/var/run/krdc/remote";  // the Secret, as files
inline constexpr const char* kStepSpecEnv = "KRDC_STEP_SPEC";
// Proxy Pod annotations mirroring the remote Job; the phase is a label too
// (`kubectl get pods -L krdc/remote-phase`).
inline constexpr const char* kRemoteClusterAnnotation = "krdc/remote-cluster";
inline constexpr const char* kRemoteJobAnnotation = "krdc/remote-job";
inline constexpr const char* kRemoteUidAnnotation = "krdc/remote-uid";
inline constexpr const char* kRemotePhaseAnnotation = "krdc/remote-phase";
// Set by the driver on the proxy Pod after it renewed the credential Secret: a changed Pod makes
// the kubelet refresh the Pod's Secret volume at once instead of at its next periodic sync.
inline constexpr const char* kCredentialsRenewedAnnotation = "krdc/credentials-renewed-at";
// {"started", "created", "running", "finished"}: epoch ms of the proxy's progress.
inline constexpr const char* kRemoteTimesAnnotation = "krdc/remote-times";

struct ProxyJobOptions {
  kube::JobOptions job;                         // namespace, TTL, pull secrets of the local cluster
  std::string image;                            // config proxyImage: an image whose entrypoint is krdc
  std::string service_account = "krdc-proxy";   // may patch its own Pod (remote-phase annotations)
  // How long the proxy may take, once told to stop, to delete the remote Job and see its Pods
  // go: the proxy Pod's terminationGracePeriodSeconds is the kill grace plus this. Generous: a
  // call to a flaky remote cluster may retry for ~40 s, and a proxy killed before its delete
  // went through leaves the remote Job running. A proxy that is done exits at once anyway.
  long long cleanup_seconds = 60;
};

std::string credential_secret_name(const std::string& job_name);

// The Secret for one attempt: keys token, server, namespace, cluster and (if known) ca.crt.
nlohmann::json render_credential_secret(const StepRequest& request, const std::string& ns,
                                        const krdc::kube::ClusterAccess& remote, const std::string& token);

// The proxy Job for one attempt on `remote_cluster`.
nlohmann::json render_proxy_job(const StepRequest& request, const std::string& remote_cluster,
                                const ProxyJobOptions& options);

}  // namespace krdc::exec::proxy
