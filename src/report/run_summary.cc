// Folding one run's records into a RunSummary (docs/architecture.md, "Result file").
#include "krdc/report/run_summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>

#include "krdc/report/lanes.h"
#include "krdc/util/errors.h"

namespace krdc::report {

using nlohmann::json;

std::optional<double> parse_rfc3339(const std::string& text) {
  std::tm tm{};
  int millis = 0;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &millis, &consumed) != 7 ||
      static_cast<size_t>(consumed) != text.size()) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm)) + millis / 1000.0;
}

namespace {

bool is(const json& r, const char* type, const char* event) {
  return r.value("type", "") == type && r.value("event", "") == event;
}

std::string run_status(const json* footer) { return footer ? footer->value("status", "") : "incomplete"; }

// Where an attempt runs, as a person would look for it: the Job, or the process id.
std::string job_name(const json& details) {
  if (!details.is_object()) return "";
  if (details.contains("job") && details["job"].is_string()) return details["job"].get<std::string>();
  if (details.contains("pid") && details["pid"].is_number_integer()) return fmt::format("pid {}", details["pid"].get<long long>());
  return "";
}

// Folds the records of one run, in file order.
class Folder {
 public:
  explicit Folder(double run_start) : run_start_(run_start) {}

  void add(const json& r) {
    const double t = offset(r);
    last_sec_ = std::max(last_sec_, t);
    if (r.value("type", "") != "step") return;
    StepSummary& s = step(r.value("step", ""));
    const std::string event = r.value("event", "");
    if (event == "start") on_start(s, r, t);
    else if (event == "submitted") s.job = job_name(r.value("details", json::object()));
    else if (event == "retry") close_attempt(s, t, r.value("status", "failed"));
    else if (event == "lost") close_attempt(s, t, "lost");
    else if (event == "detached") on_detached(s, r);
    else if (event == "end") on_end(s, r, t);
    else if (event == "gathered") on_gathered(s, r);
  }

  // Steps that never ended: detached ones are still running; the others were lost with krdc.
  std::vector<StepSummary> finish() {
    for (auto& s : steps_) {
      if (!s.status.empty() && s.status != "detached") continue;
      if (s.status.empty()) {
        s.status = "lost";
        if (s.reason.empty()) s.reason = "started and never ended: krdc stopped during the run (killed?)";
      }
      close_attempt(s, last_sec_, s.status);
      s.attempts = static_cast<int>(s.tries.size());
      if (!s.tries.empty()) s.duration_sec = last_sec_ - s.tries.front().start_sec;
    }
    return std::move(steps_);
  }
  double last_sec() const { return last_sec_; }

 private:
  double offset(const json& r) const {
    const auto t = parse_rfc3339(r.value("time", ""));
    return t ? std::max(0.0, *t - run_start_) : last_sec_;
  }

  StepSummary& step(const std::string& name) {
    auto [it, added] = index_.try_emplace(name, steps_.size());
    if (added) {
      steps_.emplace_back();
      steps_.back().name = name;
    }
    return steps_[it->second];
  }

  void on_start(StepSummary& s, const json& r, double t) {
    close_attempt(s, t, "lost");  // an attempt still open here was lost (an adoption found it gone)
    if (s.start.empty()) s.start = r.value("time", "");
    s.executor = r.value("executor", s.executor);
    s.cluster = r.value("cluster", s.cluster);
    Attempt a;
    a.number = r.value("attempt", 1);
    a.status = "running";
    a.start_sec = a.end_sec = t;
    s.tries.push_back(a);
  }

  void on_detached(StepSummary& s, const json& r) {
    s.status = "detached";
    s.reason = r.value("reason", "");
    if (s.job.empty()) s.job = job_name(r.value("details", json::object()));
  }

  void on_end(StepSummary& s, const json& r, double t) {
    s.status = r.value("resumed", false) ? "reused" : r.value("status", "");
    s.attempts = r.value("attempts", static_cast<int>(s.tries.size()));
    if (r.contains("durationSec")) s.duration_sec = r.value("durationSec", 0.0);
    if (r.contains("exitCode") && !s.tries.empty()) s.exit_code = r.value("exitCode", 0);
    s.outputs = r.value("outputs", json::object());
    s.reason = r.value("reason", "");
    s.log = r.value("log", "");
    s.executor = r.value("executor", s.executor);
    s.cluster = r.value("cluster", s.cluster);
    if (s.status == "reused") s.reason = "reused the outputs of an earlier run with the same inputs";
    if (const auto job = job_name(r.value("details", json::object())); !job.empty()) s.job = job;
    close_attempt(s, t, s.status);
  }

