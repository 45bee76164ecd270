#pragma once
// SIGINT/SIGTERM handling without async-signal-unsafe code: the signals are blocked in every
// thread (block_termination_signals() must run before any thread starts) and one watcher
// thread receives them with sigwait() and calls back in normal context.
#include <functional>
#include <thread>

namespace krdc::util {

// Blocks SIGINT, SIGTERM (and SIGUSR1, used to stop the watcher) in the calling thread;
// threads created afterwards inherit the mask. Children get a clean mask at spawn.
void block_termination_signals();

class SignalWatcher {
 public:
  // `on_signal(signo, count)` is called for every SIGINT/SIGTERM; count starts at 1.
  explicit SignalWatcher(std::function<void(int, int)> on_signal);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  std::thread thread_;
};

}  // namespace krdc::util
