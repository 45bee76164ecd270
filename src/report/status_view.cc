#include "krdc/report/status_view.h"

#include <fmt/format.h>

#include <map>

#include "krdc/report/run_summary.h"

namespace krdc::report {

namespace {

using nlohmann::json;

// A step the model calls lost (started, never ended), seen live.
std::string live_state(const StepSummary& s, bool writer_active) {
  if (s.status != "lost") return s.status;
  if (writer_active) return "running";
  return s.executor == "process" ? "lost" : "in-flight";
}

std::string run_state(const RunSummary& run, bool writer_active) {
  if (run.status != "incomplete") return run.status;
  return writer_active ? "running" : "interrupted";
}

}  // namespace

RunStatus read_run_status(const runner::ResultFile& file, const std::string& results_path, const std::string& run,
                          bool writer_active) {
  const RunSummary summary = summarize_run(file, run);
  RunStatus out;
  out.run = summary.run_id;
  out.workflow = summary.workflow;
  out.user = summary.user;
  out.started = summary.start;
  out.duration_sec = summary.duration_sec;
  out.steps_total = static_cast<int>(summary.planned_steps);
  // A footer ends the run whatever the lock says (a later krdc may hold the file).
  out.writer_active = writer_active && summary.status == "incomplete";
  out.state = run_state(summary, out.writer_active);
  // Where each step's latest attempt runs (Job namespace and uid, for asking the cluster) and its
  // log file while it has no end record.
  std::map<std::string, AttemptDetail> latest;
  for (auto& s : run_attempts(file, results_path, out.run)) {
    if (!s.attempts.empty()) latest[s.step] = s.attempts.back();
  }
  for (const auto& s : summary.steps) {
    StepStatus st;
    st.step = s.name;
    st.state = live_state(s, out.writer_active);
    st.attempts = s.attempts > 0 ? s.attempts : static_cast<int>(s.tries.size());
    st.executor = s.executor;
    st.cluster = s.cluster;
    st.where = s.job;
    st.started = s.start;
    if (st.state != "running" && st.state != "in-flight") st.duration_sec = s.duration_sec;
    st.exit_code = s.exit_code;
    st.reason = st.state == "running" ? "" : s.reason;
    st.log = s.log;
    if (auto it = latest.find(s.name); it != latest.end()) {
      st.job = it->second.submitted;
      if (st.log.empty()) st.log = it->second.log_path;
    }
    out.steps.push_back(std::move(st));
  }
  return out;
}

json to_json(const RunStatus& s) {
  json steps = json::array();
  for (const auto& st : s.steps) {
    json j = {{"step", st.step}, {"state", st.state}, {"attempts", st.attempts}};
    auto put = [&](const char* key, const std::string& v) {
      if (!v.empty()) j[key] = v;
    };
    put("executor", st.executor);
    put("cluster", st.cluster);
    put("where", st.where);
    put("started", st.started);
    if (st.duration_sec) j["durationSec"] = *st.duration_sec;
    if (st.exit_code) j["exitCode"] = *st.exit_code;
    put("reason", st.reason);
    put("log", st.log);
    put("live", st.live);
    steps.push_back(std::move(j));
  }
  json out = {{"run", s.run},         {"workflow", s.workflow},       {"user", s.user}, {"state", s.state},
              {"started", s.started}, {"stepsTotal", s.steps_total}, {"steps", steps}};
  if (s.duration_sec) out["durationSec"] = *s.duration_sec;
  if (!s.note.empty()) out["note"] = s.note;
  return out;
}

std::string render_status(const RunStatus& s, bool color) {
  auto paint = [color](const std::string& state, const std::string& text) {
    if (!color) return text;
    if (state == "succeeded" || state == "reused") return "\033[32m" + text + "\033[0m";
    if (state == "running" || state == "in-flight" || state == "detached") return "\033[36m" + text + "\033[0m";
    if (state == "skipped") return "\033[2m" + text + "\033[0m";
    return "\033[31m" + text + "\033[0m";
  };
  std::map<std::string, int> counts;
  for (const auto& st : s.steps) ++counts[st.state];
  const int pending = std::max(0, s.steps_total - static_cast<int>(s.steps.size()));
  std::string out = fmt::format("run {} of {}: {} · started {}", s.run, s.workflow, paint(s.state, s.state), s.started);
  if (s.duration_sec) out += fmt::format(" · took {:.1f}s", *s.duration_sec);
  if (!s.user.empty()) out += " · by " + s.user;
  out += "\n";
  out += fmt::format("{:<20} {:<10} {:>7}  {:<8} {:<28} {}\n", "STEP", "STATE", "ATTEMPT", "EXECUTOR", "WHERE", "DETAIL");
  for (const auto& st : s.steps) {
    std::string where = st.where.empty() ? "-" : st.where;
    if (!st.cluster.empty()) where = st.cluster + ":" + where;
    std::string detail = st.reason;
    if (st.state == "running" || st.state == "in-flight") detail = "since " + st.started;
    if (!st.live.empty()) detail = st.live + "; " + detail;
    // Pad before painting: escape codes have no width.
    out += fmt::format("{:<20} {} {:>7}  {:<8} {:<28} {}\n", st.step, paint(st.state, fmt::format("{:<10}", st.state)),
                       st.attempts, st.executor.empty() ? "-" : st.executor, where, detail);
  }
  std::string summary;
  for (const auto& [state, n] : counts) summary += fmt::format("{}{} {}", summary.empty() ? "" : ", ", n, state);
  if (pending > 0) summary += fmt::format("{}{} not started", summary.empty() ? "" : ", ", pending);
  out += fmt::format("steps: {}\n", summary.empty() ? "none yet" : summary);
  if (s.state == "interrupted") {
    out += "no krdc is writing this run and it has no footer: krdc was stopped; `krdc attach` finishes it\n";
  }
  if (!s.note.empty()) out += s.note + "\n";
  return out;
}

}  // namespace krdc::report
