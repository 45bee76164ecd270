// Token verification: JWK → PEM, RS256 signature, issuer, expiry, audience, unknown kid with a
// JWKS re-fetch, tampered tokens — with keys generated at test time.
#include <doctest/doctest.h>

#include <atomic>

#include "krdc/auth/jwk.h"
#include "krdc/auth/jwks.h"
#include "krdc/auth/jwt_parts.h"
#include "krdc/auth/verifier.h"
#include "krdc/util/errors.h"
#include "support/fake_http_server.h"
#include "support/test_keys.h"

using namespace krdc::auth;
using krdc::test::epoch_in;
using krdc::test::TestKey;
using namespace std::chrono_literals;

namespace {
const std::string kIssuer = "https://hub.test/realms/krdc";

struct MapKeys : KeySource {
  std::map<std::string, std::string> pems;
  std::optional<std::string> public_key_pem(const std::string& kid) override {
    auto it = pems.find(kid);
    if (it == pems.end()) return std::nullopt;
    return it->second;
  }
};

nlohmann::json alice_claims() {
  return {{"iss", kIssuer},
          {"sub", "1234"},
          {"preferred_username", "alice"},
          {"aud", {"krdc-kisti", "krdc-unist"}},
          {"azp", "krdc-cli"},
          {"groups", {"kisti-users", "unist-users"}},
          {"resource_access", {{"krdc-unist", {{"roles", {"run"}}}}}},
          {"exp", epoch_in(60s)},
          {"iat", epoch_in(0s)},
          {"jti", "jti-1"}};
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const krdc::AuthError& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST_CASE("auth: base64url round trip") {
  for (std::string s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00\x01", 4)}) {
    CHECK(base64url_decode(base64url_encode(s)) == s);
  }
  CHECK(base64url_encode("\xfb\xff") == "-_8");
}

TEST_CASE("auth: a valid token verifies and its claims are read") {
  TestKey key("k1");
  MapKeys keys;
  keys.pems["k1"] = rsa_jwk_to_pem(key.jwk);
  CHECK(keys.pems["k1"].find("BEGIN PUBLIC KEY") != std::string::npos);
  TokenVerifier v(kIssuer, keys);
  Claims c = v.verify(key.sign(alice_claims()), "krdc-unist");
  CHECK(c.username == "alice");
  CHECK(c.has_audience("krdc-kisti"));
  CHECK(c.groups.size() == 2);
  CHECK(c.client_roles["krdc-unist"] == std::vector<std::string>{"run"});
  CHECK(c.jti == "jti-1");
}

TEST_CASE("auth: tampered, foreign, expired and wrong-audience tokens are rejected") {
  TestKey key("k1"), other("k-other");
  MapKeys keys;
  keys.pems["k1"] = rsa_jwk_to_pem(key.jwk);
  TokenVerifier v(kIssuer, keys);
  std::string good = key.sign(alice_claims());

  // One byte of the signature changed.
  std::string tampered = good;
  auto& ch = tampered[tampered.rfind('.') + 5];
  ch = ch == 'A' ? 'B' : 'A';
  CHECK(error_of([&] { v.verify(tampered); }).find("signature does not verify") != std::string::npos);

  // The payload changed (alice makes herself admin) under the original signature.
  auto payload = alice_claims();
  payload["groups"] = {"admins"};
  std::string forged_payload = key.sign(payload);
  std::string spliced = good.substr(0, good.find('.')) + forged_payload.substr(forged_payload.find('.'),
                        forged_payload.rfind('.') - forged_payload.find('.')) + good.substr(good.rfind('.'));
  CHECK(error_of([&] { v.verify(spliced); }).find("signature") != std::string::npos);

  // Another issuer.
  auto foreign = alice_claims();
  foreign["iss"] = "https://evil.test/realms/krdc";
  CHECK(error_of([&] { v.verify(key.sign(foreign)); }).find("not by the hub") != std::string::npos);

  // Right issuer name, but signed by a key the hub does not publish.
  CHECK(error_of([&] { v.verify(other.sign(alice_claims())); }).find("does not publish") != std::string::npos);

  auto expired = alice_claims();
  expired["exp"] = epoch_in(-120s);
  CHECK(error_of([&] { v.verify(key.sign(expired)); }).find("expired at") != std::string::npos);

  CHECK(error_of([&] { v.verify(good, "krdc-elsewhere"); }).find("not meant for krdc-elsewhere") != std::string::npos);
  CHECK(error_of([&] { v.verify("not-a-jwt"); }).find("not a signed JWT") != std::string::npos);
}

TEST_CASE("auth: error messages never contain the token") {
  TestKey key("k1");
  MapKeys keys;
  TokenVerifier v(kIssuer, keys);
  std::string t = key.sign(alice_claims());
  auto msg = error_of([&] { v.verify(t); });
  CHECK(msg.find(t.substr(t.rfind('.') + 1)) == std::string::npos);
  CHECK(msg.find(t.substr(0, 20)) == std::string::npos);
}

TEST_CASE("auth: JWKS is fetched once, re-fetched on an unknown kid (rotation), and ignores enc keys") {
  TestKey k1("k1"), k2("k2");
  std::atomic<int> fetches{0};
  std::atomic<bool> rotated{false};
  krdc::test::FakeHttpServer server([&](const krdc::test::FakeRequest&) {
    ++fetches;
    nlohmann::json keys = nlohmann::json::array();
    keys.push_back(rotated ? k2.jwk : k1.jwk);
    auto enc = k1.jwk;
    enc["use"] = "enc";
    enc["kid"] = "enc-key";
    keys.push_back(enc);
    return krdc::test::FakeReply::json(200, nlohmann::json{{"keys", keys}}.dump());
  });
  krdc::http::Client http;
  JwksCache cache(http, server.url() + "/certs", 0s);
  TokenVerifier v(kIssuer, cache);
  CHECK(v.verify(k1.sign(alice_claims())).username == "alice");
  CHECK(v.verify(k1.sign(alice_claims())).username == "alice");
  CHECK(fetches == 1);
  rotated = true;
  CHECK(v.verify(k2.sign(alice_claims())).username == "alice");
  CHECK(fetches == 2);
  CHECK_FALSE(cache.public_key_pem("enc-key").has_value());
}
