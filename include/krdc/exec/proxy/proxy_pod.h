#pragma once
// `krdc proxy`: the in-cluster half of a remote step (docs/architecture.md, "Remote steps").
// Runs inside the proxy Job's Pod on the local cluster, or by hand for debugging:
//   - reads the step spec (step_spec.h) and the remote cluster's credentials directory (the
//     mounted Secret: token, server, namespace, cluster, ca.crt);
//   - runs the real Job on the remote cluster with the shared remote loop (remote_step.h),
//     re-reading the token file before every request (a renewed Secret takes effect at once);
//   - prints the remote log as its own stdout, so the local cluster's log capture needs nothing
//     special;
//   - mirrors the remote Job onto its own Pod (annotations krdc/remote-job, krdc/remote-uid,
//     krdc/remote-phase) when it has an in-cluster identity;
//   - writes the remote outputs as its own termination message (a report on failure) and exits
//     with the remote exit code. Cancelled (SIGTERM: the step was cancelled or its Pod deleted)
//     it deletes the remote Job and waits for its Pods first.
#include <ostream>
#include <string>

#include "krdc/config/env.h"
#include "krdc/exec/cancel.h"

namespace krdc::exec::proxy {

struct ProxyPodOptions {
  std::string spec_text;        // the step spec, JSON
  std::string credentials_dir;  // the mounted Secret
  std::string outputs_path;     // $KRDC_OUTPUTS: the Pod's termination message file
  std::string work_dir;         // where the remote log is kept while it is copied (a temp dir)
  bool verbose = false;
};

// Exit status of the proxy: the remote app's exit code when it exited non-zero; 0 on success;
// 124 timed out; 130 cancelled; 3 credential refused; 4 remote cluster unreachable; 1 otherwise.
int run_proxy_pod(const ProxyPodOptions& options, const config::Env& env, std::ostream& out, std::ostream& err,
                  const CancelToken& cancel);

}  // namespace krdc::exec::proxy
