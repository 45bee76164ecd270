#pragma once
// OIDC discovery: every endpoint comes from <issuer>/.well-known/openid-configuration, so krdc
// works with any OIDC hub and never hard-codes Keycloak paths.
#include <string>

#include "krdc/http/client.h"

namespace krdc::auth {

struct ProviderMetadata {
  std::string issuer;
  std::string token_endpoint;
  std::string device_authorization_endpoint;  // empty: hub has no device flow
  std::string revocation_endpoint;            // empty: hub cannot revoke
  std::string jwks_uri;
  std::string userinfo_endpoint;
};

// Fetches and checks the document: its "issuer" must equal `issuer` byte for byte (OIDC
// Discovery §4.3), otherwise tokens would be checked against the wrong iss. https is required
// (loopback http only under http::testing::allow_loopback_http, for the unit tests). Throws UnreachableError (network / malformed) or AuthError
// (issuer mismatch, plain http).
ProviderMetadata discover(http::Client& http, const std::string& issuer);

// True for https URLs (and loopback http URLs under http::testing::allow_loopback_http).
bool is_acceptable_hub_url(const std::string& url);

}  // namespace krdc::auth
