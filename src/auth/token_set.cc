#include "krdc/auth/token_set.h"

#include "krdc/auth/jwt_parts.h"
#include "krdc/util/errors.h"

namespace krdc::auth {

namespace {
long long to_epoch(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
Clock::time_point from_epoch(long long s) { return Clock::time_point(std::chrono::seconds(s)); }

std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
}  // namespace

bool TokenSet::needs_refresh(Clock::time_point now, std::chrono::seconds margin) const {
  if (access_token.empty()) return true;
  if (expires_at == Clock::time_point{}) return false;
  return expires_at - margin <= now;
}

bool TokenSet::refresh_usable(Clock::time_point now) const {
  if (refresh_token.empty()) return false;
  return refresh_expires_at == Clock::time_point{} || refresh_expires_at > now;
}

namespace {
// The string fields a token endpoint response and the cache file share, under the same names.
TokenSet string_fields(const nlohmann::json& j) {
  TokenSet t;
  t.access_token = str(j, "access_token");
  t.refresh_token = str(j, "refresh_token");
  t.id_token = str(j, "id_token");
  t.token_type = str(j, "token_type");
  t.scope = str(j, "scope");
  t.issued_token_type = str(j, "issued_token_type");
  return t;
}
}  // namespace

TokenSet parse_token_response(const std::string& body, Clock::time_point now) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || str(j, "access_token").empty()) {
    throw UnreachableError("the hub's token endpoint answered without an access token");
  }
  TokenSet t = string_fields(j);
  // Numbers from the hub are bounded before they become times (json_seconds: fuzzing found UB).
  if (auto in = j.contains("expires_in") ? json_seconds(j["expires_in"], kMaxLifetimeSeconds) : std::nullopt) {
    t.expires_at = now + std::chrono::seconds(*in);
  } else {
    try {
      auto p = jwt_payload_unverified(t.access_token);
      if (auto exp = p.contains("exp") ? json_seconds(p["exp"], kMaxEpochSeconds) : std::nullopt) t.expires_at = from_epoch(*exp);
    } catch (const AuthError&) {
      // opaque access token without expires_in: expiry unknown, refreshed only after a 401
    }
  }
  // Keycloak: refresh_expires_in 0 means an offline token that does not expire by time.
  if (auto in = j.contains("refresh_expires_in") ? json_seconds(j["refresh_expires_in"], kMaxLifetimeSeconds)
                                                   : std::nullopt;
      in && *in > 0) {
    t.refresh_expires_at = now + std::chrono::seconds(*in);
  }
  return t;
}

nlohmann::json to_json(const TokenSet& t) {
  return {{"access_token", t.access_token},   {"refresh_token", t.refresh_token},
          {"id_token", t.id_token},           {"token_type", t.token_type},
          {"scope", t.scope},                 {"issued_token_type", t.issued_token_type},
          {"expires_at", to_epoch(t.expires_at)}, {"refresh_expires_at", to_epoch(t.refresh_expires_at)}};
}

TokenSet token_set_from_json(const nlohmann::json& j) {
  TokenSet t = string_fields(j);
  if (auto at = j.contains("expires_at") ? json_seconds(j["expires_at"], kMaxEpochSeconds) : std::nullopt) {
    t.expires_at = from_epoch(*at);
  }
  if (auto at = j.contains("refresh_expires_at") ? json_seconds(j["refresh_expires_at"], kMaxEpochSeconds) : std::nullopt) {
    t.refresh_expires_at = from_epoch(*at);
  }
  return t;
}

}  // namespace krdc::auth
