#include "krdc/auth/jwk.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <memory>

#include "krdc/auth/jwt_parts.h"
#include "krdc/util/errors.h"

namespace krdc::auth {

namespace {
// RAII for every OpenSSL object touched here.
struct BnFree { void operator()(BIGNUM* p) const noexcept { BN_free(p); } };
struct BldFree { void operator()(OSSL_PARAM_BLD* p) const noexcept { OSSL_PARAM_BLD_free(p); } };
struct ParamFree { void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); } };
struct CtxFree { void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); } };
struct PkeyFree { void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); } };
struct BioFree { void operator()(BIO* p) const noexcept { BIO_free(p); } };

std::unique_ptr<BIGNUM, BnFree> bignum(const std::string& b64url) {
  std::string raw = base64url_decode(b64url);
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()), nullptr);
  if (!bn) throw AuthError("JWKS key: bad RSA component");
  return std::unique_ptr<BIGNUM, BnFree>(bn);
}
}  // namespace

std::string rsa_jwk_to_pem(const nlohmann::json& jwk) {
  if (!jwk.is_object() || jwk.value("kty", "") != "RSA" || !jwk.contains("n") || !jwk.contains("e") ||
      !jwk["n"].is_string() || !jwk["e"].is_string()) {
    throw AuthError("JWKS key is not an RSA public key with n and e");
  }
  auto n = bignum(jwk["n"].get<std::string>());
  auto e = bignum(jwk["e"].get<std::string>());
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get())) {
    throw AuthError("JWKS key: cannot build RSA parameters");
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw_key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw_key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    throw AuthError("JWKS key: OpenSSL rejected the RSA key");
  }
  std::unique_ptr<EVP_PKEY, PkeyFree> key(raw_key);
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1) throw AuthError("JWKS key: cannot encode PEM");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace krdc::auth
