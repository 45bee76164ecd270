#pragma once
// Session tokens on disk, one file per hub issuer + client under $XDG_CACHE_HOME/krdc/
// (else ~/.cache/krdc/). The directory is 0700, files 0600, written atomically (temp file in
// the same directory, fsync, rename), so a crash or a concurrent krdc never leaves a torn
// file. A cache file that other users can read, or that we do not own, is refused: its tokens
// may already be exposed, so krdc will not use them.
#include <filesystem>
#include <optional>
#include <string>

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

  const std::filesystem::path& dir() const { return dir_; }

 private:
  void ensure_dir() const;
  std::filesystem::path dir_;
};

}  // namespace krdc::auth
