#pragma once
// Session tokens on disk, one file per hub issuer + client under $XDG_CACHE_HOME/krdc/
// (else ~/.cache/krdc/). The directory is 0700, files 0600, written atomically (temp file in
// the same directory, fsync, rename), so a crash or a concurrent krdc never leaves a torn
// file. A cache file that other users can read, or that we do not own, is refused: its tokens
// may already be exposed, so krdc will not use them. Refreshing a session is serialised across
// processes by a lock file per entry (TokenCache::lock).
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "krdc/auth/token_set.h"
#include "krdc/config/env.h"

namespace krdc::auth {

class TokenCache {
 public:
  explicit TokenCache(std::filesystem::path dir);
  static std::filesystem::path default_dir(const config::Env& env);

  std::filesystem::path file_for(const std::string& issuer, const std::string& client_id) const;
  // nullopt if there is no session; throws AuthError for an unsafe or unreadable file.
  std::optional<TokenSet> load(const std::string& issuer, const std::string& client_id) const;
  void store(const std::string& issuer, const std::string& client_id, const TokenSet& tokens) const;
  bool remove(const std::string& issuer, const std::string& client_id) const;

  // An exclusive flock on "<entry>.lock" beside the entry (0600, never removed), held for the
  // lifetime of the object. Taken around read-refresh-write of a session: with refresh-token
  // rotation two krdc processes refreshing the same session at once would spend the same
  // refresh token twice and the hub would end the session. Waits at most `wait` (AuthError
  // after), checking `cancelled` (http::CancelledError) every 50 ms.
  class Lock {
   public:
    explicit Lock(int fd) : fd_(fd) {}
    ~Lock();
    Lock(Lock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Lock& operator=(Lock&&) = delete;
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

   private:
    int fd_;
  };
  Lock lock(const std::string& issuer, const std::string& client_id,
            std::chrono::milliseconds wait = std::chrono::minutes(3),
            const std::function<bool()>& cancelled = {}) const;

  const std::filesystem::path& dir() const { return dir_; }

 private:
  void ensure_dir() const;
  std::filesystem::path dir_;
};

}  // namespace krdc::auth
