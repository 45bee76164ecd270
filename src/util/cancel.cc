#include "krdc/util/cancel.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>

namespace krdc::util {

CancelToken::CancelToken() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (fd_ < 0) throw std::runtime_error("eventfd failed");
}

CancelToken::~CancelToken() { close(fd_); }

void CancelToken::cancel() {
  if (cancelled_.exchange(true, std::memory_order_acq_rel)) return;
  const uint64_t one = 1;
  // The counter stays non-zero (nobody reads it), so the fd stays readable for every poller.
  [[maybe_unused]] auto n = write(fd_, &one, sizeof one);
}

bool CancelToken::sleep_for(long long ms) const {
  if (cancelled()) return false;
  pollfd p{fd_, POLLIN, 0};
  int rc;
  do {
    rc = poll(&p, 1, static_cast<int>(ms));
  } while (rc < 0 && errno == EINTR);
  return !cancelled();
}

}  // namespace krdc::util
