#pragma once
// Reading result files back: for `--resume` and `krdc attach` (which steps already succeeded
// with the same inputs, which attempts were still in flight) and `krdc report`. Whatever the
// file holds, reading it never fails past opening it: a torn line (a crash mid-write) or a
// record of unexpected shape (valid JSON, wrong types: written by hand or another tool) is
// skipped and counted, so one odd line never hides the runs around it.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace krdc::runner {

struct ResultFile {
  std::vector<nlohmann::json> records;  // only well-formed records (see well_formed_record)
  size_t invalid_lines = 0;             // not a JSON object
  size_t odd_records = 0;               // a JSON object, but not shaped like a krdc record
  // The latest run header (type run, event start), if any.
  const nlohmann::json* last_header() const;
};

ResultFile read_result_file(const std::string& path);
// The same reading, of text already in memory (tests/fuzz).
ResultFile parse_result_text(const std::string& text);

// True when `record` has a string type/event/run (and step, for step records) and every field
// krdc reads has the type krdc writes; unknown fields are allowed (newer krdc versions).
bool well_formed_record(const nlohmann::json& record);

// --resume and attach: throws InvalidInput unless `file` holds a run of workflow `name`.
// Workflows are matched by name, not by their content digest: fixing a step and resuming is
// the point of --resume, and each step's own inputs digest decides what is reused.
void require_runs_of(const ResultFile& file, const std::string& path, const std::string& name);

// An attempt a previous krdc started and did not see end (killed, or --detach): where it runs
// is named by (job_run, attempt), whatever run recorded it (an adopting run records the
// original names, so a second crash still finds them).
struct InFlight {
  std::string record_run;  // the run whose records these are
  std::string job_run;     // the run id the attempt's Job or process was named after
  int attempt = 1;
  std::string executor;
  std::string inputs_digest;
  nlohmann::json submitted = nlohmann::json::object();  // its `submitted` details, if recorded
};

// step name → (inputs digest → outputs) of steps that succeeded, latest record wins; and each
// step's attempt left in flight, if any.
class ResumeIndex {
 public:
  ResumeIndex() = default;
  explicit ResumeIndex(const ResultFile& file);
  // The outputs of a previous success of `step` with exactly these inputs, if any.
  const nlohmann::json* find(const std::string& step, const std::string& inputs_digest) const;
  const InFlight* in_flight(const std::string& step) const;
  size_t size() const { return entries_.size(); }
  size_t in_flight_count() const { return in_flight_.size(); }

 private:
  std::map<std::pair<std::string, std::string>, nlohmann::json> entries_;
  std::map<std::string, InFlight> in_flight_;
};

}  // namespace krdc::runner
