#pragma once
// One identity hub (an OIDC issuer) as krdc talks to it: discovery done lazily on first use,
// the OAuth calls, and token verification against its JWKS. Thread-safe: sessions and token
// sources used by parallel steps share one Hub, and every network call is serialised on its
// single HTTP client (its connection stays warm).
#include <memory>
#include <mutex>
#include <optional>

#include "krdc/auth/discovery.h"
#include "krdc/auth/jwks.h"
#include "krdc/auth/oauth_client.h"
#include "krdc/auth/verifier.h"
#include "krdc/config/hub_settings.h"
#include "krdc/http/client.h"

namespace krdc::auth {

class Hub {
 public:
  // `http_options.ca_file` is overridden by settings.ca_file when that is set.
  explicit Hub(config::HubSettings settings, http::ClientOptions http_options = {});
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  const config::HubSettings& settings() const { return settings_; }
  const std::string& issuer() const { return settings_.issuer; }

  ProviderMetadata metadata();
  DeviceAuthorization start_device_authorization(const std::string& scope);
  TokenSet poll_device_token(const DeviceAuthorization& device);
  TokenSet refresh(const std::string& refresh_token);
  TokenSet client_credentials(const std::string& scope = {});
  TokenSet exchange(const std::string& subject_token, const std::string& audience, const std::string& scope = {});
  bool revoke(const std::string& token, const std::string& token_type_hint);
  // Verifies signature, issuer, expiry, and `audience` if not empty. Throws AuthError.
  Claims verify(const std::string& token, const std::string& audience = {});
  // The HTTP client's cancellation predicate (Ctrl-C), for waits outside HTTP; may be empty.
  const std::function<bool()>& cancelled() const { return http_.options().cancelled; }

 private:
  OAuthClient& oauth_locked();  // discovers on first use; caller holds mu_

  config::HubSettings settings_;
  std::mutex mu_;
  http::Client http_;
  std::optional<ProviderMetadata> metadata_;
  std::unique_ptr<OAuthClient> oauth_;
  std::unique_ptr<JwksCache> jwks_;
  std::unique_ptr<TokenVerifier> verifier_;
};

}  // namespace krdc::auth
