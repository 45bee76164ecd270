#pragma once
// Copies one container's log (pods/log) into the step's log file, on its own thread: streamed
// (follow=true) from the moment the Pod runs until the container ends, or read once when the
// container has already ended. If the stream breaks (API server restart), it reconnects and
// skips the bytes it already has: logs are append-only, so the file ends up complete and
// nothing is shown twice.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include "krdc/kube/api_client.h"

namespace krdc::exec::kube {

class LogFollower {
 public:
  using Sink = std::function<void(std::string_view chunk)>;  // --follow: to the terminal
  LogFollower(krdc::kube::ApiClient& api, std::string ns, std::string pod, std::string container,
              std::string file, Sink sink, bool follow = true);
  ~LogFollower();  // stops and joins
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  // Waits up to `ms` for the stream to end by itself (the container ended); then stops it.
  // Returns true when it ended by itself.
  bool finish(long long ms);
  std::string error() const;  // last error, empty when the log was read completely

 private:
  void run();

  krdc::kube::ApiClient& api_;
  std::string path_;
  std::string file_;
  Sink sink_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string error_;
  std::thread thread_;
};

}  // namespace krdc::exec::kube
