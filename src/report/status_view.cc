#include "krdc/report/status_view.h"

#include <fmt/format.h>

#include <map>

namespace krdc::report {

namespace {

using nlohmann::json;

std::string where_it_runs(const AttemptDetail& a) {
  const json& d = a.submitted;
  if (!d.is_object()) return "";
  if (d.contains("job") && d["job"].is_string()) {
    const std::string ns = d.contains("namespace") && d["namespace"].is_string() ? d["namespace"].get<std::string>() : "";
    return ns.empty() ? d["job"].get<std::string>() : ns + "/" + d["job"].get<std::string>();
  }
  if (d.contains("pid") && d["pid"].is_number_integer()) return fmt::format("pid {}", d["pid"].get<long long>());
  return "";
}

// A step's state from its records: its end status, else its open attempt's fate.
std::string state_of(const StepAttempts& s, bool detached, bool writer_active, bool reused) {
  if (reused) return "reused";
  if (!s.status.empty()) return s.status;
  if (detached) return "detached";
  if (s.attempts.empty()) return "pending";
  if (writer_active) return "running";
  return s.attempts.back().executor == "process" ? "lost" : "in-flight";
}

std::string run_state(const json& footer, bool writer_active) {
  if (!footer.is_null()) return footer.value("status", "");
  return writer_active ? "running" : "interrupted";
}

}  // namespace

RunStatus read_run_status(const runner::ResultFile& file, const std::string& results_path, const std::string& run,
                     bool writer_active) {
  RunStatus out;
  out.run = run.empty() ? latest_run(file, results_path) : run;
  json footer;
  std::map<std::string, bool> detached, reused;
  for (const auto& r : file.records) {
    if (r.value("run", "") != out.run) continue;
    const std::string type = r.value("type", ""), event = r.value("event", "");
    if (type == "run" && event == "start") {
      out.workflow = r.value("workflow", "");
      out.user = r.value("user", "");
      out.started = r.value("time", "");
      out.steps_total = r.value("steps", 0);
    } else if (type == "run" && event == "end") {
      footer = r;
      out.ended = r.value("time", "");
    } else if (type == "step" && event == "detached") {
      detached[r.value("step", "")] = true;
    } else if (type == "step" && event == "end" && r.value("resumed", false)) {
      reused[r.value("step", "")] = true;
    }
  }
  // A footer ends the run whatever the lock says (a later krdc may hold the file).
  out.writer_active = writer_active && footer.is_null();
  out.state = run_state(footer, out.writer_active);
  for (const auto& s : run_attempts(file, results_path, out.run)) {
    StepStatus st;
    st.step = s.step;
    st.state = state_of(s, detached[s.step], out.writer_active, reused[s.step]);
    st.attempts = static_cast<int>(s.attempts.size());
    if (!s.attempts.empty()) {
      const AttemptDetail& a = s.attempts.back();
      st.executor = a.executor;
      st.cluster = a.cluster;
      st.where = where_it_runs(a);
      st.started = s.attempts.front().start_time;
      st.ended = a.end_time;
      st.reason = a.reason;
      st.log = a.log_path;
      st.job = a.submitted;
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
    put("ended", st.ended);
    put("reason", st.reason);
    put("log", st.log);
    put("live", st.live);
    steps.push_back(std::move(j));
  }
  json out = {{"run", s.run},     {"workflow", s.workflow}, {"user", s.user},   {"state", s.state},
              {"started", s.started}, {"stepsTotal", s.steps_total}, {"steps", steps}};
  if (!s.ended.empty()) out["ended"] = s.ended;
  if (!s.note.empty()) out["note"] = s.note;
  return out;
}

std::string render_status(const RunStatus& s, bool color) {
  auto paint = [color](const std::string& state, const std::string& text) {
    if (!color) return text;
    if (state == "succeeded" || state == "reused") return "\033[32m" + text + "\033[0m";
    if (state == "running" || state == "in-flight" || state == "detached") return "\033[36m" + text + "\033[0m";
    if (state == "skipped" || state == "pending") return "\033[2m" + text + "\033[0m";
    return "\033[31m" + text + "\033[0m";
  };
  std::map<std::string, int> counts;
  for (const auto& st : s.steps) ++counts[st.state];
  const int pending = std::max(0, s.steps_total - static_cast<int>(s.steps.size()));
  std::string out = fmt::format("run {} of {}: {}", s.run, s.workflow, paint(s.state, s.state));
  out += fmt::format(" · started {}{}", s.started, s.ended.empty() ? "" : " · ended " + s.ended);
  if (!s.user.empty()) out += " · by " + s.user;
  out += "\n";
  out += fmt::format("{:<20} {:<10} {:>7}  {:<8} {:<28} {}\n", "STEP", "STATE", "ATTEMPT", "EXECUTOR", "WHERE", "DETAIL");
  for (const auto& st : s.steps) {
    std::string where = st.where.empty() ? "-" : st.where;
    if (!st.cluster.empty()) where = st.cluster + ":" + where;
    std::string detail = st.reason;
    if (!st.live.empty()) detail = st.live + (detail.empty() ? "" : "; " + detail);
    if (st.state == "running" || st.state == "in-flight") detail = detail.empty() ? "since " + st.started : detail;
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
