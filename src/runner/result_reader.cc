#include "krdc/runner/result_reader.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "krdc/util/errors.h"

namespace krdc::runner {

using nlohmann::json;

namespace {

enum class Kind { kString, kInteger, kNumber, kObject, kArray, kBool };

bool has_kind(const json& v, Kind kind) {
  switch (kind) {
    case Kind::kString: return v.is_string();
    case Kind::kInteger: return v.is_number_integer();
    case Kind::kNumber: return v.is_number();
    case Kind::kObject: return v.is_object();
    case Kind::kArray: return v.is_array();
    case Kind::kBool: return v.is_boolean();
  }
  return false;
}

// The fields krdc reads back, with the type it writes them as (runner/runner.cc).
const std::map<std::string, Kind>& field_kinds() {
  static const std::map<std::string, Kind> kinds = {
      {"type", Kind::kString},       {"event", Kind::kString},     {"run", Kind::kString},
      {"step", Kind::kString},       {"status", Kind::kString},    {"reason", Kind::kString},
      {"executor", Kind::kString},   {"cluster", Kind::kString},   {"log", Kind::kString},
      {"logTail", Kind::kString},    {"inputsDigest", Kind::kString}, {"error", Kind::kString},
      {"workflow", Kind::kString},   {"file", Kind::kString},      {"path", Kind::kString},
      {"digest", Kind::kString},     {"time", Kind::kString},      {"attempt", Kind::kInteger},
      {"attempts", Kind::kInteger},  {"exitCode", Kind::kInteger}, {"steps", Kind::kInteger},
      {"jobs", Kind::kInteger},      {"succeeded", Kind::kInteger}, {"failed", Kind::kInteger},
      {"skipped", Kind::kInteger},   {"cancelled", Kind::kInteger}, {"detached", Kind::kInteger},
      {"delayMs", Kind::kInteger},   {"durationSec", Kind::kNumber}, {"outputs", Kind::kObject},
      {"details", Kind::kObject},    {"params", Kind::kObject},    {"adopted", Kind::kObject},
      {"args", Kind::kArray},        {"resumed", Kind::kBool},     {"maybeRunning", Kind::kBool}};
  return kinds;
}

}  // namespace

bool well_formed_record(const json& r) {
  if (!r.is_object()) return false;
  for (const char* required : {"type", "event", "run"}) {
    if (!r.contains(required)) return false;
  }
  if (r["type"] == "step" && !r.contains("step")) return false;
  const auto& kinds = field_kinds();
  for (auto it = r.begin(); it != r.end(); ++it) {
    auto k = kinds.find(it.key());
    if (k != kinds.end() && !has_kind(it.value(), k->second)) return false;
  }
  if (r.contains("adopted")) {
    const json& a = r["adopted"];
    if (!a.contains("run") || !a["run"].is_string() || !a.contains("attempt") || !a["attempt"].is_number_integer()) {
      return false;
    }
  }
  return true;
}

const json* ResultFile::last_header() const {
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    if ((*it)["type"] == "run" && (*it)["event"] == "start") return &*it;
  }
  return nullptr;
}

namespace {
ResultFile read_lines(std::istream& in) {
  ResultFile file;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto record = json::parse(line, nullptr, false);
    if (record.is_discarded() || !record.is_object()) {
      ++file.invalid_lines;
    } else if (!well_formed_record(record)) {
      ++file.odd_records;
    } else {
      file.records.push_back(std::move(record));
    }
  }
  return file;
}
}  // namespace

ResultFile read_result_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InvalidInput(fmt::format("cannot read result file {}: {}", path, std::strerror(errno)));
  return read_lines(in);
}

ResultFile parse_result_text(const std::string& text) {
  std::istringstream in(text);
  return read_lines(in);
}

void require_runs_of(const ResultFile& file, const std::string& path, const std::string& name) {
  const json* header = file.last_header();
  if (!header) {
    throw InvalidInput(fmt::format("{} is not a krdc result file: it holds no run{}", path,
                                   file.invalid_lines ? fmt::format(" ({} lines are not JSON)", file.invalid_lines) : ""),
                       "give --resume the .results.jsonl file an earlier `krdc run` of this workflow wrote");
  }
  const std::string theirs = header->value("workflow", "");
  if (theirs != name) {
    throw InvalidInput(fmt::format("{} holds runs of workflow \"{}\", not \"{}\"", path, theirs, name),
                       "resume from this workflow's own result file, or rename nothing and start afresh without "
                       "--resume");
  }
}

ResumeIndex::ResumeIndex(const ResultFile& file) {
  for (const auto& r : file.records) {
    if (!well_formed_record(r) || r["type"] != "step") continue;  // records built by hand, too
    const std::string step = r["step"], event = r["event"], run = r["run"];
    if (event == "start") {
      InFlight f;
      f.record_run = run;
      f.job_run = run;
      f.attempt = r.value("attempt", 1);
      if (r.contains("adopted")) {
        f.job_run = r["adopted"]["run"];
        f.attempt = r["adopted"]["attempt"];
      }
      f.executor = r.value("executor", "");
      f.inputs_digest = r.value("inputsDigest", "");
      in_flight_[step] = std::move(f);
    } else if (event == "submitted") {
      auto it = in_flight_.find(step);
      if (it != in_flight_.end() && it->second.record_run == run) it->second.submitted = r.value("details", json::object());
    } else if (event == "retry" || event == "end" || event == "lost") {
      // That attempt is over (a retry record closes its attempt; the next has its own start) —
      // unless krdc lost sight of it after it existed (`maybeRunning`): it may still run.
      auto it = in_flight_.find(step);
      if (it != in_flight_.end() && it->second.record_run == run) {
        if (!r.value("maybeRunning", false)) in_flight_.erase(it);
      }
    }
    if (event != "end" || r.value("status", "") != "succeeded") continue;
    const std::string digest = r.value("inputsDigest", "");
    if (digest.empty()) continue;
    entries_[{step, digest}] = r.value("outputs", json::object());
  }
}

const json* ResumeIndex::find(const std::string& step, const std::string& inputs_digest) const {
  auto it = entries_.find({step, inputs_digest});
  return it == entries_.end() ? nullptr : &it->second;
}

const InFlight* ResumeIndex::in_flight(const std::string& step) const {
  auto it = in_flight_.find(step);
  return it == in_flight_.end() ? nullptr : &it->second;
}

}  // namespace krdc::runner
