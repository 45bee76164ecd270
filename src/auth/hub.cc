#include "krdc/auth/hub.h"

namespace krdc::auth {

namespace {
http::ClientOptions with_ca(http::ClientOptions o, const std::string& ca_file) {
  if (!ca_file.empty()) o.ca_file = ca_file;
  return o;
}
}  // namespace

Hub::Hub(config::HubSettings settings, http::ClientOptions http_options)
    : settings_(std::move(settings)), http_(with_ca(std::move(http_options), settings_.ca_file)) {}

Hub::~Hub() = default;

OAuthClient& Hub::oauth_locked() {
  if (!oauth_) {
    metadata_ = discover(http_, settings_.issuer);
    oauth_ = std::make_unique<OAuthClient>(http_, *metadata_, ClientAuth{settings_.client_id, settings_.client_secret});
    jwks_ = std::make_unique<JwksCache>(http_, metadata_->jwks_uri);
    verifier_ = std::make_unique<TokenVerifier>(settings_.issuer, *jwks_);
  }
  return *oauth_;
}

ProviderMetadata Hub::metadata() {
  std::lock_guard lock(mu_);
  oauth_locked();
  return *metadata_;
}

DeviceAuthorization Hub::start_device_authorization(const std::string& scope) {
  std::lock_guard lock(mu_);
  return oauth_locked().start_device_authorization(scope);
}

TokenSet Hub::poll_device_token(const DeviceAuthorization& device) {
  std::lock_guard lock(mu_);
  return oauth_locked().poll_device_token(device);
}

TokenSet Hub::refresh(const std::string& refresh_token) {
  std::lock_guard lock(mu_);
  return oauth_locked().refresh(refresh_token);
}

TokenSet Hub::client_credentials(const std::string& scope) {
  std::lock_guard lock(mu_);
  return oauth_locked().client_credentials(scope);
}

TokenSet Hub::exchange(const std::string& subject_token, const std::string& audience, const std::string& scope) {
  std::lock_guard lock(mu_);
  return oauth_locked().exchange(subject_token, audience, scope);
}

bool Hub::revoke(const std::string& token, const std::string& token_type_hint) {
  std::lock_guard lock(mu_);
  return oauth_locked().revoke(token, token_type_hint);
}

Claims Hub::verify(const std::string& token, const std::string& audience) {
  std::lock_guard lock(mu_);
  oauth_locked();
  return verifier_->verify(token, audience);
}

}  // namespace krdc::auth
