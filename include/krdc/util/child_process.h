#pragma once
// RAII for one spawned child in its own process group: the destructor never leaves a
// zombie or a running group behind, whatever path the caller takes out.
#include <cstddef>
#include <string>
#include <vector>

namespace krdc::util {

struct SpawnSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "KEY=VALUE" entries: the child's whole environment
  std::string cwd;
  std::string output_file;       // stdout+stderr appended here; stdin is /dev/null
  // Instead: stdout into a pipe that read_stdout() collects, in memory only (a credential
  // plugin's token must never reach a file or a log); stderr is output_file when given, else
  // krdc's own stderr (where a plugin explains itself).
  bool capture_stdout = false;
};

class ChildProcess {
 public:
  // Throws krdc::Error (with errno text) when the program cannot be started.
  explicit ChildProcess(const SpawnSpec& spec);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const { return pid_; }
  int pidfd() const { return pidfd_; }  // readable when the child has exited

  // Waits for exit, at most `timeout_ms` (-1: forever) or until `wake_fd` is readable.
  // Returns true once the child has been reaped.
  bool wait(int timeout_ms, int wake_fd = -1);
  // With capture_stdout: reads stdout until the child closes it, then waits for its exit, all
  // within `timeout_ms` (-1: no limit) and until `wake_fd` is readable. Keeps at most
  // `max_bytes` (the rest is read and dropped, so the child never blocks on a full pipe).
  // Returns true once the child has been reaped; false on timeout or wake (the destructor
  // then kills the child's group).
  bool read_stdout(std::string& out, std::size_t max_bytes, int timeout_ms, int wake_fd = -1);
  void signal_group(int sig) const;
  // Exit code for people and records: the status, or 128+signal when killed.
  int exit_code() const { return exit_code_; }
  bool exited() const { return reaped_; }

 private:
  bool try_reap();

  int pid_ = -1;
  int pidfd_ = -1;
  int stdout_fd_ = -1;  // read end of the capture pipe
  bool reaped_ = false;
  int exit_code_ = -1;
};

}  // namespace krdc::util
