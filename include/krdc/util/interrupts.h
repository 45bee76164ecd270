#pragma once
// The process's one answer to SIGINT/SIGTERM (docs/architecture.md, "Signals"). main() blocks
// the signals before any thread starts, creates one Interrupts and one SignalWatcher feeding
// it, and passes the Interrupts down (GlobalOptions): no global state.
//
//   first signal   cancel() is cancelled, and abort() with it unless the command spared its
//                  blocking calls (spare_blocking_calls); then the command's `first` handler runs
//   second signal  the command's `emergency` handler (normally ends the process: _exit), else
//                  _exit(130) at once
//
// Everything that waits honours one of the two tokens: HTTP clients (their `cancelled`
// predicate), device-flow polls, credential plugins and inspected programs (ChildProcess::wait
// wakes on the token's fd) take abort(); a runner takes cancel() and stops its steps.
#include <functional>
#include <mutex>

#include "krdc/util/cancel.h"

namespace krdc::util {

class Interrupts {
 public:
  struct Handlers {
    std::function<void(int signo)> first;  // after the tokens are cancelled; keep it short
    // Second and later signals. Normally lists what may be left and calls _exit(130); a command
    // whose cleanup must finish whatever happens (krdc proxy) returns, and krdc goes on.
    std::function<void()> emergency;
  };

  // Handlers stay installed while this lives: declare it after everything they use.
  class [[nodiscard]] Installed {
   public:
    explicit Installed(Interrupts& owner) : owner_(&owner) {}
    ~Installed();
    Installed(const Installed&) = delete;
    Installed& operator=(const Installed&) = delete;

   private:
    Interrupts* owner_;
  };

  Interrupts() = default;
  Interrupts(const Interrupts&) = delete;
  Interrupts& operator=(const Interrupts&) = delete;

  // Cancelled by the first signal: what a runner (or `krdc proxy`) stops its work on.
  const CancelToken& cancel() const { return cancel_; }
  // Cancelled by the first signal until spare_blocking_calls(): what blocking calls give up on
  // (HTTP retries and transfers, device-flow polls, credential plugins, inspected programs).
  const CancelToken& abort() const { return abort_; }
  // `abort()` as an HTTP client's `cancelled` predicate (http::ClientOptions::cancelled).
  std::function<bool()> abort_predicate() const;

  // From now on a signal cancels cancel() only. A runner calls for this: it stops a cancelled
  // step through the very clients that preparation used (deleting a Job is an HTTP call; a
  // token refresh may come first), and that cleanup must not be aborted. Thread-safe with
  // respect to a signal arriving at the same moment.
  void spare_blocking_calls();

  // One set of handlers at a time (a command's); replaces none silently: throws if taken.
  Installed install(Handlers handlers);

  // What the watcher calls, in its own thread, for the `count`th SIGINT/SIGTERM (count ≥ 1).
  // Tests call it directly.
  void on_signal(int signo, int count);

 private:
  std::mutex mu_;  // guards handlers_, spared_; held while a handler runs
  Handlers handlers_;
  bool installed_ = false;
  bool spared_ = false;
  CancelToken cancel_;
  CancelToken abort_;
};

}  // namespace krdc::util
