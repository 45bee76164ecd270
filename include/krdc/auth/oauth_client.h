#pragma once
// The OAuth 2.0 calls krdc makes at the hub's endpoints (discovered, never hard-coded):
// device authorization (RFC 8628), token polling, refresh, client credentials, token exchange
// (RFC 8693) and revocation (RFC 7009). Confidential clients authenticate with HTTP Basic
// (RFC 6749 §2.3.1); public clients send client_id in the form. Token-endpoint POSTs are
// never resent after they may have reached the hub (see post_form).
#include <chrono>
#include <string>

#include "krdc/auth/discovery.h"
#include "krdc/auth/token_set.h"
#include "krdc/http/client.h"
#include "krdc/http/form.h"
#include "krdc/util/errors.h"

namespace krdc::auth {

struct ClientAuth {
  std::string client_id;
  std::string client_secret;  // empty: public client
};

// An OAuth error response ({"error": ..., "error_description": ...}) from the hub. The message
// holds the error and description only, never what we sent.
class OAuthError : public AuthError {
 public:
  OAuthError(std::string error, std::string description, long status, const std::string& message,
             std::string hint = {})
      : AuthError(message, std::move(hint)), error_(std::move(error)), description_(std::move(description)),
        status_(status) {}
  const std::string& error() const { return error_; }           // e.g. "authorization_pending"
  const std::string& description() const { return description_; }
  long status() const { return status_; }

 private:
  std::string error_;
  std::string description_;
  long status_;
};

struct DeviceAuthorization {
  std::string device_code;  // secret-ish: never shown
  std::string user_code;
  std::string verification_uri;
  std::string verification_uri_complete;
  std::chrono::seconds expires_in{600};
  std::chrono::seconds interval{5};
  std::string code_verifier;  // PKCE (sent if the hub enforces PKCE for the device grant)
};

inline constexpr const char* kTokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token";

class OAuthClient {
 public:
  OAuthClient(http::Client& http, ProviderMetadata metadata, ClientAuth client);

  DeviceAuthorization start_device_authorization(const std::string& scope);
  // One poll; throws OAuthError (authorization_pending, slow_down, expired_token, access_denied…).
  TokenSet poll_device_token(const DeviceAuthorization& device);
  TokenSet refresh(const std::string& refresh_token);
  TokenSet client_credentials(const std::string& scope = {});
  // RFC 8693: subject_token_type access_token; audience = the target client; optional scope.
  TokenSet exchange(const std::string& subject_token, const std::string& audience, const std::string& scope = {});
  // Returns false when the hub has no revocation endpoint.
  bool revoke(const std::string& token, const std::string& token_type_hint);

  const ProviderMetadata& metadata() const { return metadata_; }
  const ClientAuth& client() const { return client_; }

 private:
  TokenSet token_request(http::Form form, const std::string& what);
  // Token and device-authorization POSTs pass replayable = false (http::Request::replayable).
  http::Response post_form(const std::string& url, http::Form form, bool replayable);

  http::Client& http_;
  ProviderMetadata metadata_;
  ClientAuth client_;
};

}  // namespace krdc::auth
