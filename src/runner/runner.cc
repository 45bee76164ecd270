#include "krdc/runner/runner.h"

#include <fmt/format.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <set>

#include "attempts.h"
#include "krdc/exec/outputs.h"
#include "krdc/plan/plan.h"
#include "krdc/util/errors.h"
#include "krdc/util/worker_pool.h"
#include "krdc/workflow/condition.h"
#include "krdc/workflow/params.h"
#include "krdc/workflow/scatter.h"
#include "krdc/workflow/template.h"

namespace krdc::runner {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using exec::StepStatus;

namespace {

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

// What the runner schedules: a step, or one instance of a scattered step
// (docs/architecture.md, "Scatter, gather and conditions").
struct Unit {
  size_t step = 0;
  std::string name;     // the step's name, or NAME[k]
  bool instance = false;
  size_t index = 0;     // the instance's position in item order
  nlohmann::json item;  // the instance's item
};

// A scattered step's instances so far: it finishes when the last one does.
struct Gather {
  size_t total = 0;
  size_t finished = 0;
  bool all_succeeded = true;
  std::vector<nlohmann::json> outputs;  // per instance, item order
};

// Every output key any instance wrote, each as the list of all instances' values in item order
// (null where an instance did not write it): what ${{ steps.NAME.outputs.KEY }} reads downstream.
nlohmann::json gathered_outputs(const std::vector<nlohmann::json>& per_instance) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& o : per_instance) {
    if (!o.is_object()) continue;
    for (auto it = o.begin(); it != o.end(); ++it) {
      if (!out.contains(it.key())) out[it.key()] = nlohmann::json::array();
    }
  }
  for (auto it = out.begin(); it != out.end(); ++it) {
    for (const auto& o : per_instance) {
      it.value().push_back(o.is_object() && o.contains(it.key()) ? o.at(it.key()) : nlohmann::json());
    }
  }
  return out;
}

}  // namespace

struct Runner::Impl {
  Runner& r;
  plan::Plan plan;
  std::vector<nlohmann::json> outputs;  // per step, once succeeded (gathered for a scatter)
  std::vector<Gather> gathers;          // per step; used by scattered steps only
  std::deque<Unit> units;               // every unit so far (a deque: references stay valid)
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Completion> done;
  std::set<size_t> running;  // units on a worker thread
  exec::CancelToken stop;  // set on external cancel or --fail-fast; what executors watch
  bool cancelled_externally = false;
  std::string run_error;  // under mu: the first failure to record, which stops the run
  Observer observer;
  AttemptContext attempt_context;
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
        gathers(runner.wf_.steps.size()),
        observer(runner.status_),
        attempt_context{runner.wf_, runner.options_, runner.status_, observer, stop,
                        [this](nlohmann::json rec, ResultWriter::Sync sync) { record(std::move(rec), sync); }},
        workers(static_cast<size_t>(runner.options_.jobs)) {}

  const workflow::Step& step(size_t i) const { return r.wf_.steps[i]; }

  nlohmann::json base_record(const std::string& name, const char* event) const {
    return step_record(r.options_, name, event);
  }
  // What start and end records of an instance carry: which step, which item.
  nlohmann::json instance_fields(const Unit& u) const {
    if (!u.instance) return nlohmann::json::object();
    return {{"instanceOf", step(u.step).name}, {"index", u.index}, {"item", u.item}};
  }

  // Workflow params, upstream outputs (gathered for a scatter) and the unit's item.
  workflow::Resolver resolver(const nlohmann::json* item) const {
    return workflow::value_resolver(r.wf_.params, item, [this](const std::string& name) -> const nlohmann::json* {
      const int dep = r.wf_.step_index(name);
      return dep < 0 ? nullptr : &outputs[static_cast<size_t>(dep)];
    });
  }

  // Substitutes ${{ }} and renders argv; throws InvalidInput with the unit named.
  std::pair<nlohmann::json, std::vector<std::string>> resolve(const Unit& u) {
    const auto& s = step(u.step);
    nlohmann::json params;
    try {
      params = workflow::substitute(s.params, resolver(u.instance ? &u.item : nullptr));
    } catch (const std::invalid_argument& e) {
      throw InvalidInput(fmt::format("step \"{}\": {} (the upstream step did not write it to its outputs{})", u.name,
                                     e.what(), u.instance ? ", or the item has no such field" : ""));
    }
    if (s.app.has_interface) {
      for (auto it = params.begin(); it != params.end(); ++it) {
        if (const auto* spec = s.app.find_param(it.key())) {
          if (auto err = workflow::check_param(*spec, it.value())) {
            throw InvalidInput(fmt::format("step \"{}\" param \"{}\": {}", u.name, it.key(), *err));
          }
        }
      }
    }
    try {
      return {params, workflow::render_args(s.app, params)};
    } catch (const InvalidInput& e) {
      throw InvalidInput(fmt::format("step \"{}\": {}", u.name, e.what()));
    }
  }

