#pragma once
// The result file: JSON Lines, append-only. Each record is one line written with a single
// write() on an O_APPEND descriptor, so a crash or SIGKILL leaves a valid prefix; records
// that close a step or the run are also fdatasync'ed. Existing content is never truncated:
// a new run appends after earlier runs. Only the runner writes it.
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

namespace krdc::runner {

class ResultWriter {
 public:
  // Opens (creating 0644 if needed) for appending. If the file ends in a torn line (a crash
  // during a previous write), a newline is added first so the new records parse.
  explicit ResultWriter(std::string path);
  ~ResultWriter();
  ResultWriter(const ResultWriter&) = delete;
  ResultWriter& operator=(const ResultWriter&) = delete;

  // Appends one record (adds "time" if absent). `durable` → fdatasync before returning.
  void append(nlohmann::json record, bool durable = false);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::mutex mu_;
};

// RFC 3339 UTC with milliseconds, e.g. 2026-11-25T07:31:05.123Z.
std::string now_rfc3339();

}  // namespace krdc::runner
