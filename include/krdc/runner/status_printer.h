#pragma once
// What people (and CI logs) see while a run goes on. On a TTY: one line per finished step
// plus a live status line (done/running/failed, elapsed) redrawn in place. Elsewhere, or
// with NO_COLOR / --no-color: plain timestamped lines, one per event, nothing redrawn.
// Thread-safe: worker threads report through the runner concurrently.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

namespace krdc::runner {

struct StatusCounts {
  size_t total = 0, succeeded = 0, failed = 0, skipped = 0, cancelled = 0, detached = 0;
};

class StatusPrinter {
 public:
  // `live`: redraw a status line (only sensible on a TTY); `color`: ANSI colors.
  StatusPrinter(std::FILE* out, bool live, bool color, size_t total_steps);
  ~StatusPrinter();
  StatusPrinter(const StatusPrinter&) = delete;
  StatusPrinter& operator=(const StatusPrinter&) = delete;

  void run_started(const std::string& workflow, const std::string& run_id, const std::string& results);
  void step_started(const std::string& step, int attempt, const std::string& executor);
  void step_submitted(const std::string& step, const std::string& what);
  void step_retrying(const std::string& step, int next_attempt, const std::string& reason, long long delay_ms);
  // `excerpt`: a few lines of the log to show under a failed step (indented), may be empty.
  void step_finished(const std::string& step, const std::string& status, double seconds, const std::string& detail,
                     const std::string& excerpt = {});
  void run_finished(const std::string& status, double seconds);
  // A scattered step became `instances` units (docs/architecture.md, "Scatter, gather and
  // conditions"): the total counts each instance instead of the step.
  void step_expanded(size_t instances);
  // Steps a stopping run will not start: counted as skipped, said in one line by the caller.
  void steps_skipped(size_t count);
  void message(const std::string& text);
  // --follow: a chunk of a step's log. Printed as whole lines prefixed "[step] ", above the live
  // status line (never through it); a partial line waits for its end or flush_log().
  void step_log(const std::string& step, std::string_view chunk);
  // The rest of a step's log that did not end with a newline.
  void flush_log(const std::string& step);

 private:
  void line(const std::string& text, const char* color_code);
  void redraw_locked();
  void flush_log_locked(const std::string& step);
  void ticker();

  std::FILE* out_;
  bool live_;
  bool color_;
  StatusCounts counts_;
  std::set<std::string> running_;
  std::map<std::string, std::string> partial_logs_;  // per step: log text after its last newline
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread tick_thread_;
};

}  // namespace krdc::runner
