#include "krdc/util/worker_pool.h"

#include <algorithm>

namespace krdc {

WorkerPool::WorkerPool(std::size_t max_threads) : max_threads_(std::max<std::size_t>(1, max_threads)) {}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::submit(std::function<void()> task) {
  std::lock_guard lock(mu_);
  tasks_.push_back(std::move(task));
  // Free threads (awake or not) take queued tasks one each; only a shortfall makes a thread.
  const std::size_t free_threads = threads_.size() - busy_;
  if (free_threads < tasks_.size() && threads_.size() < max_threads_) {
    threads_.emplace_back([this] { work(); });
  } else {
    cv_.notify_one();
  }
}

std::size_t WorkerPool::threads() const {
  std::lock_guard lock(mu_);
  return threads_.size();
}

std::size_t WorkerPool::busy_threads() const {
  std::lock_guard lock(mu_);
  return busy_;
}

void WorkerPool::work() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return quit_ || !tasks_.empty(); });
    if (tasks_.empty()) return;  // quitting, and nothing left to run
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    ++busy_;
    lock.unlock();
    task();
    task = nullptr;  // whatever it captured goes now, not at the next wake-up
    lock.lock();
    --busy_;
  }
}

}  // namespace krdc
