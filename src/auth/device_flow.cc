#include "krdc/auth/device_flow.h"

#include <fmt/format.h>

#include <thread>

#include "krdc/http/client.h"

namespace krdc::auth {

namespace {
void default_sleep(std::chrono::seconds d, const std::function<bool()>& cancelled) {
  auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    if (cancelled && cancelled()) throw http::CancelledError("login cancelled");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}
}  // namespace

TokenSet run_device_flow(Hub& hub, const DeviceFlowOptions& options) {
  DeviceAuthorization device = hub.start_device_authorization(options.scope);
  if (options.on_prompt) options.on_prompt(device);
  // Our own deadline is a backstop for a hub that never says expired_token; the grace lets the
  // hub's own answer (the authoritative one) arrive first.
  const auto deadline = std::chrono::steady_clock::now() + device.expires_in + std::chrono::seconds(10);
  auto interval = std::max(device.interval, std::chrono::seconds(1));
  const auto minutes = std::max<long long>(1, device.expires_in.count() / 60);
  for (;;) {
    if (options.sleep) {
      options.sleep(interval);
    } else {
      default_sleep(interval, options.cancelled);
    }
    if (options.cancelled && options.cancelled()) throw http::CancelledError("login cancelled");
    try {
      return hub.poll_device_token(device);
    } catch (const OAuthError& e) {
      if (e.error() == "authorization_pending") {
        // keep polling, but never past the code's lifetime even if the hub forgets to say expired_token
      } else if (e.error() == "slow_down") {
        interval += std::chrono::seconds(5);
      } else if (e.error() == "expired_token") {
        throw AuthError(kDeviceExpiredMessage,
                        fmt::format("run krdc login again and approve the code within {} minutes", minutes));
      } else if (e.error() == "access_denied") {
        throw AuthError(kDeviceDeniedMessage, "run krdc login again and choose to allow access (or ask your hub admin)");
      } else {
        throw;
      }
    }
    if (!options.sleep && std::chrono::steady_clock::now() > deadline) {
      throw AuthError(kDeviceExpiredMessage,
                      fmt::format("run krdc login again and approve the code within {} minutes", minutes));
    }
  }
}

}  // namespace krdc::auth
