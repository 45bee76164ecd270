#include "krdc/runner/runner.h"

#include <fmt/format.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <iterator>
#include <mutex>
#include <random>
#include <set>

#include "krdc/exec/outputs.h"
#include "krdc/plan/plan.h"
#include "krdc/util/digest.h"
#include "krdc/util/errors.h"
#include "krdc/util/worker_pool.h"
#include "krdc/workflow/params.h"
#include "krdc/workflow/template.h"

namespace krdc::runner {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using exec::StepStatus;

std::string new_run_id() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  std::random_device rd;
  return fmt::format("{}-{:06x}", buf, rd() & 0xffffff);
}

namespace {

// Digests of the files an app run from its directory consists of: its descriptor (when it has
// one of its own, not the workflow) and each command word naming a regular file in `dir`.
nlohmann::json app_content(const workflow::Step& step) {
  nlohmann::json files = nlohmann::json::object();
  if (!step.cluster.empty() || step.app.dir.empty()) return files;
  std::vector<fs::path> paths;
  if (!step.app.mark.file.empty() && step.app.mark.file != step.mark.file) paths.emplace_back(step.app.mark.file);
  for (const auto& word : step.app.command) {
    if (word.empty() || word[0] == '-') continue;
    const fs::path p = fs::path(word).is_absolute() ? fs::path(word) : fs::path(step.app.dir) / word;
    std::error_code ec;
    if (fs::is_regular_file(p, ec) && fs::path(word).is_relative()) paths.push_back(p);
  }
  for (const auto& p : paths) {
    std::ifstream in(p, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    files[p.filename().string()] = util::sha256_digest(bytes);
  }
  return files;
}

}  // namespace

std::string inputs_digest(const workflow::Step& step, const std::vector<std::string>& args) {
  nlohmann::json identity = {{"step", step.name},          {"image", step.app.image}, {"command", step.app.command},
                             {"dir", step.app.dir},         {"args", args},            {"env", step.env},
                             {"cluster", step.cluster},     {"pull", step.pull}};
  // Secret references (never values): pointing a step at another Secret reruns it.
  if (!step.secret_env.empty()) {
    nlohmann::json refs = nlohmann::json::object();
    for (const auto& [name, ref] : step.secret_env) refs[name] = {ref.name, ref.key};
    identity["secretEnv"] = std::move(refs);
  }
  if (auto files = app_content(step); !files.empty()) identity["files"] = std::move(files);
  return util::sha256_digest(identity.dump());
}

namespace {

// What a worker thread hands back to the scheduling loop.
struct Completion {
  size_t step = 0;
  exec::StepResult result;
  int attempts = 0;
  double seconds = 0;
  std::string executor;
  std::string digest;
  std::vector<std::string> args;
  fs::path log_file;
  bool maybe_running = false;  // krdc lost sight of the last attempt after it existed
  bool cannot_start = false;   // the step's own input is wrong (no such program): retrying cannot help
};

// The last `n` lines of `text`, without a trailing newline.
std::string last_lines(const std::string& text, size_t n) {
  std::string t = text;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  size_t pos = t.size();
  for (size_t k = 0; k < n && pos != std::string::npos && pos > 0; ++k) pos = t.rfind('\n', pos - 1);
  return pos == std::string::npos || pos == 0 ? t : t.substr(pos + 1);
}

// Forwards executor progress to the status printer.
class Observer : public exec::StepObserver {
 public:
  explicit Observer(StatusPrinter& status) : status_(status) {}
  void on_submitted(const exec::StepRequest& req, const nlohmann::json& details) override {
    if (details.contains("job")) status_.step_submitted(req.step.name, "job " + details["job"].get<std::string>());
  }
  void on_running(const exec::StepRequest&) override {}
  void on_log(const exec::StepRequest& req, std::string_view chunk) override { status_.step_log(req.step.name, chunk); }

