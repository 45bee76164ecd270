#pragma once
// The user's session at the hub, and the TokenSource for it. Where the session comes from
// (HubSession::open, never prompting):
//   1. KRDC_TOKEN            a static token (verified; cannot be refreshed)
//   2. KRDC_CLIENT_ID + KRDC_CLIENT_SECRET(_FILE)   client credentials (CI), re-obtained on expiry
//   3. the token cache       from `krdc login`, refreshed with its refresh token near expiry
// otherwise AuthError "not logged in" with a hint fitting interactive or CI use.
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>

#include "krdc/auth/hub.h"
#include "krdc/auth/token_cache.h"
#include "krdc/auth/token_source.h"

namespace krdc::auth {

class HubSession : public TokenSource, public std::enable_shared_from_this<HubSession> {
 public:
  enum class Kind { kLogin, kClientCredentials, kStatic };

  static std::shared_ptr<HubSession> open(std::shared_ptr<Hub> hub, TokenCache cache);
  // After a fresh login / client-credentials grant: verifies, caches and returns the session.
  static std::shared_ptr<HubSession> start(std::shared_ptr<Hub> hub, TokenCache cache, TokenSet tokens, Kind kind);

  std::string token() override;
  void invalidate() override;
  std::string describe() const override;

  // Verified claims of the current access token (refreshing first if needed).
  Claims claims();
  // RFC 8693 exchange of the current access token for `audience`; the result is verified and
  // must carry that audience.
  TokenSet exchange(const std::string& audience, const std::string& scope = {});
  // Revokes the refresh token at the hub (when it supports revocation) and deletes the cache
  // file. Returns whether the hub confirmed revocation.
  bool logout();

  Kind kind() const { return kind_; }
  Hub& hub() { return *hub_; }
  const TokenCache& cache() const { return cache_; }
  std::chrono::seconds refresh_margin() const { return margin_; }

  HubSession(std::shared_ptr<Hub> hub, TokenCache cache, TokenSet tokens, Kind kind);

 private:
  // Hub unreachable: adopts the cached token's own claims if it is still valid (see .cc).
  bool cached_claims_still_valid();
  void renew_locked();  // refresh / re-obtain; throws AuthError "session expired: run krdc login"
  void verify_locked();

  std::shared_ptr<Hub> hub_;
  TokenCache cache_;
  Kind kind_;
  std::mutex mu_;
  TokenSet tokens_;
  std::optional<Claims> claims_;
  bool invalidated_ = false;
  std::chrono::seconds margin_{20};
};

}  // namespace krdc::auth