  // A scattered step ran nothing itself: its instances (NAME[k]) did, each with its own row;
  // its record says how they went and what its dependents read.
  void on_gathered(StepSummary& s, const json& r) {
    s.status = r.value("status", "");
    s.outputs = r.value("outputs", json::object());
    s.reason = fmt::format("{} of {} instances succeeded", r.value("succeededInstances", 0), r.value("instances", 0));
  }

  static void close_attempt(StepSummary& s, double t, const std::string& status) {
    if (s.tries.empty() || s.tries.back().status != "running") return;
    s.tries.back().status = status;
    s.tries.back().end_sec = std::max(t, s.tries.back().start_sec);
  }

  double run_start_;
  double last_sec_ = 0;
  std::vector<StepSummary> steps_;
  std::map<std::string, size_t> index_;
};

const json* find_footer(const runner::ResultFile& file, const std::string& run) {
  const json* footer = nullptr;
  for (const auto& r : file.records) {
    if (is(r, "run", "end") && r.value("run", "") == run) footer = &r;
  }
  return footer;
}

std::string valid_ids(const std::vector<RunListing>& runs) {
  std::string out;
  for (const auto& r : runs) out += fmt::format("\n  {}  {}  {}  {}", r.run_id, r.workflow, r.start, r.status);
  return out;
}

// A header field the reader does not check the type of (user, krdc): a string or nothing.
std::string text_field(const json& record, const char* key) {
  const auto it = record.find(key);
  return it != record.end() && it->is_string() ? it->get<std::string>() : "";
}

void fill_header(RunSummary& out, const json& header) {
  out.workflow = header.value("workflow", "");
  out.workflow_file = header.value("file", "");
  out.user = text_field(header, "user");
  out.krdc_version = text_field(header, "krdc");
  out.start = header.value("time", "");
  out.params = header.value("params", json::object());
  out.planned_steps = static_cast<size_t>(std::max<long long>(0, header.value("steps", 0LL)));
}

// Where the timeline's zero is: the header's time, else the run's first readable time (a
// header edited by hand), so offsets stay offsets rather than seconds since 1970.
double run_start(const runner::ResultFile& file, const std::string& run, const std::string& header_time) {
  if (const auto t = parse_rfc3339(header_time)) return *t;
  for (const auto& r : file.records) {
    if (r.value("run", "") != run) continue;
    if (const auto t = parse_rfc3339(r.value("time", ""))) return *t;
  }
  return 0;
}

}  // namespace

std::vector<RunListing> list_runs(const runner::ResultFile& file) {
  std::vector<RunListing> runs;
  for (const auto& r : file.records) {
    if (!is(r, "run", "start")) continue;
    const std::string id = r.value("run", "");
    runs.push_back({id, r.value("workflow", ""), r.value("time", ""), run_status(find_footer(file, id))});
  }
  return runs;
}

RunSummary summarize_run(const runner::ResultFile& file, const std::string& run_id) {
  const auto runs = list_runs(file);
  if (runs.empty()) throw InvalidInput("the result file holds no krdc run (no run header)");
  const std::string id = run_id.empty() ? runs.back().run_id : run_id;
  if (std::none_of(runs.begin(), runs.end(), [&](const RunListing& r) { return r.run_id == id; })) {
    throw InvalidInput(fmt::format("no run {} in the result file; its runs are:{}", id, valid_ids(runs)),
                       "pass one of these ids to --run, or leave --run out for the latest");
  }
  RunSummary out;
  out.run_id = id;
  out.invalid_lines = file.invalid_lines;
  out.odd_records = file.odd_records;
  const json* header = nullptr;
  for (const auto& r : file.records) {
    if (is(r, "run", "start") && r.value("run", "") == id) header = &r;
  }
  fill_header(out, *header);
  const json* footer = find_footer(file, id);
  out.status = run_status(footer);
  if (footer && footer->contains("durationSec")) out.duration_sec = footer->value("durationSec", 0.0);

  Folder folder(run_start(file, id, out.start));
  for (const auto& r : file.records) {
    if (r.value("run", "") == id) folder.add(r);
  }
  out.steps = folder.finish();
  out.span_sec = std::max(folder.last_sec(), out.duration_sec.value_or(0));
  out.lanes = assign_lanes(out.steps);
  return out;
}

}  // namespace krdc::report
