#pragma once
// The proxy loop (docs/architecture.md, "Remote steps"): one step attempt run as a Job on a
// remote cluster and followed to its end, with the kube executor's own create/adopt, watch,
// logs, outputs and cleanup. `krdc proxy` (inside the proxy Job) and the proxy executor's
// in-process mode (no local cluster) both call it, so the remote side has one code path.
//
// Exactly once: the remote Job's name is fixed by (run, step, attempt); a create that meets a
// Job of that name adopts it only when its krdc/run-id, attempt and role match, and deletes carry
// a uid precondition, so krdc never touches a Job it did not create. The remote Job keeps the
// usual day-long ttlSecondsAfterFinished: krdc reads its final state long before the cluster
// could remove it.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "krdc/exec/executor.h"
#include "krdc/exec/kube/kube_executor.h"
#include "krdc/http/client.h"
#include "krdc/kube/cluster.h"

namespace krdc::exec::proxy {

// A kube executor for a remote cluster reached with `access` (its TokenSource: the exchanged
// token, or the mounted token file in a proxy Pod). `stream_logs`: the observer gets the log as
// it comes (a proxy prints it as its own); `log`: -v diagnostics; `http`: the caller's client
// options (e.g. the CLI's abort on Ctrl-C), with krdc's patience for cluster calls applied.
std::unique_ptr<kube::KubeExecutor> make_remote_executor(krdc::kube::ClusterAccess access, bool stream_logs,
                                                         std::function<void(std::string_view)> log = {},
                                                         http::ClientOptions http = {});

// Runs the attempt on `remote`'s cluster. The result's details are {"remote": {cluster, job,
// uid, namespace}}; everything else is the kube executor's result. Throws as KubeExecutor::run.
StepResult run_remote_step(kube::KubeExecutor& remote, const StepRequest& request, StepObserver& observer,
                           const CancelToken& cancel);

// How a proxy tells the driver why the remote step did not succeed: its termination message on
// failure (on success the message is the remote outputs, unchanged). {"krdcProxy": {...}}.
struct ProxyReport {
  std::string status;        // exec::to_string(StepStatus)
  int exit_code = -1;        // the remote app's exit code, -1 when it did not exit
  std::string reason;        // one line, for people
  ErrorKind error = ErrorKind::kNone;  // the proxy could not run the step: why (to_string(ErrorKind))
  nlohmann::json remote = nlohmann::json::object();  // {cluster, job, uid, namespace}
};
std::string encode_report(const ProxyReport& report);
// nullopt when `message` is not a proxy report (e.g. a log tail: the proxy died before writing).
std::optional<ProxyReport> decode_report(const std::string& message);

}  // namespace krdc::exec::proxy
