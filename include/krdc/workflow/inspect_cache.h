#pragma once
// Where derived app interfaces are kept between runs (docs/architecture.md, "App interfaces"):
// one file per key, the key being the sha256 of a Python program's bytes and of the inspect
// shim, so a hit needs no interpreter and an edited program (or a new shim) misses.
#include <optional>
#include <string>

namespace krdc::workflow {

// $XDG_CACHE_HOME/krdc/apps, else $HOME/.cache/krdc/apps; empty when neither is set.
// Takes the values rather than reading the environment: the CLI passes them in.
std::string default_inspect_cache_dir(const char* xdg_cache_home, const char* home);

// The cache key of a program: "sha256:…" over the shim's digest and the program's bytes.
std::string inspect_cache_key(const std::string& program_bytes, const std::string& shim_digest);

class InspectCache {
 public:
  // An empty `dir` is a cache that keeps nothing.
  explicit InspectCache(std::string dir) : dir_(std::move(dir)) {}

  // The description stored under `key`, if there is a readable one. An entry that is not the
  // JSON object a store wrote (torn, edited, another version) counts as a miss.
  std::optional<std::string> find(const std::string& key) const;

  // Stores `description` under `key`: the directory is created 0700, the entry written to a
  // temporary file and renamed into place, so readers see the old entry or the whole new one.
  // A cache that cannot be written is not an error (returns false): inspection just reruns.
  bool store(const std::string& key, const std::string& description) const;

 private:
  std::string path_of(const std::string& key) const;
  std::string dir_;
};

}  // namespace krdc::workflow
