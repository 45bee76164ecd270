#pragma once
// The hub's signing keys. Fetched lazily from the discovered jwks_uri, kept in memory, and
// re-fetched when a token names a kid we do not know (the hub rotated its keys) — but at most
// once per `min_refetch` so a flood of forged kids cannot turn krdc into a hammer on the hub.
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "krdc/http/client.h"

namespace krdc::auth {

// Where verification gets public keys; an interface so tests can supply their own.
class KeySource {
 public:
  virtual ~KeySource() = default;
  // PEM public key for (kid, alg), or nullopt if the hub has no such key.
  virtual std::optional<std::string> public_key_pem(const std::string& kid) = 0;
};

class JwksCache : public KeySource {
 public:
  JwksCache(http::Client& http, std::string jwks_uri,
            std::chrono::seconds min_refetch = std::chrono::seconds(10));
  std::optional<std::string> public_key_pem(const std::string& kid) override;

 private:
  void fetch();

  http::Client& http_;
  std::string uri_;
  std::chrono::seconds min_refetch_;
  std::mutex mu_;
  std::map<std::string, std::string> pem_by_kid_;
  std::optional<std::chrono::steady_clock::time_point> fetched_at_;
};

}  // namespace krdc::auth
