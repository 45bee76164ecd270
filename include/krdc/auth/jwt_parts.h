#pragma once
// Reading a JWT's header and payload WITHOUT verifying it: only to pick the key (kid) before
// verification, or to show expiry of a token krdc just received from the hub over TLS.
// Decisions (authorisation, identity) must use TokenVerifier instead.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace krdc::auth {

std::string base64url_decode(std::string_view in);  // throws AuthError on bad input
std::string base64url_encode(std::string_view in);  // no padding

nlohmann::json jwt_header_unverified(std::string_view token);   // throws AuthError if not a JWS
nlohmann::json jwt_payload_unverified(std::string_view token);

// A JSON number of seconds the hub sent (exp, iat, expires_in, a cached expiry): the value when
// it is an integer in [0, max], else nullopt (treated as absent). A float (1e300) or a huge
// integer would be undefined behaviour once turned into a time_point (found by fuzzing).
std::optional<long long> json_seconds(const nlohmann::json& value, long long max);
inline constexpr long long kMaxEpochSeconds = 9'000'000'000;  // year 2255: a time_point holds it
inline constexpr long long kMaxLifetimeSeconds = 366LL * 24 * 3600;

// True when `token` has only the characters of a compact JWS (base64url and dots); cpp-jwt's
// decoder reads out of bounds on others.
bool compact_jws_charset(std::string_view token);

}  // namespace krdc::auth
