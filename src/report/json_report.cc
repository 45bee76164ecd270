#include "krdc/report/json_report.h"

namespace krdc::report {

namespace {

using nlohmann::json;

json attempt_json(const Attempt& a) {
  return {{"attempt", a.number}, {"status", a.status}, {"startSec", a.start_sec}, {"endSec", a.end_sec}, {"lane", a.lane}};
}

json step_json(const StepSummary& s) {
  json j = {{"name", s.name}, {"status", s.status}, {"attempts", s.attempts}, {"outputs", s.outputs}};
  auto put = [&j](const char* key, const std::string& value) {
    if (!value.empty()) j[key] = value;
  };
  put("executor", s.executor);
  put("cluster", s.cluster);
  put("job", s.job);
  put("start", s.start);
  put("reason", s.reason);
  put("log", s.log);
  if (s.duration_sec) j["durationSec"] = *s.duration_sec;
  if (s.exit_code) j["exitCode"] = *s.exit_code;
  j["timeline"] = json::array();
  for (const auto& a : s.tries) j["timeline"].push_back(attempt_json(a));
  return j;
}

}  // namespace

nlohmann::json to_json(const RunSummary& run) {
  json j = {{"run", run.run_id},     {"workflow", run.workflow}, {"file", run.workflow_file},
            {"user", run.user},      {"krdc", run.krdc_version}, {"start", run.start},
            {"status", run.status},  {"params", run.params},     {"plannedSteps", run.planned_steps},
            {"lanes", run.lanes},    {"spanSec", run.span_sec}};
  if (run.duration_sec) j["durationSec"] = *run.duration_sec;
  j["steps"] = json::array();
  for (const auto& s : run.steps) j["steps"].push_back(step_json(s));
  if (run.invalid_lines || run.odd_records) {
    j["skippedLines"] = {{"unreadable", run.invalid_lines}, {"unexpectedShape", run.odd_records}};
  }
  return j;
}

}  // namespace krdc::report
