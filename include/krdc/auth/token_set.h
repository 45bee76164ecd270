#pragma once
// The tokens the hub gave us for one session, and their lifetimes. Serialised into the token
// cache; never printed (whoami shows claims and expiry, not tokens).
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace krdc::auth {

using Clock = std::chrono::system_clock;

struct TokenSet {
  std::string access_token;
  std::string refresh_token;   // empty for client credentials / KRDC_TOKEN
  std::string id_token;
  std::string token_type;      // "Bearer"
  std::string scope;
  std::string issued_token_type;  // token exchange answers carry it
  Clock::time_point expires_at{};          // epoch = unknown
  Clock::time_point refresh_expires_at{};  // epoch = unknown / no expiry ("offline")

  // True when the access token is missing or expires within `margin` of `now`.
  bool needs_refresh(Clock::time_point now, std::chrono::seconds margin) const;
  bool refresh_usable(Clock::time_point now) const;
};

// Parses a token endpoint success response (RFC 6749 §5.1). Expiry comes from expires_in,
// else from the access token's own exp claim.
TokenSet parse_token_response(const std::string& body, Clock::time_point now);

nlohmann::json to_json(const TokenSet& t);
TokenSet token_set_from_json(const nlohmann::json& j);

}  // namespace krdc::auth