  // `quiet`: recorded, but not a line each for people (a stopping run says once how many).
  void record_skipped(size_t i, const std::string& reason, bool quiet = false) {
    auto rec = base_record(step(i).name, "end");
    rec["status"] = "skipped";
    rec["reason"] = reason;
    record(std::move(rec));
    if (!quiet) r.status_.step_finished(step(i).name, "skipped", 0, reason);
    ++summary.skipped;
  }

  // The run stops (cancel, --fail-fast, a failed write): every step not started yet and every
  // queued unit is recorded skipped, and people get one line rather than one per step.
  void skip_the_rest(std::vector<size_t>& queue, const std::string& reason) {
    const auto steps = plan.skip_remaining();
    for (size_t d : steps) record_skipped(d, reason, true);
    const size_t units_dropped = queue.size();
    drop_queued(queue, reason);
    if (const size_t n = steps.size() + units_dropped; n > 0) {
      r.status_.steps_skipped(n);
      r.status_.message(fmt::format("{} step{} not started: {}", n, n == 1 ? "" : "s", reason));
    }
  }

  // A step that failed before any unit of it ran: its condition or its scatter list could not
  // be worked out.
  void fail_step(size_t i, const std::string& reason) {
    auto rec = base_record(step(i).name, "end");
    rec.update({{"status", "failed"}, {"reason", reason}, {"attempts", 0}});
    record(std::move(rec), ResultWriter::Sync::kSoon);
    r.status_.step_finished(step(i).name, "failed", 0, reason);
    ++summary.failed;
    after_failure(i);
  }

  void after_failure(size_t i) {
    for (size_t d : plan.finish(i, false)) record_skipped(d, fmt::format("upstream step \"{}\" failed", step(i).name));
    stop_if_fail_fast();
  }
  // The scheduling loop skips the rest once it sees the stop (skip_the_rest).
  void stop_if_fail_fast() {
    if (r.options_.fail_fast) stop.cancel();
  }

  // A unit is over (any outcome but detached): its step is over when it was the step's last.
  void unit_finished(const Unit& u, bool succeeded, bool cancelled, const nlohmann::json& unit_outputs) {
    const size_t i = u.step;
    if (u.instance) {
      Gather& g = gathers[i];
      g.outputs[u.index] = succeeded ? unit_outputs : nlohmann::json();
      g.all_succeeded &= succeeded;
      if (++g.finished < g.total) {
        if (!succeeded && !cancelled) stop_if_fail_fast();  // the other instances keep running otherwise
        return;
      }
      step_over(i, g.all_succeeded, cancelled, gathered_outputs(g.outputs));
      return;
    }
    step_over(i, succeeded, cancelled, unit_outputs);
  }

  void step_over(size_t i, bool succeeded, bool cancelled, nlohmann::json step_outputs) {
    if (step(i).scatter.active()) record_gathered(i, succeeded, step_outputs);
    if (succeeded) {
      outputs[i] = std::move(step_outputs);
      plan.finish(i, true);
    } else if (cancelled) {
      plan.finish(i, false);  // dependents were already skipped by the stop
    } else {
      after_failure(i);
    }
  }

  // One record per scattered step once its instances are all over: what the step's dependents
  // read (${{ steps.NAME.outputs.KEY }} is the list of all instances' values, in item order).
  void record_gathered(size_t i, bool succeeded, const nlohmann::json& gathered) {
    const Gather& g = gathers[i];
    size_t ok = 0;
    for (const auto& o : g.outputs) ok += o.is_null() ? 0 : 1;
    auto rec = base_record(step(i).name, "gathered");
    rec.update({{"status", succeeded ? "succeeded" : "failed"},
                {"instances", g.total},
                {"succeededInstances", ok},
                {"outputs", gathered}});
    record(std::move(rec), ResultWriter::Sync::kSoon);
    if (g.total > 1 || !succeeded) {
      r.status_.message(fmt::format("step {}: {} of {} instance{} succeeded", step(i).name, ok, g.total,
                                    g.total == 1 ? "" : "s"));
    }
  }

  // A unit that ends before running: its params could not be resolved, or no executor serves it.
  void finish_without_running(const Unit& u, const std::string& reason) {
    auto rec = base_record(u.name, "end");
    rec.update({{"status", "failed"}, {"reason", reason}, {"attempts", 0}});
    rec.update(instance_fields(u));
    record(std::move(rec), ResultWriter::Sync::kSoon);
    r.status_.step_finished(u.name, "failed", 0, reason);
    ++summary.failed;
    unit_finished(u, false, false, nullptr);
  }

