#include "krdc/report/step_attempts.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "krdc/util/errors.h"

namespace krdc::report {

namespace fs = std::filesystem;

namespace {

bool is(const nlohmann::json& r, const char* type, const char* event) {
  return r.value("type", "") == type && r.value("event", "") == event;
}

std::string string_field(const nlohmann::json& r, const char* key) {
  auto it = r.find(key);
  return it != r.end() && it->is_string() ? it->get<std::string>() : "";
}

// The run header names its run directory; files written before it did are located from an
// `end` record's log path (<run dir>/<step>/<file>), else krdc's default beside the results.
fs::path run_directory(const runner::ResultFile& file, const std::string& results_path, const std::string& run) {
  for (const auto& r : file.records) {
    if (r.value("run", "") != run) continue;
    if (is(r, "run", "start") && !string_field(r, "runDir").empty()) return string_field(r, "runDir");
    if (is(r, "step", "end") && !string_field(r, "log").empty()) {
      return fs::path(string_field(r, "log")).parent_path().parent_path();
    }
  }
  return fs::absolute(results_path).parent_path() / ".krdc" / "runs" / run;
}

std::string log_file_name(const nlohmann::json& start) {
  const int attempt = start.value("attempt", 1);
  auto adopted = start.find("adopted");
  if (adopted != start.end() && adopted->is_object() && adopted->contains("run")) {
    return fmt::format("adopted-{}-{}.log", adopted->value("run", ""), adopted->value("attempt", attempt));
  }
  return fmt::format("attempt-{}.log", attempt);
}

// The latest attempt still open numbered `attempt` (any number when 0).
AttemptDetail* open_attempt(std::vector<AttemptDetail>& attempts, int attempt) {
  for (auto it = attempts.rbegin(); it != attempts.rend(); ++it) {
    if (!it->closed && (attempt == 0 || it->attempt == attempt)) return &*it;
  }
  return nullptr;
}

void close_attempt(AttemptDetail& a, const nlohmann::json& r, const std::string& event) {
  a.closed = true;
  a.end_time = string_field(r, "time");
  a.status = event == "lost" ? "lost" : string_field(r, "status");
  a.reason = string_field(r, "reason");
  a.tail = string_field(r, "logTail");
  if (event != "end") return;
  if (!string_field(r, "log").empty()) a.log_path = string_field(r, "log");
  if (r.contains("outputs") && r["outputs"].is_object()) a.outputs = r["outputs"];
}

void apply(StepAttempts& step, const nlohmann::json& r, const fs::path& run_dir) {
  const std::string event = r.value("event", "");
  if (event == "start") {
    AttemptDetail a;
    a.attempt = r.value("attempt", 1);
    a.executor = string_field(r, "executor");
    a.cluster = string_field(r, "cluster");
    a.start_time = string_field(r, "time");
    a.log_path = (run_dir / step.step / log_file_name(r)).string();
    if (r.contains("args") && r["args"].is_array()) a.args = r["args"];
    if (r.contains("params") && r["params"].is_object()) a.params = r["params"];
    step.attempts.push_back(std::move(a));
  } else if (event == "submitted") {
    if (AttemptDetail* a = open_attempt(step.attempts, r.value("attempt", 0))) {
      a->submitted = r.value("details", nlohmann::json::object());
    }
  } else if (event == "retry" || event == "lost" || event == "end") {
    if (event == "end") step.status = r.value("resumed", false) ? "reused" : string_field(r, "status");
    // An end without an open attempt: a step skipped (or refused) before it ran.
    if (AttemptDetail* a = open_attempt(step.attempts, event == "end" ? 0 : r.value("attempt", 0))) close_attempt(*a, r, event);
  } else if (event == "gathered") {
    step.status = string_field(r, "status");  // a scattered step: its instances NAME[k] ran
  }
}

}  // namespace

std::string latest_run(const runner::ResultFile& file, const std::string& path) {
  const nlohmann::json* header = file.last_header();
  if (!header) throw InvalidInput(fmt::format("{}: no krdc run in this file", path), "give the .results.jsonl of a run");
  return header->value("run", "");
}

const AttemptDetail& StepAttempts::pick(int n) const {
  if (attempts.empty()) {
    throw InvalidInput(fmt::format("step \"{}\" did not run in run {}{}", step, run,
                                   status.empty() ? "" : fmt::format(" (it was {})", status)),
                       status == "reused" ? "its outputs came from an earlier run: give that run's id with --run"
                                          : "so it has no log");
  }
  if (n == 0) return attempts.back();
  for (auto it = attempts.rbegin(); it != attempts.rend(); ++it) {
    if (it->attempt == n) return *it;
  }
  std::string known;
  for (const auto& a : attempts) known += fmt::format("{}{}", known.empty() ? "" : ", ", a.attempt);
  throw InvalidInput(fmt::format("step \"{}\" has no attempt {} in run {}", step, n, run),
                     fmt::format("its attempts: {}", known));
}

std::vector<StepAttempts> run_attempts(const runner::ResultFile& file, const std::string& results_path,
                                       const std::string& run) {
  const fs::path run_dir = run_directory(file, results_path, run);
  std::vector<StepAttempts> steps;
  bool run_found = false;
  for (const auto& r : file.records) {
    if (r.value("run", "") != run) continue;
    run_found = true;
    if (r.value("type", "") != "step") continue;
    const std::string name = r.value("step", "");
    auto it = std::find_if(steps.begin(), steps.end(), [&](const StepAttempts& s) { return s.step == name; });
    if (it == steps.end()) it = steps.insert(steps.end(), StepAttempts{run, name, {}, ""});
    apply(*it, r, run_dir);
  }
  if (!run_found) throw InvalidInput(fmt::format("{}: no run {}", results_path, run));
  return steps;
}

StepAttempts find_step_attempts(const runner::ResultFile& file, const std::string& results_path,
                                const std::string& run, const std::string& step) {
  const std::string id = run.empty() ? latest_run(file, results_path) : run;
  auto steps = run_attempts(file, results_path, id);
  std::string list;
  for (auto& s : steps) {
    if (s.step == step) return std::move(s);
    list += fmt::format("{}{}", list.empty() ? "" : ", ", s.step);
  }
  throw InvalidInput(fmt::format("run {} has no step \"{}\"", id, step),
                     list.empty() ? "no step has started in this run yet" : "its steps: " + list);
}

}  // namespace krdc::report
