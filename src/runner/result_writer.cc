#include "krdc/runner/result_writer.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "krdc/util/errors.h"

namespace krdc::runner {

namespace {

void write_all(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(ExitCode::kRunStopped, fmt::format("cannot write result file {}: {}", path, std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace

std::string now_rfc3339() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms));
}

ResultWriter::ResultWriter(std::string path) : path_(std::move(path)) {
  fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    throw InvalidInput(fmt::format("cannot open result file {}: {}", path_, std::strerror(errno)),
                       "choose a writable place with --results FILE");
  }
  // 0600 even for a file an older krdc (or the user's umask) left readable: it holds log tails.
  // Regular files only: --results may name a device (/dev/stdout), which is not ours to change.
  if (struct stat mode_of {}; ::fstat(fd_, &mode_of) == 0 && S_ISREG(mode_of.st_mode)) ::fchmod(fd_, 0600);
  // One krdc per result file: a second one (a --resume or attach while the run still goes)
  // would adopt the same attempts and run steps twice. The lock goes with the process, even
  // on SIGKILL. Files that cannot be locked (e.g. /dev/full, some network filesystems) are
  // written unlocked.
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
    close(fd_);
    throw InvalidInput(fmt::format("result file {} is in use by another krdc", path_),
                       "wait for that run to end (or stop it), then `krdc attach` to follow what it left running");
  }
  struct stat st {};
  if (fstat(fd_, &st) == 0 && st.st_size > 0) {
    const int rfd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    char last = '\n';
    if (rfd >= 0) {
      if (pread(rfd, &last, 1, st.st_size - 1) != 1) last = '\n';
      close(rfd);
    }
    if (last != '\n') write_all(fd_, "\n", path_);
  }
  flush_thread_ = std::thread([this] { flusher(); });
}

ResultWriter::~ResultWriter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  flush_thread_.join();
  fdatasync(fd_);
  close(fd_);
}

void ResultWriter::flusher() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait(lock, [this] { return dirty_ || stop_; });
    if (stop_) return;
    // Let more records arrive, then one sync covers them all.
    cv_.wait_for(lock, kSyncWindow, [this] { return stop_; });
    dirty_ = false;
    lock.unlock();
    fdatasync(fd_);
    lock.lock();
  }
}

void ResultWriter::append(nlohmann::json record, Sync sync) {
  if (!record.contains("time")) record["time"] = now_rfc3339();
  // replace: app output may hold invalid UTF-8; a record must never fail to serialise.
  std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line += '\n';
  std::unique_lock lock(mu_);
  // A write that fails half way (disk full, a file size limit) must not leave half a record
  // for every later reader to trip over: cut the file back to where the record began. Only
  // this writer appends (the file is locked), so the end before the write is the record's start.
  const off_t before = ::lseek(fd_, 0, SEEK_END);
  try {
    write_all(fd_, line, path_);
  } catch (...) {
    if (before >= 0 && ::ftruncate(fd_, before) != 0) {
      // Nothing more to do: the reader fences a torn line off.
    }
    throw;
  }
  if (sync == Sync::kNow) {
    lock.unlock();
    fdatasync(fd_);
  } else if (sync == Sync::kSoon && !dirty_) {
    dirty_ = true;
    cv_.notify_all();
  }
}

}  // namespace krdc::runner
