#pragma once
// --follow for a process step: what the app appended to its log file since the last look.
// The app writes the file itself (stdout and stderr go straight there), so krdc reads behind it.
#include <cstdint>
#include <filesystem>
#include <string>

namespace krdc::exec {

class LogTail {
 public:
  explicit LogTail(std::filesystem::path file) : file_(std::move(file)) {}
  // The bytes added since the previous call (at most `max_bytes`; the rest comes next time).
  std::string read_new(std::size_t max_bytes = 1 << 20);

 private:
  std::filesystem::path file_;
  std::uint64_t offset_ = 0;
};

}  // namespace krdc::exec
