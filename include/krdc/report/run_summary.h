#pragma once
// What `krdc report` (and `krdc status`, the RO-Crate export) shows of one run, computed from
// the result file alone: a file copied to another machine still reports. Pure: no I/O, no
// clock; every renderer (report/*_report.h) reads this model, never the records.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "krdc/runner/result_reader.h"

namespace krdc::report {

// One attempt of a step as the timeline draws it: seconds since the run started.
struct Attempt {
  int number = 1;
  std::string status;  // succeeded, failed, timed_out, cancelled, lost (never ended), detached
  double start_sec = 0;
  double end_sec = 0;
  int lane = 0;  // the parallel slot it ran in (see lanes.h)
};

struct StepSummary {
  std::string name;        // opaque: scatter steps are named `step[0]`, `step[1]`, ...
  // succeeded, failed, timed_out, cancelled, skipped, reused (--resume took its earlier
  // outputs), lost (started and never ended: krdc was killed), detached (left running).
  std::string status;
  std::string executor;    // as recorded: process, kube, proxy (empty when it never started)
  std::string cluster;     // empty for process steps
  std::string job;         // Job name, or "pid N" for a process; empty when never submitted
  std::string start;       // RFC 3339 of its first attempt's start; empty when it never started
  int attempts = 0;
  std::optional<double> duration_sec;
  std::optional<int> exit_code;
  nlohmann::json outputs = nlohmann::json::object();
  std::string reason;      // why it failed, was skipped, cancelled or lost
  std::string log;         // the last attempt's log file (on the machine that ran it)
  std::vector<Attempt> tries;
};

struct RunSummary {
  std::string run_id;
  std::string workflow;
  std::string workflow_file;
  std::string user;
  std::string krdc_version;
  std::string start;  // RFC 3339
  // The footer's status (succeeded, failed, cancelled, detached), or "incomplete" when the run
  // has no footer: krdc was killed (or still runs).
  std::string status;
  std::optional<double> duration_sec;  // from the footer
  nlohmann::json params = nlohmann::json::object();
  size_t planned_steps = 0;            // the workflow's step count, from the header
  std::vector<StepSummary> steps;      // in the order they first appear in the file
  int lanes = 0;                       // parallel slots the timeline needs
  double span_sec = 0;                 // run start to its last record
  size_t invalid_lines = 0;            // unreadable lines the reader skipped (whole file)
  size_t odd_records = 0;              // records of unexpected shape it skipped
};

// One run in a result file, for choosing with --run.
struct RunListing {
  std::string run_id;
  std::string workflow;
  std::string start;
  std::string status;  // as in RunSummary
};

// Every run in the file, oldest first.
std::vector<RunListing> list_runs(const runner::ResultFile& file);

// The run `run_id` (empty: the latest). Throws InvalidInput when the file holds no run, or
// none with that id (the message lists the valid ids).
RunSummary summarize_run(const runner::ResultFile& file, const std::string& run_id);

// Seconds since the epoch of an RFC 3339 UTC time as krdc writes it
// (2026-11-25T07:31:05.123Z); nullopt for anything else.
std::optional<double> parse_rfc3339(const std::string& text);

}  // namespace krdc::report
