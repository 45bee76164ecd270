#include "attempts.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "krdc/exec/outputs.h"
#include "krdc/util/errors.h"

namespace krdc::runner {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using exec::StepStatus;

nlohmann::json step_record(const RunOptions& options, const std::string& step, const char* event) {
  return {{"type", "step"}, {"event", event}, {"run", options.run_id}, {"step", step}};
}

namespace {

// Which attempt a request names: one this run starts, or one an earlier krdc started that this
// run adopts (docs/architecture.md, "Reattach").
struct AttemptTarget {
  std::string run_id;
  int attempt = 1;
  bool adopt = false;
  nlohmann::json submitted = nlohmann::json::object();
};

// Records where an attempt runs (Job name+uid, pid) the moment it exists there: what a later
// --resume or attach adopts. Called on the worker thread.
class AttemptObserver : public exec::StepObserver {
 public:
  AttemptObserver(const AttemptContext& ctx, const AttemptTarget& target) : ctx_(ctx), target_(target) {}
  void on_submitted(const exec::StepRequest& req, const nlohmann::json& details) override {
    submitted = details;
    auto rec = step_record(ctx_.options, req.step.name, "submitted");
    rec.update({{"attempt", target_.attempt}, {"details", details}});
    ctx_.record(std::move(rec), ResultWriter::Sync::kSoon);
    ctx_.progress.on_submitted(req, details);
  }
  void on_running(const exec::StepRequest& req) override { ctx_.progress.on_running(req); }
  void on_log(const exec::StepRequest& req, std::string_view chunk) override { ctx_.progress.on_log(req, chunk); }

  std::optional<nlohmann::json> submitted;

