#pragma once
// The one HTTP client every network part of krdc uses (hub/OIDC, Kubernetes API, logs, watches).
//
// One Client owns one libcurl easy handle and reuses it for every request, so connections,
// TLS sessions and DNS answers are kept between requests (a watch + a dozen GETs to one API
// server cost one TLS handshake). A Client is NOT thread-safe: give each thread (or each
// long-lived stream such as a watch) its own Client; they are cheap to construct.
//
// Only https: every request may carry a token, so libcurl is limited to https (redirects too,
// and none are followed); an http:// URL is refused before anything is sent.
//
// Failures: transport errors, 429 and 5xx are retried with jittered exponential backoff
// (429/503 honour Retry-After); when retries are exhausted an UnreachableError is thrown
// carrying the server's message (a request marked not replayable is retried far less: see
// Request::replayable). Other statuses (2xx, 3xx, 4xx) are returned to the caller,
// who knows what a 401 or 404 means. Error messages never contain request headers (e.g.
// Authorization), request bodies (e.g. form secrets) or URL query strings.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "krdc/http/session_share.h"
#include "krdc/util/errors.h"

namespace krdc::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Thrown when the cancellation predicate turned true during a transfer or a backoff sleep.
class CancelledError : public Interrupted {
 public:
  explicit CancelledError(const std::string& message) : Interrupted(message) {}
};

struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;     // e.g. {"Authorization", "Bearer ..."}: never logged nor echoed in errors
  std::string body;    // sent as-is; set Content-Type in headers
  // Retry on transport errors / 429 / 5xx. Turn off for non-idempotent calls whose duplicate
  // would do harm and that the caller cannot reconcile (e.g. a POST without a fixed name).
  bool retry = true;
  // False for non-idempotent calls whose duplicate would do harm and that the caller could not
  // even notice, e.g. an OAuth token POST (with refresh-token rotation a refresh sent twice
  // ends the session): such a request goes on a fresh connection (libcurl silently resends on
  // a reused one that died) and is retried only when it certainly never reached the server
  // (name resolution or connect failed, nothing sent); never after a 5xx, a dropped
  // connection or a timeout mid-request. client-go never retries such writes either.
  bool replayable = true;
  // Overrides ClientOptions::total_timeout for this request; zero means "no limit"
  // (the default for stream()).
  std::optional<std::chrono::milliseconds> timeout;
};

struct Response {
  long status = 0;
  Headers headers;     // response headers of the final response, names as sent by the server
  std::string body;    // whole body (request), or the error body of a non-2xx stream()
  bool stopped = false;  // stream(): the chunk callback asked to stop

  // Case-insensitive lookup of the first header with that name.
  std::optional<std::string> header(std::string_view name) const;
  bool ok() const { return status >= 200 && status < 300; }
};

struct ClientOptions {
  std::string ca_file;  // extra/custom CA bundle (PEM); empty = system trust store. TLS is always verified.
  // In-memory PEMs (kubeconfig *-data fields): a CA bundle used instead of ca_file, and a TLS
  // client certificate + key. Kept in memory so key material never lands in a temp file.
  std::string ca_pem;
  std::string client_cert_pem;
  std::string client_key_pem;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds total_timeout{60'000};  // per attempt, for request()
  int max_retries = 4;                              // retries after the first attempt
  std::chrono::milliseconds backoff_base{500};      // first retry waits ~base, then doubles
  std::chrono::milliseconds backoff_max{30'000};
  std::chrono::milliseconds retry_after_max{120'000};  // cap on a server's Retry-After
  std::size_t max_body_bytes = 256u << 20;          // larger bodies are a protocol error
  // Checked before each attempt, during a transfer (at once after Client::wake(), else at least
  // once a second) and during backoff sleeps; returning true aborts with CancelledError.
  // Must be thread-safe if shared.
  std::function<bool()> cancelled;
  // Diagnostics sink (-v): method, URL without query, status, attempt. Never headers/bodies.
  std::function<void(std::string_view)> log;
  std::string user_agent = "krdc";
  // Optional: TLS sessions and DNS shared with other Clients (e.g. an API client's pool).
  std::shared_ptr<SessionShare> share;
};

// A short, single-line human message from an error body: a JSON body's error_description /
// message / error field, else the first line of text, truncated. Used in every error we raise
// about a server's answer, so the user sees what the server said.
std::string server_message(std::string_view body);

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One request; the whole body is collected. See the file comment for failure semantics.
  Response request(const Request& request);
  Response request(std::string method, std::string url, Headers headers = {}, std::string body = {});

  // Streaming: while the status is 2xx, body bytes are handed to on_chunk as they arrive
  // (arbitrary boundaries; the caller frames lines/events). on_chunk returns false to stop the
  // transfer cleanly (Response::stopped). A non-2xx body is collected into Response::body instead.
  // Retries happen only before the first chunk was delivered; a connection lost mid-stream throws
  // UnreachableError so the caller can resume (e.g. a watch from its last resourceVersion).
  using ChunkFn = std::function<bool(std::string_view chunk)>;
  Response stream(const Request& request, const ChunkFn& on_chunk);

  const ClientOptions& options() const;

  // Thread-safe (the one exception): makes a transfer in progress re-check `cancelled` now
  // instead of within a second. Stopping a watch or a log stream calls this.
  void wake();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Unit tests only: lets Clients (and the hub URL check, auth::is_acceptable_hub_url) use plain
// http to a loopback host, for the in-process fake server of tests/unit/support. Process-wide;
// returns the previous setting. Nothing in the CLI, the environment or the config reaches it.
namespace testing {
bool allow_loopback_http(bool allow);
bool loopback_http_allowed();
}  // namespace testing

}  // namespace krdc::http
