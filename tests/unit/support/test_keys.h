#pragma once
// An RSA key pair made at test time, its JWK, and tokens signed with it by cpp-jwt: lets unit
// tests play the hub without a network. Header-only (the unit glob compiles tests/unit/*.cc).
#include <jwt/jwt.hpp>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "krdc/auth/jwt_parts.h"

namespace krdc::test {

struct TestKey {
  std::string kid;
  std::string private_pem;
  nlohmann::json jwk;

  explicit TestKey(std::string key_id) : kid(std::move(key_id)) {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), EVP_PKEY_free);
    if (!key) throw std::runtime_error("EVP_RSA_gen");
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    private_pem.assign(data, static_cast<size_t>(len));
    jwk = {{"kty", "RSA"}, {"kid", kid}, {"use", "sig"}, {"alg", "RS256"},
           {"n", component(key.get(), OSSL_PKEY_PARAM_RSA_N)}, {"e", component(key.get(), OSSL_PKEY_PARAM_RSA_E)}};
  }

  // Signs `claims` (RS256) with this key and kid.
  std::string sign(const nlohmann::json& claims) const {
    jwt::jwt_object obj{jwt::params::algorithm("RS256"), jwt::params::secret(private_pem)};
    obj.header().add_header("kid", kid);
    for (const auto& [k, v] : claims.items()) obj.add_claim(k, nlohmann::json(v));
    return obj.signature();
  }

 private:
  static std::string component(EVP_PKEY* key, const char* name) {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key, name, &bn);
    std::string raw(static_cast<size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(raw.data()));
    BN_free(bn);
    return krdc::auth::base64url_encode(raw);
  }
};

inline long long epoch_in(std::chrono::seconds d) {
  return std::chrono::duration_cast<std::chrono::seconds>((std::chrono::system_clock::now() + d).time_since_epoch())
      .count();
}

}  // namespace krdc::test
