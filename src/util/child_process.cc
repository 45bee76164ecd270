#include "krdc/util/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "krdc/util/errors.h"

namespace krdc::util {

namespace {

// RAII wrappers for the posix_spawn attribute objects.
struct SpawnFileActions {
  posix_spawn_file_actions_t fa;
  SpawnFileActions() { posix_spawn_file_actions_init(&fa); }
  ~SpawnFileActions() { posix_spawn_file_actions_destroy(&fa); }
};
struct SpawnAttr {
  posix_spawnattr_t attr;
  SpawnAttr() { posix_spawnattr_init(&attr); }
  ~SpawnAttr() { posix_spawnattr_destroy(&attr); }
};

// Owns a file descriptor until released.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
  int release() { return std::exchange(fd, -1); }
};

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

ChildProcess::ChildProcess(const SpawnSpec& spec) {
  // The capture pipe: the write end becomes the child's stdout and is closed here when the
  // constructor ends, so the read end sees EOF once the child (and what it started) closes it.
  Fd read_end, write_end;
  if (spec.capture_stdout) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      throw Error(ExitCode::kInvalid, fmt::format("cannot start {}: pipe: {}", spec.argv[0], std::strerror(errno)));
    }
    read_end.fd = fds[0];
    write_end.fd = fds[1];
  }
  SpawnFileActions actions;
  posix_spawn_file_actions_addopen(&actions.fa, 0, "/dev/null", O_RDONLY, 0);
  if (spec.capture_stdout) {
    posix_spawn_file_actions_adddup2(&actions.fa, write_end.fd, 1);
    if (!spec.output_file.empty()) {
      posix_spawn_file_actions_addopen(&actions.fa, 2, spec.output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    }
  } else {
    posix_spawn_file_actions_addopen(&actions.fa, 1, spec.output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&actions.fa, 1, 2);
  }
  // Nothing else of krdc's reaches the app, even an fd another thread opened without
  // O_CLOEXEC a moment ago (libraries do): the app sees stdin, stdout, stderr only.
  posix_spawn_file_actions_addclosefrom_np(&actions.fa, 3);
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions.fa, spec.cwd.c_str());

  SpawnAttr attr;
  // Own process group: the terminal's Ctrl-C reaches krdc only, which then stops the
  // group in order (SIGTERM, grace, SIGKILL). Signals krdc blocks must not stay blocked.
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGUSR1);
  sigaddset(&defaults, SIGXFSZ);  // krdc ignores it (cli/main.cc); apps get the usual default
  posix_spawnattr_setsigmask(&attr.attr, &empty);
  posix_spawnattr_setsigdefault(&attr.attr, &defaults);
  posix_spawnattr_setpgroup(&attr.attr, 0);
  posix_spawnattr_setflags(&attr.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                           POSIX_SPAWN_USEVFORK);

  auto argv = c_strings(spec.argv);
  auto envp = c_strings(spec.env);
  // posix_spawnp searches PATH; a relative program such as ./run.sh resolves in cwd.
  const int rc = posix_spawnp(&pid_, argv[0], &actions.fa, &attr.attr, argv.data(), envp.data());
  if (rc != 0) {
    pid_ = -1;
    throw Error(ExitCode::kInvalid, fmt::format("cannot start {}: {}", spec.argv[0], std::strerror(rc)),
                "check the app's command and that the program is installed");
  }
  pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  stdout_fd_ = read_end.release();
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !reaped_) {
    signal_group(SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (pidfd_ >= 0) close(pidfd_);
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

bool ChildProcess::try_reap() {
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r != pid_) return false;
  reaped_ = true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

bool ChildProcess::wait(int timeout_ms, int wake_fd) {
  if (reaped_ || try_reap()) return true;
  if (pidfd_ < 0) {
    // No pidfd (very old kernel): fall back to short sleeps, bounded by the timeout.
    const int step = 10;
    for (int waited = 0; timeout_ms < 0 || waited < timeout_ms; waited += step) {
      if (try_reap()) return true;
      pollfd p{wake_fd, POLLIN, 0};
      if (wake_fd >= 0 && poll(&p, 1, step) > 0) return try_reap();
      if (wake_fd < 0) usleep(step * 1000);
    }
    return try_reap();
  }
  pollfd fds[2] = {{pidfd_, POLLIN, 0}, {wake_fd, POLLIN, 0}};
  int rc;
  do {
    rc = poll(fds, wake_fd >= 0 ? 2 : 1, timeout_ms);
  } while (rc < 0 && errno == EINTR);
  return try_reap();
}

bool ChildProcess::read_stdout(std::string& out, std::size_t max_bytes, int timeout_ms, int wake_fd) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(std::max(timeout_ms, 0));
  auto left_ms = [&]() -> int {
    if (timeout_ms < 0) return -1;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
  };
  char buf[4096];
  while (stdout_fd_ >= 0) {
    const int left = left_ms();
    if (left == 0) return false;
    pollfd fds[2] = {{stdout_fd_, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    const int rc = poll(fds, wake_fd >= 0 ? 2 : 1, left);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return false;
    if (wake_fd >= 0 && (fds[1].revents & POLLIN)) return false;
    const ssize_t n = read(stdout_fd_, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {  // EOF (or a read error, which ends the output just the same)
      close(stdout_fd_);
      stdout_fd_ = -1;
      break;
    }
    if (out.size() < max_bytes) out.append(buf, std::min(static_cast<std::size_t>(n), max_bytes - out.size()));
  }
  return wait(left_ms(), wake_fd);
}

void ChildProcess::signal_group(int sig) const {
  if (pid_ > 0 && !reaped_) kill(-pid_, sig);
}

}  // namespace krdc::util
