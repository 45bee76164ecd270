#pragma once
// JWK (RFC 7517) RSA public keys to PEM, the form cpp-jwt verifies with.
#include <nlohmann/json.hpp>
#include <string>

namespace krdc::auth {

// {"kty":"RSA","n":...,"e":...} → "-----BEGIN PUBLIC KEY-----..." (SubjectPublicKeyInfo).
// Throws AuthError for a non-RSA or malformed key.
std::string rsa_jwk_to_pem(const nlohmann::json& jwk);

}  // namespace krdc::auth
