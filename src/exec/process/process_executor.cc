#include "krdc/exec/process/process_executor.h"

#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "krdc/exec/outputs.h"
#include "krdc/util/child_process.h"
#include "krdc/util/env.h"
#include "krdc/util/process_sweep.h"

namespace krdc::exec {

namespace {

int ms_until(std::chrono::steady_clock::time_point deadline) {
  if (deadline == std::chrono::steady_clock::time_point::max()) return -1;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), 1 << 30));
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The environment marks of one attempt's processes (inherited by the app's own children).
std::vector<std::string> attempt_marks(const StepRequest& req) {
  return {"KRDC_RUN_ID=" + req.run_id, "KRDC_STEP=" + req.step.name, "KRDC_ATTEMPT=" + std::to_string(req.attempt)};
}

// posix_spawn cannot ask for a parent-death signal; setpriv (util-linux, on every Debian and
// most Linux systems) sets it and execs the app in the same process, so the app dies with krdc
// even on SIGKILL. Without setpriv the sweep on resume is the only guard.
const char* parent_death_wrapper() {
  static const bool present = ::access("/usr/bin/setpriv", X_OK) == 0;
  return present ? "/usr/bin/setpriv" : nullptr;
}

}  // namespace

StepResult ProcessExecutor::adopt(const StepRequest& req) {
  // A process cannot outlive the krdc that started it (parent-death signal) and cannot be
  // followed by another: an attempt in flight when krdc died is over. What it left in its
  // process group (an app's own children) is stopped before the step starts again, so the step
  // never runs twice at once (docs/architecture.md, "Reattach").
  StepResult result;
  result.status = StepStatus::kLost;
  const int pgid = req.submitted.value("pgid", req.submitted.value("pid", 0));
  const size_t killed = pgid > 1 ? util::kill_marked_group(pgid, attempt_marks(req), std::chrono::seconds(10)) : 0;
  result.reason = killed ? fmt::format("its process group {} outlived the interrupted krdc: {} processes stopped", pgid,
                                       killed)
                         : "its process ended with the interrupted krdc";
  return result;
}

StepResult ProcessExecutor::run(const StepRequest& req, StepObserver& observer, const CancelToken& cancel) {
  if (req.adopt) return adopt(req);
  const auto& app = req.step.app;
  const auto outputs_file = req.step_dir / fmt::format("outputs-{}.json", req.attempt);
  std::error_code ec;
  std::filesystem::remove(outputs_file, ec);

  util::SpawnSpec spec;
  if (const char* wrapper = parent_death_wrapper()) spec.argv = {wrapper, "--pdeathsig", "KILL", "--"};
  spec.argv.insert(spec.argv.end(), app.command.begin(), app.command.end());
  spec.argv.insert(spec.argv.end(), req.args.begin(), req.args.end());
  std::map<std::string, std::string> extra = req.step.env;
  extra["KRDC_OUTPUTS"] = outputs_file.string();
  extra["KRDC_RUN_ID"] = req.run_id;
  extra["KRDC_STEP"] = req.step.name;
  extra["KRDC_ATTEMPT"] = std::to_string(req.attempt);
  spec.env = util::child_environment(extra);
  spec.cwd = app.dir;
  spec.output_file = req.log_file.string();

  StepResult result;
  util::ChildProcess child(spec);
  {
    std::lock_guard lock(mu_);
    live_groups_.insert(child.pid());
  }
  std::vector<std::string> argv = app.command;
  argv.insert(argv.end(), req.args.begin(), req.args.end());
  result.details = {{"pid", child.pid()}, {"pgid", child.pid()}, {"argv", argv}, {"cwd", spec.cwd}};
  observer.on_submitted(req, result.details);
  observer.on_running(req);

  bool timed_out = false;
  while (!child.wait(ms_until(req.deadline), cancel.fd())) {
    if (cancel.cancelled() || ms_until(req.deadline) == 0) {
      timed_out = !cancel.cancelled();
      // Ask politely, then insist: apps get the grace period to flush and clean up.
      child.signal_group(SIGTERM);
      if (!child.wait(static_cast<int>(req.kill_grace_ms))) {
        child.signal_group(SIGKILL);
        child.wait(-1);
      }
      break;
    }
  }
  {
    std::lock_guard lock(mu_);
    live_groups_.erase(child.pid());
  }
  result.exit_code = child.exit_code();
  if (timed_out) {
    result.status = StepStatus::kTimedOut;
    result.reason = fmt::format("timed out after {}", req.step.timeout_ms >= 1000
                                                          ? fmt::format("{}s", req.step.timeout_ms / 1000)
                                                          : fmt::format("{}ms", req.step.timeout_ms));
    return result;
  }
  if (cancel.cancelled()) {
    result.status = StepStatus::kCancelled;
    result.reason = "cancelled";
    return result;
  }
  if (result.exit_code != 0) {
    result.status = StepStatus::kFailed;
    result.reason = result.exit_code > 128 ? fmt::format("killed by signal {}", result.exit_code - 128)
                                           : fmt::format("exited with code {}", result.exit_code);
    return result;
  }
  std::string error;
  if (auto outputs = parse_outputs(read_file(outputs_file), error)) {
    result.outputs = std::move(*outputs);
    result.status = StepStatus::kSucceeded;
  } else {
    result.status = StepStatus::kFailed;
    result.reason = error;
  }
  return result;
}

nlohmann::json ProcessExecutor::describe(const StepRequest& req) const {
  std::vector<std::string> argv = req.step.app.command;
  argv.insert(argv.end(), req.args.begin(), req.args.end());
  return {{"argv", argv}, {"cwd", req.step.app.dir}, {"env", req.step.env}};
}

std::vector<std::string> ProcessExecutor::emergency_stop() {
  std::lock_guard lock(mu_);
  for (int pgid : live_groups_) kill(-pgid, SIGKILL);
  return {};
}

}  // namespace krdc::exec