 private:
  StatusPrinter& status_;
};

// Which attempt a request names: one this run starts, or one an earlier krdc started that this
// run adopts (docs/architecture.md, "Reattach").
struct AttemptTarget {
  std::string run_id;
  int attempt = 1;
  bool adopt = false;
  nlohmann::json submitted = nlohmann::json::object();
};

}  // namespace

struct Runner::Impl {
  Runner& r;
  plan::Plan plan;
  std::vector<nlohmann::json> outputs;  // per step, once succeeded
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Completion> done;
  std::set<size_t> running;  // steps on a worker thread
  exec::CancelToken stop;  // set on external cancel or --fail-fast; what executors watch
  bool cancelled_externally = false;
  std::string run_error;  // under mu: the first failure to record, which stops the run
  Observer observer;
  RunSummary summary;
  // Last: destroyed (its threads joined) before anything its tasks use.
  WorkerPool workers;

  // Every record goes through here, from the scheduling loop and from workers alike: a write
  // that fails (disk full, file gone) must not throw on a worker thread (std::terminate) nor
  // leave steps running unrecorded. The first failure stops the run: running steps are
  // cancelled and cleaned up by their executors, nothing new starts, and run() then throws
  // ResultWriteError (exit 5), so a failed write never reads as "a step failed".
  void record(nlohmann::json rec, ResultWriter::Sync sync = ResultWriter::Sync::kNone) {
    try {
      r.results_.append(std::move(rec), sync);
    } catch (const std::exception& e) {
      fail_run(e.what());
    }
  }
  void fail_run(const std::string& what) {
    {
      std::lock_guard lock(mu);
      if (!run_error.empty()) return;
      run_error = what;
    }
    stop.cancel();
  }
  std::string run_error_text() {
    std::lock_guard lock(mu);
    return run_error;
  }

  explicit Impl(Runner& runner)
      : r(runner),
        plan(runner.wf_),
        outputs(runner.wf_.steps.size()),
        observer(runner.status_),
        workers(static_cast<size_t>(runner.options_.jobs)) {}

  const workflow::Step& step(size_t i) const { return r.wf_.steps[i]; }

  nlohmann::json base_record(size_t i, const char* event) const {
    return {{"type", "step"}, {"event", event}, {"run", r.options_.run_id}, {"step", step(i).name}};
  }

  // Substitutes ${{ }} and renders argv; throws InvalidInput with the step named.
  std::pair<nlohmann::json, std::vector<std::string>> resolve(size_t i) {
    const auto& s = step(i);
    nlohmann::json params;
    try {
      params = workflow::substitute(s.params, [&](const workflow::Reference& ref) -> std::optional<nlohmann::json> {
        if (ref.kind == workflow::Reference::Kind::kParam) {
          if (r.wf_.params.contains(ref.key)) return r.wf_.params.at(ref.key);
          return std::nullopt;
        }
        const int dep = r.wf_.step_index(ref.step);
        if (dep < 0) return std::nullopt;
        const auto& out = outputs[static_cast<size_t>(dep)];
        if (!out.is_object() || !out.contains(ref.key)) return std::nullopt;
        return out.at(ref.key);
      });
    } catch (const std::invalid_argument& e) {
      throw InvalidInput(fmt::format("step \"{}\": {} (the upstream step did not write it to its outputs)", s.name,
                                     e.what()));
    }
    if (s.app.has_interface) {
      for (auto it = params.begin(); it != params.end(); ++it) {
        if (const auto* spec = s.app.find_param(it.key())) {
          if (auto err = workflow::check_param(*spec, it.value())) {
            throw InvalidInput(fmt::format("step \"{}\" param \"{}\": {}", s.name, it.key(), *err));
          }
        }
      }
    }
    try {
      return {params, workflow::render_args(s.app, params)};
    } catch (const InvalidInput& e) {
      throw InvalidInput(fmt::format("step \"{}\": {}", s.name, e.what()));
    }
  }

  void record_skipped(size_t i, const std::string& reason) {
    auto rec = base_record(i, "end");
    rec["status"] = "skipped";
    rec["reason"] = reason;
    record(std::move(rec));
    r.status_.step_finished(step(i).name, "skipped", 0, reason);
    ++summary.skipped;
  }