  // A step the plan made ready: decide its condition, expand its scatter, queue its units.
  void begin_step(size_t i, std::vector<size_t>& queue) {
    const auto& s = step(i);
    if (!s.when.empty()) {
      bool run = true;
      try {
        run = workflow::Condition::parse(s.when).evaluate(resolver(nullptr));
      } catch (const std::invalid_argument& e) {
        fail_step(i, fmt::format("when: {}", e.what()));
        return;
      }
      if (!run) {
        skip_by_condition(i);
        return;
      }
    }
    if (!s.scatter.active()) {
      units.push_back(Unit{i, s.name, false, 0, nullptr});
      queue.push_back(units.size() - 1);
      return;
    }
    std::vector<workflow::Instance> instances;
    try {
      instances = workflow::expand(s, workflow::resolve_items(s, resolver(nullptr)));
    } catch (const Error& e) {
      fail_step(i, e.what());
      return;
    }
    Gather& g = gathers[i];
    g.total = instances.size();
    g.outputs.assign(instances.size(), nullptr);
    if (instances.empty()) {  // nothing to do is done: the gathered lists are empty
      r.status_.step_finished(s.name, "succeeded", 0, "the list is empty: no instance to run");
      ++summary.succeeded;
      step_over(i, true, false, nlohmann::json::object());
      return;
    }
    r.status_.step_expanded(instances.size());
    for (size_t k = 0; k < instances.size(); ++k) {
      units.push_back(Unit{i, std::move(instances[k].name), true, k, std::move(instances[k].item)});
      queue.push_back(units.size() - 1);
    }
  }

  void skip_by_condition(size_t i) {
    const std::string reason = "condition";
    auto rec = base_record(step(i).name, "end");
    rec.update({{"status", "skipped"}, {"reason", reason}, {"when", step(i).when}});
    record(std::move(rec));
    r.status_.step_finished(step(i).name, "skipped", 0, "condition is false");
    ++summary.skipped;
    for (size_t d : plan.skip(i)) {
      record_skipped(d, fmt::format("upstream step \"{}\" was skipped (condition)", step(i).name));
    }
  }

  // Units queued but never started when the run stops: recorded, so every step ends (its
  // scattered step too, once its running instances are over).
  void drop_queued(std::vector<size_t>& queue, const std::string& reason) {
    for (size_t id : queue) {
      const Unit& u = units[id];
      auto rec = base_record(u.name, "end");
      rec.update({{"status", "skipped"}, {"reason", reason}});
      rec.update(instance_fields(u));
      record(std::move(rec));
      ++summary.skipped;
      unit_finished(u, false, true, nullptr);
    }
    queue.clear();
  }

  void start(size_t id) {
    const Unit& u = units[id];
    const auto& s = step(u.step);
    UnitWork work;
    work.step = s;
    work.step.name = u.name;
    work.record_fields = instance_fields(u);
    try {
      std::tie(work.params, work.args) = resolve(u);
    } catch (const Error& e) {
      finish_without_running(u, e.what());
      return;
    }
    work.digest = inputs_digest(work.step, work.args);
    if (reuse_previous(u, work)) return;
    exec::Executor* executor = nullptr;
    try {
      executor = &r.executor_for_(s);
    } catch (const Error& e) {
      finish_without_running(u, e.what());
      return;
    }
    running.insert(id);
    workers.submit([this, id, executor, work = std::move(work)] {
      Completion c;
      // Nothing may escape a worker thread: whatever run_attempts throws ends this unit (and,
      // being krdc's own failure, the run), as a completion the scheduling loop records.
      try {
        c = run_attempts(attempt_context, work, *executor);
      } catch (const std::exception& e) {
        c.executor = executor->name();
        c.digest = work.digest;
        c.result.status = StepStatus::kFailed;
        c.result.reason = fmt::format("krdc failed while running the step: {}", e.what());
        fail_run(c.result.reason);
      }
      c.unit = id;
      {
        std::lock_guard lock(mu);
        done.push_back(std::move(c));
      }
      cv.notify_one();
    });
  }

  // --resume: a unit that already succeeded with these inputs is not run again.
  bool reuse_previous(const Unit& u, const UnitWork& work) {
    if (!r.options_.resume) return false;
    const auto* previous = r.options_.resume->find(u.name, work.digest);
    if (!previous) return false;
    auto rec = base_record(u.name, "end");
    rec.update({{"status", "succeeded"}, {"resumed", true}, {"inputsDigest", work.digest}, {"outputs", *previous},
                {"args", work.args}, {"attempts", 0}});
    rec.update(instance_fields(u));
    record(std::move(rec), ResultWriter::Sync::kSoon);
    r.status_.step_finished(u.name, "succeeded", 0, "reused from the resumed run");
    ++summary.succeeded;
    unit_finished(u, true, false, *previous);
    return true;
  }

