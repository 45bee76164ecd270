#include "krdc/util/interrupts.h"

#include <unistd.h>

#include <stdexcept>

#include "krdc/util/errors.h"

namespace krdc::util {

std::function<bool()> Interrupts::abort_predicate() const {
  return [&token = abort_] { return token.cancelled(); };
}

void Interrupts::spare_blocking_calls() {
  std::lock_guard lock(mu_);
  spared_ = true;
}

Interrupts::Installed Interrupts::install(Handlers handlers) {
  std::lock_guard lock(mu_);
  if (installed_) throw std::logic_error("interrupt handlers are installed already");
  handlers_ = std::move(handlers);
  installed_ = true;
  return Installed(*this);
}

Interrupts::Installed::~Installed() {
  // Waits for a handler that is running now: after this, none runs into destroyed state.
  std::lock_guard lock(owner_->mu_);
  owner_->handlers_ = {};
  owner_->installed_ = false;
}

void Interrupts::on_signal(int signo, int count) {
  std::lock_guard lock(mu_);
  if (count <= 1) {
    cancel_.cancel();
    if (!spared_) abort_.cancel();
    if (handlers_.first) handlers_.first(signo);
    return;
  }
  if (handlers_.emergency) {
    handlers_.emergency();  // ends the process, or returns to let a cleanup go on (krdc proxy)
    return;
  }
  _exit(static_cast<int>(ExitCode::kInterrupted));
}

}  // namespace krdc::util
