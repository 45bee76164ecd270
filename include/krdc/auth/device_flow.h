#pragma once
// The OAuth device authorization grant (RFC 8628) as `krdc login` runs it: ask the hub for a
// code, show it, then poll the token endpoint — waiting `interval` between polls, +5 s on every
// slow_down (§3.5), continuing on authorization_pending, and ending with a clear AuthError
// (exit code 3) on expired_token or access_denied.
#include <chrono>
#include <functional>
#include <string>

#include "krdc/auth/hub.h"

namespace krdc::auth {

struct DeviceFlowOptions {
  std::string scope = "openid";
  // Shows the user code and URIs; called once, before polling starts.
  std::function<void(const DeviceAuthorization&)> on_prompt;
  // Waits between polls; tests inject a recorder. Default: sleep, honouring `cancelled`.
  std::function<void(std::chrono::seconds)> sleep;
  std::function<bool()> cancelled;
};

// Documented messages (man page, EXIT STATUS 3):
inline constexpr const char* kDeviceExpiredMessage = "login failed: the code expired before it was approved";
inline constexpr const char* kDeviceDeniedMessage = "login failed: the request was denied at the hub";

TokenSet run_device_flow(Hub& hub, const DeviceFlowOptions& options);

}  // namespace krdc::auth