  void finish_without_running(size_t i, const std::string& reason) {
    auto rec = base_record(i, "end");
    rec["status"] = "failed";
    rec["reason"] = reason;
    rec["attempts"] = 0;
    record(std::move(rec), ResultWriter::Sync::kSoon);
    r.status_.step_finished(step(i).name, "failed", 0, reason);
    ++summary.failed;
    after_failure(i);
  }

  void after_failure(size_t i) {
    for (size_t d : plan.finish(i, false)) record_skipped(d, fmt::format("upstream step \"{}\" failed", step(i).name));
    if (r.options_.fail_fast) {
      for (size_t d : plan.skip_remaining()) record_skipped(d, "--fail-fast: an earlier step failed");
      stop.cancel();
    }
  }

  void start(size_t i) {
    const auto& s = step(i);
    nlohmann::json params;
    std::vector<std::string> args;
    try {
      std::tie(params, args) = resolve(i);
    } catch (const Error& e) {
      finish_without_running(i, e.what());
      return;
    }
    const std::string digest = inputs_digest(s, args);
    if (r.options_.resume) {
      if (const auto* previous = r.options_.resume->find(s.name, digest)) {
        outputs[i] = *previous;
        auto rec = base_record(i, "end");
        rec.update({{"status", "succeeded"}, {"resumed", true}, {"inputsDigest", digest}, {"outputs", *previous},
                    {"args", args}, {"attempts", 0}});
        record(std::move(rec), ResultWriter::Sync::kSoon);
        r.status_.step_finished(s.name, "succeeded", 0, "reused from the resumed run");
        ++summary.succeeded;
        for (size_t d : plan.finish(i, true)) (void)d;
        return;
      }
    }
    exec::Executor* executor = nullptr;
    try {
      executor = &r.executor_for_(s);
    } catch (const Error& e) {
      finish_without_running(i, e.what());
      return;
    }
    running.insert(i);
    workers.submit([this, i, executor, params = std::move(params), args = std::move(args), digest] {
      Completion c;
      // Nothing may escape a worker thread: whatever attempt_loop throws ends this step (and,
      // being krdc's own failure, the run), as a completion the scheduling loop records.
      try {
        c = attempt_loop(i, *executor, params, args, digest);
      } catch (const std::exception& e) {
        c.step = i;
        c.executor = executor->name();
        c.result.status = StepStatus::kFailed;
        c.result.reason = fmt::format("krdc failed while running the step: {}", e.what());
        fail_run(c.result.reason);
      }
      c.digest = digest;
      {
        std::lock_guard lock(mu);
        done.push_back(std::move(c));
      }
      cv.notify_one();
    });
  }

  // Records where an attempt runs (Job name+uid, pid) the moment it exists there: what a later
  // --resume or attach adopts. Called on the worker thread.
  class AttemptObserver : public exec::StepObserver {
   public:
    AttemptObserver(Impl& impl, size_t step, const AttemptTarget& target)
        : impl_(impl), step_(step), target_(target) {}
    void on_submitted(const exec::StepRequest& req, const nlohmann::json& details) override {
      submitted = details;
      auto rec = impl_.base_record(step_, "submitted");
      rec.update({{"attempt", target_.attempt}, {"details", details}});
      impl_.record(std::move(rec), ResultWriter::Sync::kSoon);
      impl_.observer.on_submitted(req, details);
    }
    void on_running(const exec::StepRequest& req) override { impl_.observer.on_running(req); }
    void on_log(const exec::StepRequest& req, std::string_view chunk) override { impl_.observer.on_log(req, chunk); }

    std::optional<nlohmann::json> submitted;

   private:
    Impl& impl_;
    size_t step_;
    const AttemptTarget& target_;
  };

  // The attempt an earlier krdc left in flight for step `i`, if it ran these same inputs.
  std::optional<AttemptTarget> adoption_for(size_t i, const std::string& digest) {
    if (!r.options_.resume) return std::nullopt;
    const InFlight* f = r.options_.resume->in_flight(step(i).name);
    if (!f) return std::nullopt;
    if (f->inputs_digest != digest) {
      r.status_.message(fmt::format("step {}: attempt {} of run {} may still be running with other inputs; it is not "
                                    "adopted",
                                    step(i).name, f->attempt, f->job_run));
      return std::nullopt;
    }
    return AttemptTarget{f->job_run, f->attempt, true, f->submitted};
  }

