#include "krdc/workflow/inspect_cache.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "krdc/util/digest.h"

namespace krdc::workflow {

namespace fs = std::filesystem;

namespace {

// Creates every missing directory of `dir` private to the user (the XDG cache directories are
// 0700 by specification, and a derived interface tells what a user's programs take).
bool make_private_dirs(const fs::path& dir) {
  fs::path so_far;
  for (const auto& part : dir) {
    so_far /= part;
    std::error_code ec;
    if (fs::is_directory(so_far, ec)) continue;
    if (mkdir(so_far.c_str(), 0700) != 0 && errno != EEXIST) return false;
  }
  return true;
}

// Closes the descriptor and removes the temporary file unless it was renamed into place.
struct PendingFile {
  std::string path;
  int fd = -1;
  bool kept = false;
  ~PendingFile() {
    if (fd >= 0) close(fd);
    if (!kept && !path.empty()) unlink(path.c_str());
  }
};

}  // namespace

std::string default_inspect_cache_dir(const char* xdg_cache_home, const char* home) {
  // XDG: a relative value is invalid and must be ignored.
  if (xdg_cache_home && xdg_cache_home[0] == '/') return (fs::path(xdg_cache_home) / "krdc" / "apps").string();
  if (home && home[0] == '/') return (fs::path(home) / ".cache" / "krdc" / "apps").string();
  return "";
}

std::string inspect_cache_key(const std::string& program_bytes, const std::string& shim_digest) {
  return util::sha256_digest(shim_digest + "\n" + program_bytes);
}

std::string InspectCache::path_of(const std::string& key) const {
  const auto colon = key.find(':');
  return (fs::path(dir_) / (key.substr(colon == std::string::npos ? 0 : colon + 1) + ".json")).string();
}

std::optional<std::string> InspectCache::find(const std::string& key) const {
  if (dir_.empty()) return std::nullopt;
  std::ifstream in(path_of(key), std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  const auto entry = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!entry.is_object() || entry.value("key", "") != key || !entry.contains("description") ||
      !entry["description"].is_object() || !entry["description"].contains("actions") ||
      !entry["description"]["actions"].is_array()) {
    return std::nullopt;
  }
  return entry["description"].dump();
}

bool InspectCache::store(const std::string& key, const std::string& description) const {
  if (dir_.empty() || !make_private_dirs(dir_)) return false;
  const auto parsed = nlohmann::json::parse(description, nullptr, false);
  if (!parsed.is_object()) return false;
  const std::string bytes = nlohmann::json{{"key", key}, {"description", parsed}}.dump() + "\n";
  PendingFile tmp;
  tmp.path = (fs::path(dir_) / ".entry-XXXXXX").string();
  tmp.fd = mkstemp(tmp.path.data());  // 0600
  if (tmp.fd < 0) {
    tmp.path.clear();
    return false;
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(tmp.fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  if (fsync(tmp.fd) != 0) return false;
  if (rename(tmp.path.c_str(), path_of(key).c_str()) != 0) return false;
  tmp.kept = true;
  return true;
}

}  // namespace krdc::workflow
