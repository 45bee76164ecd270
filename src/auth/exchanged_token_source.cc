#include "krdc/auth/exchanged_token_source.h"

#include <fmt/format.h>

namespace krdc::auth {

ExchangedTokenSource::ExchangedTokenSource(std::shared_ptr<HubSession> session, std::string audience,
                                           std::string scope, TokenSet initial)
    : session_(std::move(session)), audience_(std::move(audience)), scope_(std::move(scope)),
      current_(std::move(initial)) {}

std::string ExchangedTokenSource::token() { return current().access_token; }

TokenSet ExchangedTokenSource::current() {
  std::lock_guard lock(mu_);
  if (invalidated_ || current_.needs_refresh(Clock::now(), session_->refresh_margin())) {
    current_ = session_->exchange(audience_, scope_);
    invalidated_ = false;
  }
  return current_;
}

TokenSet ExchangedTokenSource::renew() {
  TokenSet fresh = session_->exchange(audience_, scope_);  // outside the lock: a network call
  std::lock_guard lock(mu_);
  current_ = fresh;
  invalidated_ = false;
  return fresh;
}

void ExchangedTokenSource::invalidate() {
  std::lock_guard lock(mu_);
  invalidated_ = true;
}

std::string ExchangedTokenSource::describe() const {
  return fmt::format("token exchanged for audience {} ({})", audience_, session_->describe());
}

}  // namespace krdc::auth