  exec::StepRequest request_for(size_t i, const AttemptTarget& target, const nlohmann::json& params,
                                const std::vector<std::string>& args, const fs::path& step_dir) const {
    const auto& s = step(i);
    exec::StepRequest req;
    req.run_id = target.run_id;
    req.workflow_name = r.wf_.name;
    req.step = s;
    req.args = args;
    req.params = params;
    req.attempt = target.attempt;
    req.adopt = target.adopt;
    req.submitted = target.submitted;
    req.detach = r.options_.detach;
    req.step_dir = step_dir;
    req.log_file = step_dir / (target.adopt ? fmt::format("adopted-{}-{}.log", target.run_id, target.attempt)
                                            : fmt::format("attempt-{}.log", target.attempt));
    req.kill_grace_ms = r.options_.kill_grace_ms;
    if (s.timeout_ms > 0) req.deadline = Clock::now() + std::chrono::milliseconds(s.timeout_ms);
    return req;
  }

  // Runs on a worker thread: every attempt of one step, with backoff between them. The first
  // may adopt an attempt an earlier krdc left running; after a watch outage the same attempt is
  // adopted again rather than a second one started beside it.
  Completion attempt_loop(size_t i, exec::Executor& executor, const nlohmann::json& params,
                          const std::vector<std::string>& args, const std::string& digest) {
    const auto& s = step(i);
    Completion c;
    c.step = i;
    c.executor = executor.name();
    c.args = args;
    const auto t0 = Clock::now();
    const fs::path step_dir = r.options_.run_dir / s.name;
    std::error_code ec;
    fs::create_directories(step_dir, ec);
    std::optional<AttemptTarget> adopt = adoption_for(i, digest);
    int started = 0;  // attempts this run started
    for (int tries = 1;;) {
      const AttemptTarget target = adopt ? *adopt : AttemptTarget{r.options_.run_id, started + 1, false, {}};
      if (!adopt) ++started;
      adopt.reset();
      exec::StepRequest req = request_for(i, target, params, args, step_dir);
      c.log_file = req.log_file;
      c.attempts = tries;

      auto rec = base_record(i, "start");
      rec.update({{"attempt", target.attempt}, {"executor", executor.name()}, {"args", args}, {"inputsDigest", digest}});
      if (target.adopt) rec["adopted"] = {{"run", target.run_id}, {"attempt", target.attempt}};
      if (!s.cluster.empty()) rec["cluster"] = s.cluster;
      record(std::move(rec));
      if (target.adopt) {
        r.status_.message(fmt::format("step {}: reattaching to attempt {} of run {}", s.name, target.attempt,
                                      target.run_id));
      }
      r.status_.step_started(s.name, target.attempt, executor.name());

      AttemptObserver attempt_observer(*this, i, target);
      c.maybe_running = false;
      c.cannot_start = false;
      try {
        c.result = executor.run(req, attempt_observer, stop);
      } catch (const Error& e) {
        c.result = exec::StepResult{};
        c.result.status = stop.cancelled() ? StepStatus::kCancelled : StepStatus::kFailed;
        c.result.reason = e.what();
        c.result.error = exec::error_kind(e);
        c.cannot_start = e.code() == ExitCode::kInvalid;
        // Cut off from the cluster after the attempt existed there: its outcome is unknown and
        // it may still be running. (A result that merely reports an unreachable cluster, like
        // a proxy's, is an outcome: the attempt is over.)
        c.maybe_running = c.result.error == exec::ErrorKind::kUnreachable && attempt_observer.submitted.has_value();
      } catch (const std::exception& e) {
        c.result = exec::StepResult{};
        c.result.status = stop.cancelled() ? StepStatus::kCancelled : StepStatus::kFailed;
        c.result.reason = e.what();
      }
      if (c.result.status == StepStatus::kLost) {
        // Not running, outcome unknown: start it afresh (this does not use up a retry).
        auto lost = base_record(i, "lost");
        lost.update({{"attempt", target.attempt}, {"reason", c.result.reason}});
        record(std::move(lost));
        r.status_.message(fmt::format("step {}: {}; starting it again", s.name, c.result.reason));
        if (stop.cancelled()) {
          c.result.status = StepStatus::kCancelled;
          break;
        }
        continue;
      }
      // The next try follows an attempt that may still be running (or, if it is gone, starts
      // afresh): never two.
      if (c.maybe_running) adopt = AttemptTarget{target.run_id, target.attempt, true, *attempt_observer.submitted};
      const bool retryable = c.result.status == StepStatus::kFailed || c.result.status == StepStatus::kTimedOut;
      if (!retryable || c.cannot_start || tries > s.retries || stop.cancelled()) break;
      ++tries;

      const long long delay = std::min(r.options_.max_backoff_ms, s.retry_backoff_ms << std::min(tries - 2, 20));
      auto retry = base_record(i, "retry");
      retry.update({{"attempt", target.attempt}, {"status", exec::to_string(c.result.status)},
                    {"exitCode", c.result.exit_code}, {"reason", c.result.reason}, {"delayMs", delay},
                    {"logTail", exec::read_tail(req.log_file, 2048)}});
      record(std::move(retry));
      r.status_.step_retrying(s.name, adopt ? target.attempt : started + 1, c.result.reason, delay);
      if (!stop.sleep_for(delay)) {
        c.result.status = StepStatus::kCancelled;
        c.result.reason = "cancelled while waiting to retry";
        break;
      }
    }
    c.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return c;
  }

