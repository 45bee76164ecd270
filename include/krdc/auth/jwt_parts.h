#pragma once
// Reading a JWT's header and payload WITHOUT verifying it: only to pick the key (kid) before
// verification, or to show expiry of a token krdc just received from the hub over TLS.
// Decisions (authorisation, identity) must use TokenVerifier instead.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace krdc::auth {

std::string base64url_decode(std::string_view in);  // throws AuthError on bad input
std::string base64url_encode(std::string_view in);  // no padding

nlohmann::json jwt_header_unverified(std::string_view token);   // throws AuthError if not a JWS
nlohmann::json jwt_payload_unverified(std::string_view token);

}  // namespace krdc::auth
