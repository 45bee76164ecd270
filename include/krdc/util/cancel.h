#pragma once
// A cancellation flag that blocking code can wait on: cancelled() for checks, fd() to put
// in poll() next to a child's pidfd or a socket, so cancelling wakes every waiter at once.
// In util (not exec) because the HTTP, kube and auth layers below the executors honour it
// too; krdc::exec::CancelToken (exec/cancel.h) is the same type.
#include <atomic>

namespace krdc::util {

class CancelToken {
 public:
  CancelToken();
  ~CancelToken();
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  void cancel();  // idempotent, thread-safe
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  int fd() const { return fd_; }  // becomes readable once cancelled; never read it

  // Sleeps up to `ms` milliseconds; returns false early if cancelled.
  bool sleep_for(long long ms) const;

 private:
  std::atomic<bool> cancelled_{false};
  int fd_ = -1;  // eventfd
};

}  // namespace krdc::util
