#include "krdc/auth/token_cache.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "krdc/http/client.h"
#include "krdc/util/errors.h"

namespace krdc::auth {

namespace {

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

std::string sha256_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < len; ++i) out += fmt::format("{:02x}", digest[i]);
  return out;
}

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& p) {
  throw AuthError(fmt::format("token cache: {} {}: {}", what, p.string(), std::strerror(errno)));
}

void write_all(int fd, const std::string& data, const std::filesystem::path& p) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("cannot write", p);
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace

TokenCache::TokenCache(std::filesystem::path dir) : dir_(std::move(dir)) {}

std::filesystem::path TokenCache::default_dir(const config::Env& env) {
  if (auto xdg = env("XDG_CACHE_HOME")) return std::filesystem::path(*xdg) / "krdc";
  if (auto home = env("HOME")) return std::filesystem::path(*home) / ".cache" / "krdc";
  throw AuthError("cannot place the token cache: neither XDG_CACHE_HOME nor HOME is set");
}

std::filesystem::path TokenCache::file_for(const std::string& issuer, const std::string& client_id) const {
  // Hash: issuer URLs contain '/', ':' and can be long; the file records both in clear.
  return dir_ / ("session-" + sha256_hex(issuer + "\n" + client_id).substr(0, 32) + ".json");
}

void TokenCache::ensure_dir() const {
  std::error_code ec;
  std::filesystem::create_directories(dir_.parent_path(), ec);  // ~/.cache itself: normal perms
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) fail("cannot create directory", dir_);
  struct stat st {};
  if (::lstat(dir_.c_str(), &st) != 0) fail("cannot inspect directory", dir_);
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) {
    throw AuthError(fmt::format("token cache: {} is not a directory owned by you", dir_.string()),
                    "remove it; krdc will recreate it with mode 0700");
  }
  // Our own directory with loose permissions (e.g. made by an old tool): tighten, don't refuse.
  if ((st.st_mode & 0777) != 0700 && ::chmod(dir_.c_str(), 0700) != 0) fail("cannot chmod 0700", dir_);
}

std::optional<TokenSet> TokenCache::load(const std::string& issuer, const std::string& client_id) const {
  auto path = file_for(issuer, client_id);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::nullopt;
    fail("cannot open", path);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail("cannot inspect", path);
  if (st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
    throw AuthError(fmt::format("token cache file {} is accessible by other users (mode {:o}); refusing to use it",
                                path.string(), st.st_mode & 0777),
                    fmt::format("delete it (rm {}) and run krdc login again; consider the session compromised",
                                path.string()));
  }
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot read", path);
    text.append(buf, static_cast<size_t>(n));
  }
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || j.value("issuer", "") != issuer || j.value("client_id", "") != client_id ||
      !j.contains("tokens")) {
    return std::nullopt;  // foreign or corrupt: treated as "not logged in", overwritten at next login
  }
  return token_set_from_json(j["tokens"]);
}

void TokenCache::store(const std::string& issuer, const std::string& client_id, const TokenSet& tokens) const {
  ensure_dir();
  auto path = file_for(issuer, client_id);
  std::string tmpl = (dir_ / ".session-XXXXXX").string();
  // mkstemp creates the file 0600 (O_EXCL): the secret is never briefly world-readable.
  UniqueFd fd(::mkstemp(tmpl.data()));
  if (fd.get() < 0) fail("cannot create a temporary file in", dir_);
  const std::string tmp = tmpl;
  try {
    nlohmann::json j{{"issuer", issuer}, {"client_id", client_id}, {"tokens", to_json(tokens)}};
    write_all(fd.get(), j.dump() + "\n", tmp);
    if (::fchmod(fd.get(), 0600) != 0 || ::fsync(fd.get()) != 0) fail("cannot sync", tmp);
    if (::close(fd.release()) != 0) fail("cannot close", tmp);
    if (::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot rename into", path);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  UniqueFd dfd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() >= 0) ::fsync(dfd.get());  // make the rename durable
}

TokenCache::Lock::~Lock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

TokenCache::Lock TokenCache::lock(const std::string& issuer, const std::string& client_id,
                                  std::chrono::milliseconds wait, const std::function<bool()>& cancelled) const {
  ensure_dir();
  auto path = file_for(issuer, client_id);
  path += ".lock";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) fail("cannot open", path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail("cannot inspect", path);
  if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
    throw AuthError(fmt::format("token cache: {} is not a file owned by you", path.string()), "remove it");
  }
  // Polled rather than blocking: a signal never interrupts flock here (signals are blocked in
  // every thread but the watcher's), and Ctrl-C must still be honoured.
  const auto until = std::chrono::steady_clock::now() + wait;
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) fail("cannot lock", path);
    if (cancelled && cancelled()) throw http::CancelledError("cancelled while waiting for the token cache lock");
    if (std::chrono::steady_clock::now() >= until) {
      throw AuthError(fmt::format("token cache: another krdc has held {} for too long", path.string()),
                      "is a krdc process stuck? it may be refreshing the session; try again");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Lock(fd.release());
}

bool TokenCache::remove(const std::string& issuer, const std::string& client_id) const {
  auto path = file_for(issuer, client_id);
  if (::unlink(path.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  fail("cannot delete", path);
}

}  // namespace krdc::auth
