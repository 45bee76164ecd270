#include "krdc/runner/status_printer.h"

#include <fmt/format.h>

#include "krdc/runner/result_writer.h"
#include "krdc/util/plural.h"

namespace krdc::runner {

namespace {
constexpr const char* kGreen = "\033[32m";
constexpr const char* kRed = "\033[31m";
constexpr const char* kYellow = "\033[33m";
constexpr const char* kDim = "\033[2m";

// A status as people say it: "timed out", not the result file's "timed_out".
std::string spoken(std::string status) {
  for (auto& c : status) {
    if (c == '_') c = ' ';
  }
  return status;
}

std::string format_elapsed(double seconds) {
  const auto s = static_cast<long long>(seconds);
  if (s < 60) return fmt::format("{:.1f}s", seconds);
  return fmt::format("{}m{:02d}s", s / 60, static_cast<int>(s % 60));
}
}  // namespace

StatusPrinter::StatusPrinter(std::FILE* out, bool live, bool color, size_t total_steps)
    : out_(out), live_(live), color_(color), start_(std::chrono::steady_clock::now()) {
  counts_.total = total_steps;
  if (live_) tick_thread_ = std::thread([this] { ticker(); });
}

StatusPrinter::~StatusPrinter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (tick_thread_.joinable()) tick_thread_.join();
  if (live_) {
    std::fputs("\r\033[K", out_);
    std::fflush(out_);
  }
}

void StatusPrinter::ticker() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(250));
    if (!stop_) redraw_locked();
  }
}

void StatusPrinter::redraw_locked() {
  if (!live_) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string names;
  for (const auto& n : running_) {
    if (names.size() > 40) {
      names += ", …";
      break;
    }
    names += (names.empty() ? "" : ", ") + n;
  }
  const size_t done = counts_.succeeded + counts_.failed + counts_.skipped + counts_.cancelled;
  std::string text = fmt::format("[{}/{}] {} running{}{} · {} failed · {}", done, counts_.total, running_.size(),
                                 names.empty() ? "" : ": ", names, counts_.failed, format_elapsed(elapsed));
  std::fputs("\r\033[K", out_);
  std::fputs(text.c_str(), out_);
  std::fflush(out_);
}

void StatusPrinter::line(const std::string& text, const char* color_code) {
  // Caller holds mu_.
  if (live_) std::fputs("\r\033[K", out_);
  if (live_) {
    if (color_ && color_code) std::fputs(color_code, out_);
    std::fputs(text.c_str(), out_);
    if (color_ && color_code) std::fputs("\033[0m", out_);
  } else {
    std::fputs(fmt::format("{} {}", now_rfc3339(), text).c_str(), out_);
  }
  std::fputc('\n', out_);
  redraw_locked();
  std::fflush(out_);
}

void StatusPrinter::run_started(const std::string& workflow, const std::string& run_id, const std::string& results) {
  std::lock_guard lock(mu_);
  line(fmt::format("run {} of {} · results → {}", run_id, workflow, results), kDim);
}

void StatusPrinter::step_started(const std::string& step, int attempt, const std::string& executor) {
  std::lock_guard lock(mu_);
  running_.insert(step);
  if (!live_) {
    line(attempt > 1 ? fmt::format("step {} started ({}, attempt {})", step, executor, attempt)
                     : fmt::format("step {} started ({})", step, executor),
         nullptr);
  }
}

void StatusPrinter::step_submitted(const std::string& step, const std::string& what) {
  std::lock_guard lock(mu_);
  if (!live_ && !what.empty()) line(fmt::format("step {} submitted: {}", step, what), nullptr);
}

void StatusPrinter::step_retrying(const std::string& step, int next_attempt, const std::string& reason,
                                  long long delay_ms) {
  std::lock_guard lock(mu_);
  running_.erase(step);
  flush_log_locked(step);  // the failed attempt's last partial line is its own, not the next one's
  line(fmt::format("step {} {}; retrying in {:.1f}s (attempt {})", step, reason, static_cast<double>(delay_ms) / 1000.0,
                   next_attempt),
       kYellow);
}

