// JWT and JWKS parsing: the unverified peeks (jwt_header/payload_unverified, base64url),
// claims_from_payload, JWK → PEM (rsa_jwk_to_pem, each key of a JWKS document as JwksCache
// takes them) and TokenVerifier::verify against those keys, so a seed with a real signature
// reaches cpp-jwt's decoder and the checks after it. The second part is also read as a token
// endpoint response and as a cached token set (parse_token_response, token_set_from_json: the
// expiry arithmetic on the hub's numbers), and the token as an access token without expires_in.
//
// Input: the token on the first line; the rest, optional, a JWKS document
//   {"keys": [{"kty": "RSA", "kid": "k1", "n": "...", "e": "AQAB"}]}
#include <map>
#include <optional>

#include "fuzz_support.h"
#include "krdc/auth/jwk.h"
#include "krdc/auth/jwt_parts.h"
#include "krdc/auth/token_set.h"
#include "krdc/auth/verifier.h"

using nlohmann::json;

namespace {
constexpr const char kIssuer[] = "https://hub.test/realms/krdc";

class Keys : public krdc::auth::KeySource {
 public:
  std::map<std::string, std::string> pem_by_kid;
  std::optional<std::string> public_key_pem(const std::string& kid) override {
    auto it = pem_by_kid.find(kid);
    if (it == pem_by_kid.end()) return std::nullopt;
    return it->second;
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = krdc::fuzz::text(data, size);
  const auto nl = text.find('\n');
  const std::string token = text.substr(0, nl);
  const std::string jwks = nl == std::string::npos ? std::string() : text.substr(nl + 1);

  krdc::fuzz::refused_or_ok([&] { (void)krdc::auth::base64url_decode(token); });
  krdc::fuzz::refused_or_ok([&] { (void)krdc::auth::jwt_header_unverified(token); });
  krdc::fuzz::refused_or_ok([&] {
    (void)krdc::auth::claims_from_payload(krdc::auth::jwt_payload_unverified(token));
  });

  Keys keys;
  const json doc = json::parse(jwks, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object() && doc.contains("keys") && doc["keys"].is_array()) {
    for (const auto& k : doc["keys"]) {
      krdc::fuzz::refused_or_ok([&] {
        const std::string pem = krdc::auth::rsa_jwk_to_pem(k);
        const auto kid = k.is_object() ? k.find("kid") : k.end();
        keys.pem_by_kid[kid != k.end() && kid->is_string() ? kid->get<std::string>() : std::string()] = pem;
      });
    }
  } else if (!doc.is_discarded()) {
    krdc::fuzz::refused_or_ok([&] { (void)krdc::auth::rsa_jwk_to_pem(doc); });
  }

  const auto now = krdc::auth::Clock::now();
  krdc::fuzz::refused_or_ok([&] { (void)krdc::auth::parse_token_response(jwks, now); });
  krdc::fuzz::refused_or_ok([&] { (void)krdc::auth::parse_token_response(json{{"access_token", token}}.dump(-1, ' ', false, json::error_handler_t::replace), now); });
  if (doc.is_object()) krdc::fuzz::refused_or_ok([&] { (void)krdc::auth::token_set_from_json(doc); });

  const krdc::auth::TokenVerifier verifier(kIssuer, keys);
  krdc::fuzz::refused_or_ok([&] { (void)verifier.verify(token, "krdc-cluster-kisti"); });
  krdc::fuzz::refused_or_ok([&] { (void)verifier.verify(token); });
  return 0;
}
