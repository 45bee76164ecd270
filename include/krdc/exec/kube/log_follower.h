#pragma once
// Copies one container's log (pods/log) into the step's log file, on a thread of the executor's
// pool (a thread per step would be made and torn down per step): streamed
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

#include "krdc/kube/api_client.h"
#include "krdc/util/worker_pool.h"

namespace krdc::exec::kube {

class LogFollower {
 public:
  using Sink = std::function<void(std::string_view chunk)>;  // --follow: to the terminal
  LogFollower(krdc::kube::ApiClient& api, WorkerPool& threads, std::string ns, std::string pod,
              std::string container, std::string file, Sink sink, bool follow = true);
  ~LogFollower();  // stops it and waits until it has
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  // Waits up to `ms` for the stream to end by itself (the container ended); then stops it.
  // Returns true when it ended by itself.
  bool finish(long long ms);
  std::string error() const;  // last error, empty when the log was read completely

 private:
  void run();
  void stop_and_wait();

  krdc::kube::ApiClient& api_;
  std::string path_;
  std::string file_;
  Sink sink_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string error_;
};

}  // namespace krdc::exec::kube
