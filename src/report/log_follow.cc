#include "krdc/report/log_follow.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <filesystem>

namespace krdc::report {

namespace {

// One file descriptor, closed with its owner.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Copies everything from the current offset to the end of `fd` to `out`.
void drain(int fd, std::ostream& out) {
  std::array<char, 65536> buf{};
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n > 0) {
      out.write(buf.data(), n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  out.flush();
}

// Waits until something changes in what `watch` watches, `cancel` fires, or a second passes.
void wait_for_change(int watch, const util::CancelToken* cancel) {
  std::array<pollfd, 2> fds{};
  fds[0] = {watch, POLLIN, 0};
  fds[1] = {cancel ? cancel->fd() : -1, POLLIN, 0};
  if (::poll(fds.data(), fds.size(), 1000) > 0 && (fds[0].revents & POLLIN)) {
    std::array<char, 4096> events{};
    while (::read(watch, events.data(), events.size()) > 0) {
    }
  }
}

}  // namespace

bool writer_active(const std::string& results_path) {
  Fd fd(::open(results_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return false;
  return ::flock(fd.get(), LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
}

void follow_log(const FollowTargets& targets, std::ostream& out, const util::CancelToken* cancel) {
  Fd watch(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  // The directory, not the file: the log may not exist yet, and a watch on it sees creation.
  const std::string dir = std::filesystem::path(targets.log_path).parent_path().string();
  if (watch.get() >= 0) {
    ::inotify_add_watch(watch.get(), dir.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO);
    ::inotify_add_watch(watch.get(), targets.results_path.c_str(), IN_MODIFY);
  }
  Fd log;
  for (;;) {
    if (log.get() < 0) log = Fd(::open(targets.log_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (log.get() >= 0) drain(log.get(), out);
    // Checked after reading: what was written before the closing record is all shown below.
    if (targets.over()) {
      if (log.get() < 0) log = Fd(::open(targets.log_path.c_str(), O_RDONLY | O_CLOEXEC));
      if (log.get() >= 0) drain(log.get(), out);
      return;
    }
    if (cancel && cancel->cancelled()) return;
    if (watch.get() >= 0) {
      wait_for_change(watch.get(), cancel);
    } else {
      const util::CancelToken never;  // no inotify here (limits reached): look again each second
      (cancel ? cancel : &never)->sleep_for(1000);
    }
  }
}

}  // namespace krdc::report
