#include "krdc/util/signals.h"

#include <pthread.h>
#include <signal.h>

namespace krdc::util {

namespace {
sigset_t watched_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  return set;
}
}  // namespace

void block_termination_signals() {
  sigset_t set = watched_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

SignalWatcher::SignalWatcher(std::function<void(int, int)> on_signal) {
  thread_ = std::thread([on_signal = std::move(on_signal)] {
    sigset_t set = watched_set();
    int count = 0;
    for (;;) {
      int signo = 0;
      if (sigwait(&set, &signo) != 0) continue;
      if (signo == SIGUSR1) return;  // the destructor asks us to stop
      on_signal(signo, ++count);
    }
  });
}

SignalWatcher::~SignalWatcher() {
  pthread_kill(thread_.native_handle(), SIGUSR1);
  thread_.join();
}

}  // namespace krdc::util
