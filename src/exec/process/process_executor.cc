#include "krdc/exec/process/process_executor.h"

#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "krdc/exec/outputs.h"
#include "krdc/exec/process/log_tail.h"
#include "krdc/util/errors.h"
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

// How long a --follow wait lasts before the log is read again: lines appear within this.
constexpr int kFollowPollMs = 200;

// The app's program must exist before it is started: a missing program is the step's own
// error (its command), reported as "cannot start", and no retry can fix it. setpriv would
// otherwise exec it and fail with a 127 that looks like the app's own exit code.
void require_startable(const std::string& program, const std::string& dir, const std::map<std::string, std::string>& env) {
  namespace fs = std::filesystem;
  auto runnable = [](const fs::path& p) { return ::access(p.c_str(), X_OK) == 0 && !fs::is_directory(p); };
  if (program.find('/') != std::string::npos) {
    const fs::path path = fs::path(program).is_absolute() ? fs::path(program) : fs::path(dir) / program;
    if (runnable(path)) return;
    throw InvalidInput(fmt::format("cannot start {}: {}", program, fs::exists(path) ? "not executable" : "no such file"),
                       "check the app's command (relative paths start in the app's directory)");
  }
  std::string search = env.count("PATH") ? env.at("PATH") : "";
  if (search.empty()) {
    const char* path = std::getenv("PATH");
    search = path ? path : "/usr/bin:/bin";
  }
  size_t start = 0;
  while (start <= search.size()) {
    const size_t colon = std::min(search.find(':', start), search.size());
    const std::string entry = search.substr(start, colon - start);
    // The program is looked up where it will run: a relative (or empty: ".") PATH entry starts
    // in the app's directory, the child's working directory.
    fs::path base = entry.empty() ? fs::path(".") : fs::path(entry);
    if (base.is_relative()) base = fs::path(dir) / base;
    if (runnable(base / program)) return;
    start = colon + 1;
  }
  throw InvalidInput(fmt::format("cannot start {}: not found in PATH", program),
                     "check the app's command and that the program is installed");
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

  if (app.command.empty()) throw InvalidInput(fmt::format("cannot start step \"{}\": its app has no command", req.step.name));
  require_startable(app.command.front(), app.dir, req.step.env);

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

  LogTail tail(req.log_file);
  auto forward_log = [&] {
    if (!follow_) return;
    for (std::string chunk = tail.read_new(); !chunk.empty(); chunk = tail.read_new()) observer.on_log(req, chunk);
  };
  auto next_wait_ms = [&] {
    const int left = ms_until(req.deadline);
    if (!follow_) return left;
    return left < 0 ? kFollowPollMs : std::min(left, kFollowPollMs);
  };

  bool timed_out = false;
  while (!child.wait(next_wait_ms(), cancel.fd())) {
    forward_log();
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
  forward_log();  // the app's last words
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
