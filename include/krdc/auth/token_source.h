#pragma once
// The TokenSource seam (docs/architecture.md, "Identity"). A Kubernetes client never holds a token string: before each
// request it asks its source for the current bearer, and after a 401 it calls invalidate() and
// asks once more; a second 401 is a clear AuthError for the user. Implementations must be
// thread-safe (parallel steps share sources).
//
//   HubSession            the user's hub session; refreshes itself near expiry (hub_session.h)
//   ExchangedTokenSource  a token exchanged for one cluster audience; re-exchanges (exchanged_token_source.h)
//   StaticTokenSource     KRDC_TOKEN or any fixed bearer
//   FileTokenSource       a token file re-read on every call (the proxy pod's mounted Secret)
#include <memory>
#include <mutex>
#include <string>

namespace krdc::auth {

class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // The bearer to send now. Throws AuthError when no valid token can be had
  // (e.g. "session expired: run krdc login").
  virtual std::string token() = 0;
  // The server rejected the last token (401): the next token() must not return it again.
  virtual void invalidate() = 0;
  // For messages and -v logs: whose token this is. Never contains the token.
  virtual std::string describe() const = 0;
};

class StaticTokenSource : public TokenSource {
 public:
  StaticTokenSource(std::string token, std::string description);
  std::string token() override;
  void invalidate() override;  // a fixed token cannot be renewed: the next token() throws
  std::string describe() const override { return description_; }

 private:
  std::mutex mu_;
  std::string token_;
  std::string description_;
  bool rejected_ = false;
};

class FileTokenSource : public TokenSource {
 public:
  explicit FileTokenSource(std::string path);
  std::string token() override;  // re-reads the file every time, so a renewed Secret takes effect
  void invalidate() override {}
  std::string describe() const override { return "token file " + path_; }

 private:
  std::string path_;
};

}  // namespace krdc::auth
