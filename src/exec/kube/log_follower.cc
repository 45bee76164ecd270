#include "krdc/exec/kube/log_follower.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <thread>

namespace krdc::exec::kube {

LogFollower::LogFollower(krdc::kube::ApiClient& api, WorkerPool& threads, std::string ns, std::string pod,
                         std::string container, std::string file, Sink sink, bool follow)
    : api_(api),
      path_(fmt::format("/api/v1/namespaces/{}/pods/{}/log?container={}{}", ns, pod, container,
                        follow ? "&follow=true" : "")),
      file_(std::move(file)),
      sink_(std::move(sink)) {
  threads.submit([this] { run(); });
}

LogFollower::~LogFollower() { stop_and_wait(); }

void LogFollower::stop_and_wait() {
  stop_ = true;
  api_.wake_streams();
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return done_.load(); });
}

bool LogFollower::finish(long long ms) {
  {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return done_.load(); });
  }
  const bool ended = done_.load();
  stop_and_wait();
  return ended;
}

std::string LogFollower::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

void LogFollower::run() {
  const int fd = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  size_t have = 0;  // bytes in the file; a reconnect skips this many
  // Bounded: a handful of reconnects, each after the stream broke; a normal end stops at once.
  for (int attempt = 0; attempt < 8 && !stop_; ++attempt) {
    size_t seen = 0;
    try {
      api_.stream(
          path_,
          [&](std::string_view chunk) {
            if (seen + chunk.size() > have) {
              const size_t skip = have > seen ? have - seen : 0;
              std::string_view fresh = chunk.substr(skip);
              if (fd >= 0) {
                [[maybe_unused]] auto n = ::write(fd, fresh.data(), fresh.size());
              }
              if (sink_) sink_(fresh);
              have += fresh.size();
            }
            seen += chunk.size();
            return true;
          },
          stop_);
      std::lock_guard lock(mu_);
      error_.clear();
      break;
    } catch (const std::exception& e) {
      {
        std::lock_guard lock(mu_);
        error_ = e.what();
      }
      // Back off a little (stop-aware) before reconnecting.
      for (int i = 0; i < 10 * (attempt + 1) && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  if (fd >= 0) ::close(fd);
  // Notified under the lock: the owner may destroy this object as soon as it sees done_, so
  // nothing here may touch it after the unlock.
  std::lock_guard lock(mu_);
  done_ = true;
  cv_.notify_all();
}

}  // namespace krdc::exec::kube