 private:
  const AttemptContext& ctx_;
  const AttemptTarget& target_;
};

// The attempt an earlier krdc left in flight for this unit, if it ran these same inputs.
std::optional<AttemptTarget> adoption_for(const AttemptContext& ctx, const UnitWork& work) {
  if (!ctx.options.resume) return std::nullopt;
  const InFlight* f = ctx.options.resume->in_flight(work.step.name);
  if (!f) return std::nullopt;
  if (f->inputs_digest != work.digest) {
    ctx.status.message(fmt::format("step {}: attempt {} of run {} may still be running with other inputs; it is not "
                                   "adopted",
                                   work.step.name, f->attempt, f->job_run));
    return std::nullopt;
  }
  return AttemptTarget{f->job_run, f->attempt, true, f->submitted};
}

exec::StepRequest request_for(const AttemptContext& ctx, const UnitWork& work, const AttemptTarget& target,
                              const fs::path& step_dir) {
  exec::StepRequest req;
  req.run_id = target.run_id;
  req.workflow_name = ctx.wf.name;
  req.step = work.step;
  req.args = work.args;
  req.params = work.params;
  req.attempt = target.attempt;
  req.adopt = target.adopt;
  req.submitted = target.submitted;
  req.detach = ctx.options.detach;
  req.step_dir = step_dir;
  req.log_file = step_dir / (target.adopt ? fmt::format("adopted-{}-{}.log", target.run_id, target.attempt)
                                          : fmt::format("attempt-{}.log", target.attempt));
  req.kill_grace_ms = ctx.options.kill_grace_ms;
  if (work.step.timeout_ms > 0) req.deadline = Clock::now() + std::chrono::milliseconds(work.step.timeout_ms);
  return req;
}

void record_start(const AttemptContext& ctx, const UnitWork& work, const AttemptTarget& target,
                  const std::string& executor) {
  auto rec = step_record(ctx.options, work.step.name, "start");
  // params: what the attempt was given, for provenance (`krdc export --ro-crate`).
  rec.update({{"attempt", target.attempt}, {"executor", executor}, {"params", work.params}, {"args", work.args},
              {"inputsDigest", work.digest}});
  rec.update(work.record_fields);
  if (target.adopt) rec["adopted"] = {{"run", target.run_id}, {"attempt", target.attempt}};
  if (!work.step.cluster.empty()) rec["cluster"] = work.step.cluster;
  ctx.record(std::move(rec), ResultWriter::Sync::kNone);
  if (target.adopt) {
    ctx.status.message(fmt::format("step {}: reattaching to attempt {} of run {}", work.step.name, target.attempt,
                                   target.run_id));
  }
  ctx.status.step_started(work.step.name, target.attempt, executor);
}

// One attempt; krdc's own errors become its result. Sets `maybe_running` when krdc was cut off
// from the cluster after the attempt existed there: its outcome is unknown and it may still be
// running. (A result that merely reports an unreachable cluster, like a proxy's, is an outcome.)
// Sets `cannot_start` when the unit's own input is wrong (no such program): retrying cannot help.
exec::StepResult run_one(const AttemptContext& ctx, exec::Executor& executor, const exec::StepRequest& req,
                         AttemptObserver& observer, bool& maybe_running, bool& cannot_start) {
  maybe_running = false;
  cannot_start = false;
  try {
    return executor.run(req, observer, ctx.stop);
  } catch (const Error& e) {
    exec::StepResult result;
    result.status = ctx.stop.cancelled() ? StepStatus::kCancelled : StepStatus::kFailed;
    result.reason = e.what();
    result.error = exec::error_kind(e);
    cannot_start = e.code() == ExitCode::kInvalid;
    maybe_running = result.error == exec::ErrorKind::kUnreachable && observer.submitted.has_value();
    return result;
  } catch (const std::exception& e) {
    exec::StepResult result;
    result.status = ctx.stop.cancelled() ? StepStatus::kCancelled : StepStatus::kFailed;
    result.reason = e.what();
    return result;
  }
}

}  // namespace

// The first attempt may adopt one an earlier krdc left running; after a watch outage the same
// attempt is adopted again rather than a second one started beside it.
Completion run_attempts(const AttemptContext& ctx, const UnitWork& work, exec::Executor& executor) {
  const auto& s = work.step;
  Completion c;
  c.executor = executor.name();
  c.args = work.args;
  c.digest = work.digest;
  const auto t0 = Clock::now();
  const fs::path step_dir = ctx.options.run_dir / s.name;
  std::error_code ec;
  fs::create_directories(step_dir, ec);
  std::optional<AttemptTarget> adopt = adoption_for(ctx, work);
  int started = 0;  // attempts this run started
  for (int tries = 1;;) {
    const AttemptTarget target = adopt ? *adopt : AttemptTarget{ctx.options.run_id, started + 1, false, {}};
    if (!adopt) ++started;
    adopt.reset();
    const exec::StepRequest req = request_for(ctx, work, target, step_dir);
    c.log_file = req.log_file;
    c.attempts = tries;
    record_start(ctx, work, target, executor.name());

    AttemptObserver observer(ctx, target);
    bool cannot_start = false;
    c.result = run_one(ctx, executor, req, observer, c.maybe_running, cannot_start);
    if (c.result.status == StepStatus::kLost) {
      // Not running, outcome unknown: start it afresh (this does not use up a retry).
      auto lost = step_record(ctx.options, s.name, "lost");
      lost.update({{"attempt", target.attempt}, {"reason", c.result.reason}});
      ctx.record(std::move(lost), ResultWriter::Sync::kNone);
      ctx.status.message(fmt::format("step {}: {}; starting it again", s.name, c.result.reason));
      if (ctx.stop.cancelled()) {
        c.result.status = StepStatus::kCancelled;
        break;
      }
      continue;
    }
    // The next try follows an attempt that may still be running (or, if it is gone, starts
    // afresh): never two.
    if (c.maybe_running) adopt = AttemptTarget{target.run_id, target.attempt, true, *observer.submitted};
    const bool retryable = c.result.status == StepStatus::kFailed || c.result.status == StepStatus::kTimedOut;
    if (!retryable || cannot_start || tries > s.retries || ctx.stop.cancelled()) break;
    ++tries;

    const long long delay = std::min(ctx.options.max_backoff_ms, s.retry_backoff_ms << std::min(tries - 2, 20));
    auto retry = step_record(ctx.options, s.name, "retry");
    retry.update({{"attempt", target.attempt}, {"status", exec::to_string(c.result.status)},
                  {"exitCode", c.result.exit_code}, {"reason", c.result.reason}, {"delayMs", delay},
                  {"logTail", exec::read_tail(req.log_file, 2048)}});
    ctx.record(std::move(retry), ResultWriter::Sync::kNone);
    ctx.status.step_retrying(s.name, adopt ? target.attempt : started + 1, c.result.reason, delay);
    if (!ctx.stop.sleep_for(delay)) {
      c.result.status = StepStatus::kCancelled;
      c.result.reason = "cancelled while waiting to retry";
      break;
    }
  }
  c.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return c;
}

}  // namespace krdc::runner
