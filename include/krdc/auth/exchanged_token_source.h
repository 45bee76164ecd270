#pragma once
// A token for one cluster audience, obtained by RFC 8693 exchange of the user's hub session
// token. Re-exchanged (from the session, which refreshes itself) before it expires or after a
// 401, so a long run keeps working on a remote cluster without the user doing anything.
#include <memory>
#include <mutex>
#include <string>

#include "krdc/auth/hub_session.h"
#include "krdc/auth/token_source.h"

namespace krdc::auth {

class ExchangedTokenSource : public TokenSource {
 public:
  ExchangedTokenSource(std::shared_ptr<HubSession> session, std::string audience, std::string scope,
                       TokenSet initial);
  std::string token() override;
  void invalidate() override;
  std::string describe() const override;
  const std::string& audience() const { return audience_; }
  // The token set token() would hand out now (renewed first if near expiry), with its expiry.
  TokenSet current();
  // A fresh exchange now, whatever the current token's age: for a copy of the token kept
  // elsewhere (the proxy's Secret) that must outlive the margin token() works with.
  TokenSet renew();

 private:
  std::shared_ptr<HubSession> session_;
  std::string audience_;
  std::string scope_;
  std::mutex mu_;
  TokenSet current_;
  bool invalidated_ = false;
};

}  // namespace krdc::auth
