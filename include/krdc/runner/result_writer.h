#pragma once
// The result file: JSON Lines, append-only. Each record is one line written with a single
// write() on an O_APPEND descriptor, so a crash or SIGKILL of krdc leaves a valid prefix
// (the kernel has every record once write() returns). Against power loss, records that close
// a step are fdatasync'ed by a background group commit (at most kSyncWindow later, one sync
// for many records: a sync costs ~1 ms, more than a whole step's overhead budget) and the
// run footer synchronously. Existing content is never truncated: a new run appends after
// earlier runs. Only the runner writes it.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <nlohmann/json.hpp>
#include <string>

namespace krdc::runner {

class ResultWriter {
 public:
  // Opens (creating 0600 if needed: log tails are private) for appending, and takes an
  // exclusive lock on it for this process's lifetime (InvalidInput if another krdc holds it).
  // If the file ends in a torn line (a crash during a previous write), a newline is added
  // first so the new records parse.
  explicit ResultWriter(std::string path);
  ~ResultWriter();
  ResultWriter(const ResultWriter&) = delete;
  ResultWriter& operator=(const ResultWriter&) = delete;

  enum class Sync { kNone, kSoon, kNow };
  static constexpr std::chrono::milliseconds kSyncWindow{50};

  // Appends one record (adds "time" if absent). kSoon: on disk within kSyncWindow;
  // kNow: on disk before returning.
  void append(nlohmann::json record, Sync sync = Sync::kNone);
  const std::string& path() const { return path_; }

 private:
  void flusher();

  std::string path_;
  int fd_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  bool dirty_ = false;
  bool stop_ = false;
  std::thread flush_thread_;
};

// RFC 3339 UTC with milliseconds, e.g. 2026-11-25T07:31:05.123Z.
std::string now_rfc3339();

}  // namespace krdc::runner