  void complete(Completion c) {
    const size_t i = c.step;
    running.erase(i);
    const auto& s = step(i);
    if (c.result.status == StepStatus::kDetached) {
      // Left running where it runs; its dependents wait for `krdc attach`. No end record: the
      // attempt is still in flight for the reader.
      auto rec = base_record(i, "detached");
      rec.update({{"reason", c.result.reason}, {"details", c.result.details}});
      record(std::move(rec), ResultWriter::Sync::kSoon);
      r.status_.step_finished(s.name, "detached", c.seconds, c.result.reason);
      ++summary.detached;
      return;
    }
    const bool ok = c.result.status == StepStatus::kSucceeded;
    auto rec = base_record(i, "end");
    rec.update({{"status", exec::to_string(c.result.status)},
                {"exitCode", c.result.exit_code},
                {"durationSec", c.seconds},
                {"attempts", c.attempts},
                {"executor", c.executor},
                {"inputsDigest", c.digest},
                {"args", c.args},
                {"outputs", c.result.outputs},
                {"log", c.log_file.string()},
                {"logTail", exec::read_tail(c.log_file.string(), 2048)}});
    if (!s.cluster.empty()) rec["cluster"] = s.cluster;
    if (!c.result.reason.empty()) rec["reason"] = c.result.reason;
    if (c.result.error != exec::ErrorKind::kNone) rec["error"] = exec::to_string(c.result.error);
    if (c.maybe_running) rec["maybeRunning"] = true;  // a later --resume adopts it (ResumeIndex)
    if (!c.result.details.empty()) rec["details"] = c.result.details;
    std::string excerpt;
    std::string detail = c.result.reason;
    if (!ok && c.result.status != StepStatus::kCancelled) {
      detail += fmt::format(" · log: {}", c.log_file.string());
      excerpt = last_lines(rec["logTail"].get<std::string>(), 5);
    }
    record(std::move(rec), ResultWriter::Sync::kSoon);
    r.status_.step_finished(s.name, exec::to_string(c.result.status), c.seconds, detail, excerpt);
    if (ok) {
      outputs[i] = c.result.outputs;
      ++summary.succeeded;
      plan.finish(i, true);
    } else if (c.result.status == StepStatus::kCancelled) {
      ++summary.cancelled;
      plan.finish(i, false);  // dependents were already skipped by the stop
    } else {
      ++summary.failed;
      if (c.result.error == exec::ErrorKind::kUnreachable) ++summary.unreachable;
      if (c.result.error == exec::ErrorKind::kAuth) ++summary.refused;
      after_failure(i);
    }
  }

