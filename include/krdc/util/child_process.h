#pragma once
// RAII for one spawned child in its own process group: the destructor never leaves a
// zombie or a running group behind, whatever path the caller takes out.
#include <string>
#include <vector>

namespace krdc::util {

struct SpawnSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "KEY=VALUE" entries: the child's whole environment
  std::string cwd;
  std::string output_file;       // stdout+stderr appended here; stdin is /dev/null
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
  void signal_group(int sig) const;
  // Exit code for people and records: the status, or 128+signal when killed.
  int exit_code() const { return exit_code_; }
  bool exited() const { return reaped_; }

 private:
  bool try_reap();

  int pid_ = -1;
  int pidfd_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
};

}  // namespace krdc::util
