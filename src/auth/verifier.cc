#include "krdc/auth/verifier.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <jwt/jwt.hpp>

#include <algorithm>

#include "krdc/auth/jwt_parts.h"
#include "krdc/util/errors.h"

namespace krdc::auth {

namespace {

std::vector<std::string> strings(const nlohmann::json& j) {
  std::vector<std::string> out;
  if (j.is_string()) out.push_back(j.get<std::string>());
  if (j.is_array()) {
    for (const auto& v : j) {
      if (v.is_string()) out.push_back(v.get<std::string>());
    }
  }
  return out;
}

std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string utc(Clock::time_point t) { return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(Clock::to_time_t(t))); }

}  // namespace

bool Claims::has_audience(const std::string& audience) const {
  return std::find(audiences.begin(), audiences.end(), audience) != audiences.end();
}

Claims claims_from_payload(const nlohmann::json& p) {
  Claims c;
  c.raw = p;
  c.issuer = str(p, "iss");
  c.subject = str(p, "sub");
  c.username = str(p, "preferred_username");
  if (c.username.empty()) c.username = c.subject;
  c.email = str(p, "email");
  c.name = str(p, "name");
  c.azp = str(p, "azp");
  c.jti = str(p, "jti");
  c.scope = str(p, "scope");
  if (p.contains("aud")) c.audiences = strings(p["aud"]);
  if (p.contains("groups")) c.groups = strings(p["groups"]);
  if (p.contains("realm_access") && p["realm_access"].is_object() && p["realm_access"].contains("roles")) {
    c.realm_roles = strings(p["realm_access"]["roles"]);
  }
  if (p.contains("resource_access") && p["resource_access"].is_object()) {
    for (const auto& [client, access] : p["resource_access"].items()) {
      if (access.is_object() && access.contains("roles")) c.client_roles[client] = strings(access["roles"]);
    }
  }
  if (auto exp = p.contains("exp") ? json_seconds(p["exp"], kMaxEpochSeconds) : std::nullopt) {
    c.expires_at = Clock::time_point(std::chrono::seconds(*exp));
  }
  if (auto iat = p.contains("iat") ? json_seconds(p["iat"], kMaxEpochSeconds) : std::nullopt) {
    c.issued_at = Clock::time_point(std::chrono::seconds(*iat));
  }
  return c;
}

TokenVerifier::TokenVerifier(std::string issuer, KeySource& keys, std::chrono::seconds leeway)
    : issuer_(std::move(issuer)), keys_(keys), leeway_(leeway) {}

Claims TokenVerifier::verify(const std::string& token, const std::string& audience) const {
  // Only a compact JWS's characters reach cpp-jwt: its base64 decoder indexes a table with a
  // signed char and reads out of bounds on bytes >= 0x80 (found by tests/fuzz/jwt_jwks).
  if (!compact_jws_charset(token)) throw AuthError("token rejected: not a compact JWS (unexpected characters)");
  // Unverified peeks give precise messages; acceptance is decided by cpp-jwt below.
  auto header = jwt_header_unverified(token);
  auto payload = jwt_payload_unverified(token);
  const std::string iss = str(payload, "iss");
  if (iss != issuer_) {
    throw AuthError(fmt::format("token rejected: issued by \"{}\", not by the hub {}", iss, issuer_));
  }
  const std::string alg = str(header, "alg");
  if (alg != "RS256") throw AuthError(fmt::format("token rejected: algorithm \"{}\" is not accepted (RS256 only)", alg));
  if (!payload.contains("exp") || !json_seconds(payload["exp"], kMaxEpochSeconds)) {
    throw AuthError("token rejected: it has no expiry (an integer time)");
  }

  const std::string kid = str(header, "kid");
  auto pem = keys_.public_key_pem(kid);
  if (!pem) {
    throw AuthError(fmt::format("token rejected: signed with key \"{}\", which the hub {} does not publish", kid, issuer_));
  }
  try {
    jwt::decode(token, jwt::params::algorithms({"RS256"}), jwt::params::secret(*pem), jwt::params::issuer(issuer_),
                jwt::params::leeway(static_cast<uint32_t>(leeway_.count())), jwt::params::verify(true));
  } catch (const jwt::TokenExpiredError&) {
    Claims c = claims_from_payload(payload);
    throw AuthError(fmt::format("token rejected: expired at {}", utc(c.expires_at)), "run: krdc login");
  } catch (const jwt::InvalidSignatureError&) {
    throw AuthError("token rejected: its signature does not verify (tampered, or not from this hub)");
  } catch (const jwt::InvalidIssuerError&) {
    throw AuthError(fmt::format("token rejected: not issued by the hub {}", issuer_));
  } catch (const jwt::ImmatureSignatureError&) {
    throw AuthError("token rejected: not valid yet (check the system clock)");
  } catch (const jwt::DecodeError& e) {
    throw AuthError(fmt::format("token rejected: malformed ({})", e.what()));
  } catch (const jwt::VerificationError& e) {
    throw AuthError(fmt::format("token rejected: {}", e.what()));
  } catch (const std::exception& e) {
    throw AuthError(fmt::format("token rejected: {}", e.what()));
  }
  Claims c = claims_from_payload(payload);
  if (!audience.empty() && !c.has_audience(audience)) {
    throw AuthError(fmt::format("token rejected: it is not meant for {} (audience {})", audience,
                                c.audiences.empty() ? std::string("none") : fmt::format("{}", fmt::join(c.audiences, ", "))));
  }
  return c;
}

}  // namespace krdc::auth