  RunSummary run() {
    const auto t0 = Clock::now();
    nlohmann::json header = {{"type", "run"},           {"event", "start"},          {"run", r.options_.run_id},
                             {"workflow", r.wf_.name},  {"file", r.wf_.file},        {"digest", r.wf_.digest},
                             {"path", fs::absolute(r.wf_.file).string()},
                             {"params", r.wf_.params},  {"steps", r.wf_.steps.size()}, {"jobs", r.options_.jobs}};
    header.update(r.options_.header);
    record(std::move(header), ResultWriter::Sync::kSoon);
    r.status_.run_started(r.wf_.name, r.options_.run_id, r.results_.path());

    std::vector<size_t> queue;  // ready but waiting for a free slot
    bool stopped_by_error = false;
    while (!plan.done() || !running.empty()) {
      if (r.cancel_.cancelled() && !cancelled_externally) {
        cancelled_externally = true;
        stop.cancel();
        for (size_t d : plan.skip_remaining()) record_skipped(d, "run cancelled");
        queue.clear();
      }
      if (!stopped_by_error && !run_error_text().empty()) {
        stopped_by_error = true;  // fail_run() cancelled what runs; what has not started never will
        for (size_t d : plan.skip_remaining()) record_skipped(d, "run stopped: krdc could not go on");
        queue.clear();
      }
      if (!stop.cancelled()) {
        for (size_t s : plan.take_ready()) queue.push_back(s);
        while (!queue.empty() && running.size() < static_cast<size_t>(r.options_.jobs) && !stop.cancelled()) {
          const size_t s = queue.front();
          queue.erase(queue.begin());
          start(s);
          for (size_t n : plan.take_ready()) queue.push_back(n);  // resumed/failed-early steps free their dependents
        }
      }
      // Nothing running and nothing ready: the plan is done, or (--detach) what is left waits
      // on steps left running.
      if (running.empty() && queue.empty()) break;
      std::unique_lock lock(mu);
      if (done.empty()) cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return !done.empty(); });
      std::deque<Completion> finished;
      finished.swap(done);
      lock.unlock();
      for (auto& c : finished) complete(std::move(c));
    }
    summary.status = cancelled_externally ? "cancelled" : (summary.failed || summary.cancelled ? "failed" : "succeeded");
    if (summary.status == "succeeded" && summary.detached) summary.status = "detached";
    if (stopped_by_error) summary.status = "failed";
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    record({{"type", "run"},
                       {"event", "end"},
                       {"run", r.options_.run_id},
                       {"status", summary.status},
                       {"durationSec", seconds},
                       {"succeeded", summary.succeeded},
                       {"failed", summary.failed},
                       {"skipped", summary.skipped},
                       {"cancelled", summary.cancelled},
                       {"detached", summary.detached}},
                      ResultWriter::Sync::kNow);
    r.footer_written_ = true;
    r.status_.run_finished(summary.status, seconds);
    if (const std::string error = run_error_text(); !error.empty()) {
      throw RunStopped(fmt::format("the run was stopped: {}", error),
                       fmt::format("every record before the failure is in {}; fix the cause (a full disk?) and rerun "
                                   "with --resume",
                                   r.results_.path()));
    }
    return summary;
  }
};

Runner::Runner(const workflow::Workflow& wf, RunOptions options, ExecutorFor executor_for, ResultWriter& results,
               StatusPrinter& status, const exec::CancelToken& cancel)
    : wf_(wf), options_(std::move(options)), executor_for_(std::move(executor_for)), results_(results),
      status_(status), cancel_(cancel) {
  if (options_.jobs < 1) options_.jobs = 1;
}

RunSummary Runner::run() {
  Impl impl(*this);
  return impl.run();
}

}  // namespace krdc::runner
