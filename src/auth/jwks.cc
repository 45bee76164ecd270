#include "krdc/auth/jwks.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "krdc/auth/jwk.h"

namespace krdc::auth {

JwksCache::JwksCache(http::Client& http, std::string jwks_uri, std::chrono::seconds min_refetch)
    : http_(http), uri_(std::move(jwks_uri)), min_refetch_(min_refetch) {}

void JwksCache::fetch() {
  auto resp = http_.request("GET", uri_, {{"Accept", "application/json"}});
  fetched_at_ = std::chrono::steady_clock::now();
  if (resp.status != 200) {
    throw UnreachableError(fmt::format("fetching the hub's signing keys failed: HTTP {}: {}", resp.status,
                                       http::server_message(resp.body)));
  }
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  if (!j.is_object() || !j.contains("keys") || !j["keys"].is_array()) {
    throw UnreachableError("the hub's JWKS document has no keys array");
  }
  std::map<std::string, std::string> keys;
  for (const auto& k : j["keys"]) {
    // Only RSA signing keys: Keycloak also lists encryption keys (use "enc") we must not accept.
    // A hub may send anything: fields of the wrong type make the key unusable, not krdc crash.
    const auto text = [&k](const char* field, const char* absent) -> std::string {
      if (!k.contains(field)) return absent;
      return k[field].is_string() ? k[field].get<std::string>() : std::string("\x01not a string");
    };
    if (!k.is_object() || text("kty", "") != "RSA" || text("use", "sig") != "sig") continue;
    try {
      keys[text("kid", "")] = rsa_jwk_to_pem(k);
    } catch (const AuthError&) {
      // one malformed key must not make the others unusable
    }
  }
  pem_by_kid_ = std::move(keys);
}

std::optional<std::string> JwksCache::public_key_pem(const std::string& kid) {
  std::lock_guard lock(mu_);
  if (!fetched_at_) fetch();
  if (auto it = pem_by_kid_.find(kid); it != pem_by_kid_.end()) return it->second;
  if (std::chrono::steady_clock::now() - *fetched_at_ >= min_refetch_) {
    fetch();
    if (auto it = pem_by_kid_.find(kid); it != pem_by_kid_.end()) return it->second;
  }
  return std::nullopt;
}

}  // namespace krdc::auth
