#include "krdc/auth/hub_session.h"

#include <fmt/format.h>

#include "krdc/auth/jwt_parts.h"
#include "krdc/auth/verifier.h"

namespace krdc::auth {

namespace {
constexpr const char* kExpired = "session expired: run krdc login";
}

HubSession::HubSession(std::shared_ptr<Hub> hub, TokenCache cache, TokenSet tokens, Kind kind)
    : hub_(std::move(hub)), cache_(std::move(cache)), kind_(kind), tokens_(std::move(tokens)) {}

std::shared_ptr<HubSession> HubSession::open(std::shared_ptr<Hub> hub, TokenCache cache) {
  const auto& s = hub->settings();
  if (!s.static_token.empty()) {
    TokenSet fixed;
    fixed.access_token = s.static_token;
    auto session = std::make_shared<HubSession>(hub, cache, fixed, Kind::kStatic);
    std::lock_guard lock(session->mu_);
    session->verify_locked();
    return session;
  }
  if (s.client_credentials) {
    // Reuse a cached token while valid: saves a round trip per krdc invocation in CI loops.
    auto cached = cache.load(s.issuer, s.client_id);
    if (cached && !cached->needs_refresh(Clock::now(), std::chrono::seconds(20))) {
      return std::make_shared<HubSession>(hub, cache, *cached, Kind::kClientCredentials);
    }
    return start(hub, cache, hub->client_credentials(), Kind::kClientCredentials);
  }
  auto cached = cache.load(s.issuer, s.client_id);
  if (!cached) {
    if (s.non_interactive) {
      throw AuthError(fmt::format("not logged in to {} and running non-interactively", s.issuer),
                      "set KRDC_CLIENT_ID and KRDC_CLIENT_SECRET (client credentials) or KRDC_TOKEN");
    }
    throw AuthError(fmt::format("not logged in to {}", s.issuer), "run: krdc login");
  }
  return std::make_shared<HubSession>(hub, cache, *cached, Kind::kLogin);
}

std::shared_ptr<HubSession> HubSession::start(std::shared_ptr<Hub> hub, TokenCache cache, TokenSet tokens, Kind kind) {
  auto session = std::make_shared<HubSession>(hub, cache, std::move(tokens), kind);
  std::lock_guard lock(session->mu_);
  session->verify_locked();
  if (kind != Kind::kStatic) session->cache_.store(hub->issuer(), hub->settings().client_id, session->tokens_);
  return session;
}

void HubSession::verify_locked() {
  try {
    claims_ = hub_->verify(tokens_.access_token);
  } catch (const UnreachableError&) {
    // The hub is down but this session's token, from krdc's own 0600 cache, was verified when
    // it was stored and is still valid: go on with its claims (the clusters verify it anyway,
    // against their own copy of the hub's keys). A run needing no new token does not need the
    // hub (docs/architecture.md, "Identity"); renewal, exchange and login still do.
    if (kind_ == Kind::kStatic || !cached_claims_still_valid()) throw;
  } catch (const AuthError& e) {
    // A cached session the hub no longer vouches for (keys rotated, realm reset, tampered
    // cache): say what to do about it.
    if (kind_ == Kind::kStatic || !e.hint().empty()) throw;
    throw AuthError(e.what(), kind_ == Kind::kLogin ? "run: krdc login" : "check KRDC_CLIENT_ID and the hub URL");
  }
  if (tokens_.expires_at == Clock::time_point{}) tokens_.expires_at = claims_->expires_at;
}

bool HubSession::cached_claims_still_valid() {
  Claims c = claims_from_payload(jwt_payload_unverified(tokens_.access_token));
  const auto margin = std::chrono::seconds(10);
  if (c.issuer != hub_->issuer() || c.expires_at <= Clock::now() + margin) return false;
  claims_ = std::move(c);
  return true;
}

void HubSession::renew_locked() {
  const auto& s = hub_->settings();
  std::optional<TokenCache::Lock> lock;
  switch (kind_) {
    case Kind::kStatic:
      throw AuthError("KRDC_TOKEN has expired or was rejected", "provide a fresh KRDC_TOKEN, or unset it and run krdc login");
    case Kind::kClientCredentials:
      tokens_ = hub_->client_credentials();
      break;
    case Kind::kLogin: {
      // Read-refresh-write under the cache entry's lock, released when this function returns:
      // another krdc (or another session in this one) may be refreshing the same session, and
      // with refresh-token rotation only one of them may spend the refresh token.
      lock.emplace(cache_.lock(s.issuer, s.client_id, std::chrono::minutes(3), hub_->cancelled()));
      // It may have refreshed while we waited: then its tokens are the session's (ours have
      // been rotated away), and when still fresh there is nothing left to do.
      // (Either token differing says so: a rotated refresh token, or a new access token.)
      if (auto cached = cache_.load(s.issuer, s.client_id);
          cached && (cached->access_token != tokens_.access_token || cached->refresh_token != tokens_.refresh_token)) {
        tokens_ = std::move(*cached);
        claims_.reset();
        if (!tokens_.needs_refresh(Clock::now(), margin_)) break;
      }
      if (!tokens_.refresh_usable(Clock::now())) throw AuthError(kExpired);
      try {
        TokenSet fresh = hub_->refresh(tokens_.refresh_token);
        // Some hubs do not rotate the refresh token: keep the old one then.
        if (fresh.refresh_token.empty()) {
          fresh.refresh_token = tokens_.refresh_token;
          fresh.refresh_expires_at = tokens_.refresh_expires_at;
        }
        tokens_ = std::move(fresh);
      } catch (const OAuthError& e) {
        // invalid_client / unauthorized_client: krdc's own client is refused, and a new login
        // would be refused the same way: say what to fix instead.
        if (e.error() == "invalid_client" || e.error() == "unauthorized_client") {
          throw AuthError(fmt::format("the hub {} refused krdc's client \"{}\" ({}{})", s.issuer, s.client_id, e.error(),
                                      e.description().empty() ? "" : ": " + e.description()),
                          "check hub.clientId and hub.clientSecretFile in your krdc config (or KRDC_CLIENT_ID / "
                          "KRDC_CLIENT_SECRET_FILE); a new login will not help until the hub accepts the client");
        }
        // invalid_grant: refresh token expired, revoked (logout elsewhere) or session ended at the hub.
        throw AuthError(kExpired, e.description().empty() ? "" : "the hub said: " + e.description());
      }
      break;
    }
  }
  verify_locked();
  invalidated_ = false;
  cache_.store(hub_->issuer(), s.client_id, tokens_);
}

std::string HubSession::token() {
  std::lock_guard lock(mu_);
  if (invalidated_ || tokens_.needs_refresh(Clock::now(), margin_)) {
    if (kind_ == Kind::kStatic && !invalidated_) {
      // A static token near expiry is still usable until it actually expires.
      if (tokens_.needs_refresh(Clock::now(), std::chrono::seconds(0))) renew_locked();
    } else {
      renew_locked();
    }
  }
  if (!claims_) verify_locked();
  return tokens_.access_token;
}

void HubSession::invalidate() {
  std::lock_guard lock(mu_);
  invalidated_ = true;
}

std::string HubSession::describe() const {
  const char* how = kind_ == Kind::kStatic ? "KRDC_TOKEN" : kind_ == Kind::kClientCredentials ? "client credentials" : "login";
  return fmt::format("hub session ({}) at {}", how, hub_->issuer());
}

Claims HubSession::claims() {
  token();
  std::lock_guard lock(mu_);
  return *claims_;
}

TokenSet HubSession::exchange(const std::string& audience, const std::string& scope) {
  std::string subject = token();
  TokenSet exchanged = hub_->exchange(subject, audience, scope);
  hub_->verify(exchanged.access_token, audience);
  return exchanged;
}

bool HubSession::logout() {
  std::lock_guard lock(mu_);
  bool revoked = false;
  if (kind_ == Kind::kLogin && !tokens_.refresh_token.empty()) {
    // Revoking the refresh token ends the hub session (Keycloak also drops its access tokens' session).
    revoked = hub_->revoke(tokens_.refresh_token, "refresh_token");
  }
  if (kind_ != Kind::kStatic) cache_.remove(hub_->issuer(), hub_->settings().client_id);
  tokens_ = TokenSet{};
  claims_.reset();
  return revoked;
}

}  // namespace krdc::auth
