#pragma once
// Threads that run submitted tasks, made on demand up to a bound and then reused: a run of many
// short steps starts as many threads as steps run at once (--jobs), not one per step. (Creating
// and tearing down a thread per step was ~3% of a 100-Job run's CPU.)
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace krdc {

class WorkerPool {
 public:
  explicit WorkerPool(std::size_t max_threads);
  // Runs what was submitted to its end, then joins every thread.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Starts `task` on a free thread, or a new one while under the bound; otherwise it waits
  // for a thread to come free. A task must not throw.
  void submit(std::function<void()> task);
  std::size_t threads() const;
  std::size_t busy_threads() const;

 private:
  void work();

  const std::size_t max_threads_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
  std::size_t busy_ = 0;
  bool quit_ = false;
};

}  // namespace krdc
