#pragma once
// The one seam every way of running a step shares (docs/architecture.md, "Executors"). The
// runner hands an executor a fully resolved request (argv rendered, deadline set) and gets back
// a result; in between the executor reports progress to an observer. Process, kube and proxy
// executors differ only behind this interface: adding one touches src/exec/<name>/, the kind
// rule in selection.cc and its registration in cli/executor_factory.cc, nothing in the runner.
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "krdc/exec/cancel.h"
#include "krdc/util/errors.h"
#include "krdc/workflow/workflow.h"

namespace krdc::exec {

// A self-contained value: it owns the step it runs (a copy, so it outlives the workflow and can
// be serialised for another process: exec/step_spec.h).
struct StepRequest {
  std::string run_id;
  std::string workflow_name;
  workflow::Step step;
  std::vector<std::string> args;     // rendered params, to follow the app's command
  nlohmann::json params;             // the resolved params (for records and manifests)
  int attempt = 1;                   // 1-based
  std::filesystem::path step_dir;    // private per-step directory in the run directory
  std::filesystem::path log_file;    // combined stdout+stderr of this attempt goes here
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  long long kill_grace_ms = 5000;    // SIGTERM → SIGKILL grace when cancelling
  // Reattach (docs/architecture.md, "Reattach"): instead of starting the attempt, find the one
  // that (run_id, attempt) names, started by an earlier krdc, and follow it to its end. Nothing
  // is created: if it is gone the result is kLost and the runner starts a fresh attempt.
  // `submitted` holds what its `submitted` record said (Job uid, pid), possibly empty.
  bool adopt = false;
  nlohmann::json submitted = nlohmann::json::object();
  // --detach: return kDetached once the attempt exists where it runs, leaving it running.
  bool detach = false;
};

// kLost: an adopted attempt is gone and its outcome unknown (never run twice: it is not
// running). kDetached: --detach left the attempt running.
enum class StepStatus { kSucceeded, kFailed, kTimedOut, kCancelled, kLost, kDetached };

// Why a failed step could not be run at all, when the cause was not the step's own doing: the
// run's exit status says so when no step failed on its own (4: a cluster was unreachable; 3: a
// cluster refused the user's credential).
enum class ErrorKind { kNone, kUnreachable, kAuth };
// The kind of an error krdc raised while running a step (from its exit code); the exit status
// a run (or a proxy) ends with for it (kNone: kStepFailed); its name in result records and
// proxy reports ("", "unreachable", "refused") and back (an unknown name: kNone).
ErrorKind error_kind(const Error& error);
ExitCode exit_code(ErrorKind kind);
const char* to_string(ErrorKind kind);
ErrorKind error_kind_named(std::string_view name);
const char* to_string(StepStatus status);

struct StepResult {
  StepStatus status = StepStatus::kFailed;
  int exit_code = -1;                // -1 when there was no exit (never started, killed remotely)
  nlohmann::json outputs = nlohmann::json::object();
  std::string reason;                // why it did not succeed, one line, for people
  nlohmann::json details = nlohmann::json::object();  // executor facts: job name/uid, cluster, pid
  // The Pod's raw termination message (kube executors): outputs on success, the proxy's report
  // or the log tail on failure. Not recorded as such; outputs/reason carry what matters.
  std::string termination_message;
  ErrorKind error = ErrorKind::kNone;
};

// Progress while a step runs; called from the executor's (worker) thread.
class StepObserver {
 public:
  virtual ~StepObserver() = default;
  // The step exists where it runs (process spawned, Job created); `details` as in StepResult.
  virtual void on_submitted(const StepRequest& request, const nlohmann::json& details) = 0;
  virtual void on_running(const StepRequest& request) = 0;
  virtual void on_log(const StepRequest& request, std::string_view chunk) = 0;
};

// For executors that run the app's image: the result of a step whose app has none, or
// nullopt when it has one.
std::optional<StepResult> missing_image(const workflow::Step& step);

class Executor {
 public:
  virtual ~Executor() = default;
  virtual std::string name() const = 0;  // "process", "kube", "proxy": recorded per step
  // Runs one attempt to its end and returns; blocking, thread-safe (called from several
  // worker threads at once). On cancel or deadline it stops the step, cleans up what it
  // created, and returns kCancelled / kTimedOut. Throws krdc::Error only when the step could
  // not be attempted at all (e.g. cluster unreachable after retries).
  virtual StepResult run(const StepRequest& request, StepObserver& observer, const CancelToken& cancel) = 0;
  // What run() would do, without doing it (`krdc run --dry-run`): e.g. the argv and directory
  // for a process, the Job manifest for a cluster. Must not contact any server.
  virtual nlohmann::json describe(const StepRequest& request) const = 0;
  // Before anything runs: checks that the user may do on this executor's target what run()
  // will do for these steps (e.g. create and watch Jobs in the namespace) and throws AuthError
  // naming them if not, so a refused run stops with nothing created. Default: nothing to check.
  virtual void preflight(const std::vector<const workflow::Step*>& steps) { (void)steps; }
  // Last resort on a second Ctrl-C: stop what can be stopped at once, and describe what
  // may be left behind (e.g. Jobs not yet deleted). Must not block.
  virtual std::vector<std::string> emergency_stop() { return {}; }
};

}  // namespace krdc::exec
