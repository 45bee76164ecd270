#pragma once
// Token verification with cpp-jwt against the hub's JWKS: RS256 signature, issuer (byte for
// byte), expiry (with a small leeway for clock skew) and, where a decision depends on it, the
// audience. Every token krdc acts on passes through here first.
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "krdc/auth/jwks.h"
#include "krdc/auth/token_set.h"

namespace krdc::auth {

struct Claims {
  std::string issuer;
  std::string subject;
  std::string username;  // preferred_username, else sub
  std::string email;
  std::string name;
  std::string azp;       // the client the token was issued to
  std::string jti;       // safe to show: identifies a token without granting anything
  std::string scope;
  std::vector<std::string> audiences;
  std::vector<std::string> groups;
  std::vector<std::string> realm_roles;
  std::map<std::string, std::vector<std::string>> client_roles;  // Keycloak resource_access
  Clock::time_point expires_at{};
  Clock::time_point issued_at{};
  nlohmann::json raw;

  bool has_audience(const std::string& audience) const;
};

// Claims from an already-parsed payload (shared by the verifier and tests).
Claims claims_from_payload(const nlohmann::json& payload);

class TokenVerifier {
 public:
  TokenVerifier(std::string issuer, KeySource& keys, std::chrono::seconds leeway = std::chrono::seconds(30));

  // Throws AuthError naming what is wrong (never including the token). `audience` empty: no aud check.
  Claims verify(const std::string& token, const std::string& audience = {}) const;

  const std::string& issuer() const { return issuer_; }

 private:
  std::string issuer_;
  KeySource& keys_;
  std::chrono::seconds leeway_;
};

}  // namespace krdc::auth