  void complete(Completion c) {
    running.erase(c.unit);
    const Unit& u = units[c.unit];
    if (c.result.status == StepStatus::kDetached) {
      // Left running where it runs; its dependents wait for `krdc attach`. No end record: the
      // attempt is still in flight for the reader.
      auto rec = base_record(u.name, "detached");
      rec.update({{"reason", c.result.reason}, {"details", c.result.details}});
      record(std::move(rec), ResultWriter::Sync::kSoon);
      r.status_.step_finished(u.name, "detached", c.seconds, c.result.reason);
      ++summary.detached;
      return;
    }
    // Declared outputs are a contract (exec/outputs.h). Checked here, after the attempt loop, so
    // a missing output is never retried: the same inputs would write the same outputs again.
    exec::enforce_declared_outputs(step(u.step).app, c.result);
    record_end(u, c);
    const bool ok = c.result.status == StepStatus::kSucceeded;
    const bool cancelled = c.result.status == StepStatus::kCancelled;
    if (ok) {
      ++summary.succeeded;
    } else if (cancelled) {
      ++summary.cancelled;
    } else {
      ++summary.failed;
      if (c.result.error == exec::ErrorKind::kUnreachable) ++summary.unreachable;
      if (c.result.error == exec::ErrorKind::kAuth) ++summary.refused;
    }
    unit_finished(u, ok, cancelled, c.result.outputs);
  }

  void record_end(const Unit& u, const Completion& c) {
    const auto& s = step(u.step);
    auto rec = base_record(u.name, "end");
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
    rec.update(instance_fields(u));
    if (!s.cluster.empty()) rec["cluster"] = s.cluster;
    if (!c.result.reason.empty()) rec["reason"] = c.result.reason;
    if (c.result.error != exec::ErrorKind::kNone) rec["error"] = exec::to_string(c.result.error);
    if (c.maybe_running) rec["maybeRunning"] = true;  // a later --resume adopts it (ResumeIndex)
    if (!c.result.details.empty()) rec["details"] = c.result.details;
    std::string excerpt;
    std::string detail = c.result.reason;
    std::error_code ec;
    if (c.result.status != StepStatus::kSucceeded && c.result.status != StepStatus::kCancelled &&
        fs::exists(c.log_file, ec)) {  // a step that could not start has no log to point at
      detail += fmt::format(" · log: {}", c.log_file.string());
      excerpt = last_lines(rec["logTail"].get<std::string>(), 5);
    }
    record(std::move(rec), ResultWriter::Sync::kSoon);
    r.status_.step_finished(u.name, exec::to_string(c.result.status), c.seconds, detail, excerpt);
  }

  void record_header() {
    nlohmann::json header = {{"type", "run"},           {"event", "start"},          {"run", r.options_.run_id},
                             {"workflow", r.wf_.name},  {"file", r.wf_.file},        {"digest", r.wf_.digest},
                             {"path", fs::absolute(r.wf_.file).string()},
                             {"params", r.wf_.params},  {"steps", r.wf_.steps.size()}, {"jobs", r.options_.jobs}};
    header.update(r.options_.header);
    record(std::move(header), ResultWriter::Sync::kSoon);
  }

  double record_footer(Clock::time_point t0) {
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
    return seconds;
  }

  // The scheduling loop: stop when asked, start what is ready up to --jobs, record what ends.
  void schedule() {
    std::vector<size_t> queue;  // units ready but waiting for a free slot
    bool stopped_by_error = false;
    while (!plan.done() || !running.empty()) {
      if (r.cancel_.cancelled() && !cancelled_externally) {
        cancelled_externally = true;
        stop.cancel();
        skip_the_rest(queue, "run cancelled");
      }
      if (!stopped_by_error && !run_error_text().empty()) {
        stopped_by_error = true;  // fail_run() cancelled what runs; what has not started never will
        skip_the_rest(queue, "run stopped: krdc could not go on");
      }
      if (stop.cancelled()) skip_the_rest(queue, "--fail-fast: an earlier step failed");
      if (!stop.cancelled()) fill_slots(queue);
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
  }

  // Starts queued units while slots are free. Steps that end without running (reused,
  // skipped, failed early) free their dependents at once, so the plan is asked again.
  void fill_slots(std::vector<size_t>& queue) {
    size_t next = 0;
    while (!stop.cancelled()) {
      bool progressed = false;
      for (size_t s : plan.take_ready()) {
        begin_step(s, queue);
        progressed = true;
      }
      while (next < queue.size() && running.size() < static_cast<size_t>(r.options_.jobs) && !stop.cancelled()) {
        start(queue[next++]);
        progressed = true;
      }
      if (!progressed) break;
    }
    queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(next));
  }

  RunSummary run() {
    const auto t0 = Clock::now();
    record_header();
    r.status_.run_started(r.wf_.name, r.options_.run_id, r.results_.path());
    schedule();
    const double seconds = record_footer(t0);
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