void StatusPrinter::step_finished(const std::string& step, const std::string& status, double seconds,
                                  const std::string& detail, const std::string& excerpt) {
  std::lock_guard lock(mu_);
  running_.erase(step);
  const char* color = nullptr;
  std::string mark;
  if (status == "succeeded") {
    ++counts_.succeeded;
    color = kGreen;
    mark = "✓";
  } else if (status == "skipped") {
    ++counts_.skipped;
    color = kDim;
    mark = "-";
  } else if (status == "detached") {
    // --detach: left running on its cluster for `krdc attach`; not over, not failed.
    ++counts_.detached;
    color = kDim;
    mark = "↗";
  } else if (status == "cancelled") {
    // Stopped on request, not a failure of the step: counted apart (the run footer does too).
    ++counts_.cancelled;
    color = kYellow;
    mark = "⊘";
  } else {
    ++counts_.failed;
    color = kRed;
    mark = "✗";
  }
  flush_log_locked(step);
  std::string text = live_ ? fmt::format("{} {} {} ({})", mark, step, spoken(status), format_elapsed(seconds))
                           : fmt::format("step {} {} ({})", step, spoken(status), format_elapsed(seconds));
  if (!detail.empty()) text += ": " + detail;
  line(text, color);
  size_t start = 0;
  while (start < excerpt.size()) {
    const auto nl = excerpt.find('\n', start);
    const std::string l = excerpt.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    line("    │ " + l, nullptr);
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
}

void StatusPrinter::run_finished(const std::string& status, double seconds) {
  std::lock_guard lock(mu_);
  running_.clear();
  line(fmt::format("run {}: {} succeeded, {} failed, {}{} skipped of {} in {}", spoken(status), counts_.succeeded,
                   counts_.failed,
                   fmt::format("{}{}", counts_.cancelled ? fmt::format("{} cancelled, ", counts_.cancelled) : "",
                               counts_.detached ? fmt::format("{} detached, ", counts_.detached) : ""),
                   counts_.skipped, util::counted(counts_.total, "step"), format_elapsed(seconds)),
       status == "succeeded" ? kGreen : kRed);
  if (live_) std::fputs("\r\033[K", out_);
  live_ = false;  // nothing more to redraw
}

void StatusPrinter::step_expanded(size_t instances) {
  std::lock_guard lock(mu_);
  counts_.total = counts_.total + instances - 1;
  redraw_locked();
}

void StatusPrinter::steps_skipped(size_t count) {
  std::lock_guard lock(mu_);
  counts_.skipped += count;
  redraw_locked();
}

void StatusPrinter::message(const std::string& text) {
  std::lock_guard lock(mu_);
  line(text, kYellow);
}

// Whole lines only, so --follow never tears the status line. A carriage return ends a line too
// (progress bars redraw with it), and a line without an end is printed once it is long, so an
// app that never writes a newline cannot grow this buffer without bound.
void StatusPrinter::step_log(const std::string& step, std::string_view chunk) {
  constexpr size_t kLongestLine = 4096;
  std::lock_guard lock(mu_);
  std::string& pending = partial_logs_[step];
  pending.append(chunk);
  size_t start = 0;
  for (size_t end = pending.find_first_of("\r\n"); end != std::string::npos;
       end = pending.find_first_of("\r\n", start)) {
    const bool after_cr = pending[end] == '\n' && end == start && end > 0 && pending[end - 1] == '\r';  // \r\n
    if (!after_cr) line(fmt::format("[{}] {}", step, std::string_view(pending).substr(start, end - start)), nullptr);
    start = end + 1;
  }
  while (pending.size() - start >= kLongestLine) {
    line(fmt::format("[{}] {}", step, std::string_view(pending).substr(start, kLongestLine)), nullptr);
    start += kLongestLine;
  }
  pending.erase(0, start);
}

void StatusPrinter::flush_log_locked(const std::string& step) {
  const auto it = partial_logs_.find(step);
  if (it == partial_logs_.end()) return;
  if (!it->second.empty()) line(fmt::format("[{}] {}", step, it->second), nullptr);
  partial_logs_.erase(it);
}

}  // namespace krdc::runner
