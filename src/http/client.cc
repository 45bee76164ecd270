#include "krdc/http/client.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <random>
#include <thread>

#include "curl_handles.h"
#include "krdc/http/form.h"
#include "krdc/http/retry.h"

namespace krdc::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string url_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Every value of the request that must never appear in an error we raise, even if a server
// were to echo it back: credential headers and form field values.
std::vector<std::string> secrets_of(const Request& req) {
  std::vector<std::string> out;
  for (const auto& [name, value] : req.headers) {
    if (iequals(name, "Authorization") || iequals(name, "Proxy-Authorization") || iequals(name, "Cookie")) {
      out.push_back(value);
      auto space = value.find(' ');
      if (space != std::string::npos) out.push_back(value.substr(space + 1));
    }
  }
  // Form bodies and query strings share the k=v&k=v shape; their values may be credentials.
  auto add_pairs = [&out](std::string_view body) {
    while (!body.empty()) {
      auto amp = body.find('&');
      auto pair = body.substr(0, amp);
      auto eq = pair.find('=');
      if (eq != std::string_view::npos) {
        out.push_back(std::string(pair.substr(eq + 1)));
        out.push_back(url_decode(pair.substr(eq + 1)));
      }
      if (amp == std::string_view::npos) break;
      body.remove_prefix(amp + 1);
    }
  };
  add_pairs(req.body);
  if (auto q = req.url.find('?'); q != std::string::npos) add_pairs(std::string_view(req.url).substr(q + 1));
  // Short values ("1", "token") are not secrets and redacting them would garble the message.
  std::erase_if(out, [](const std::string& s) { return s.size() < 8; });
  return out;
}

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos)) {
      text.replace(pos, secret.size(), "[redacted]");
    }
  }
  return text;
}

bool retryable_transport_error(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:  // handshake cut by a restarting server; cert problems have their own codes
      return true;
    default:
      return false;
  }
}

// A failure that certainly happened before any byte of the request left: the only kind a
// non-replayable request (Request::replayable) may be retried after. A timeout or a TLS
// handshake failure counts only when libcurl reports that nothing of the request was sent.
bool nothing_sent(CURLcode code, CURL* easy) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return true;
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR: {
      long sent = -1;
      return curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &sent) == CURLE_OK && sent == 0;
    }
    default:
      return false;
  }
}

std::atomic<bool> g_loopback_http{false};

// http://127.0.0.1, http://localhost, http://[::1], with or without a port: the unit tests'
// fake server. Only ever accepted under testing::allow_loopback_http.
bool is_loopback_http(std::string_view url) {
  for (std::string_view loop : {"http://127.0.0.1", "http://localhost", "http://[::1]"}) {
    if (url.starts_with(loop) && (url.size() == loop.size() || url[loop.size()] == ':' || url[loop.size()] == '/')) {
      return true;
    }
  }
  return false;
}

struct Transfer {
  CURL* easy = nullptr;
  Response* response = nullptr;
  const Client::ChunkFn* on_chunk = nullptr;  // null for request()
  const std::function<bool()>* cancelled = nullptr;
  std::size_t max_body = 0;
  bool delivered_any = false;
  bool stopped = false;
  bool was_cancelled = false;
  bool too_large = false;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    t->response->headers.clear();  // a new response (100-continue, proxy CONNECT): keep only the last
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    t->response->headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view chunk(data, size * n);
  long status = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  if (t->on_chunk && status >= 200 && status < 300) {
    t->delivered_any = true;
    if (!(*t->on_chunk)(chunk)) {
      t->stopped = true;
      return 0;  // makes libcurl abort with CURLE_WRITE_ERROR, which we map to a clean stop
    }
    return chunk.size();
  }
  if (t->response->body.size() + chunk.size() > t->max_body) {
    t->too_large = true;
    return 0;
  }
  t->response->body.append(chunk);
  return chunk.size();
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->cancelled && *t->cancelled && (*t->cancelled)()) {
    t->was_cancelled = true;
    return 1;
  }
  return 0;
}

// libcurl asks OpenSSL to free a connection's 17 KB read buffer whenever it is empty, so every
// read of a watch event allocated it again, and each such large allocation made glibc
// consolidate the heap's small free chunks (malloc_consolidate: 2.3% of a 100-Job run's
// samples, 0.9% after). A connection keeps its buffers instead (~34 KB each; an API client
// opens about a dozen connections).
CURLcode keep_tls_buffers(CURL*, void* ssl_ctx, void*) {
  SSL_CTX_clear_mode(static_cast<SSL_CTX*>(ssl_ctx), SSL_MODE_RELEASE_BUFFERS);
  return CURLE_OK;
}

}  // namespace

std::optional<std::string> Response::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return v;
  }
  return std::nullopt;
}

std::string server_message(std::string_view body) {
  constexpr std::size_t kMax = 300;
  std::string msg;
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object()) {
    for (const char* key : {"error_description", "message", "errorMessage", "error"}) {
      if (json.contains(key) && json[key].is_string() && !json[key].get<std::string>().empty()) {
        msg = json[key].get<std::string>();
        break;
      }
    }
  }
  if (msg.empty()) {
    std::string_view text = body;
    text = text.substr(0, text.find('\n'));
    msg = trim(text);
  }
  std::replace_if(msg.begin(), msg.end(), [](unsigned char c) { return std::iscntrl(c); }, ' ');
  if (msg.size() > kMax) msg = msg.substr(0, kMax) + "...";
  return msg;
}

struct Client::Impl {
  ClientOptions options;
  // The transfer runs in a multi handle of its own (not curl_easy_perform) so wake() can
  // interrupt its wait: a stopped watch ends at once instead of at the next progress tick.
  // Declared before `easy`, so it outlives it.
  detail::MultiHandle multi;
  detail::EasyHandle easy;
  std::mt19937_64 rng{std::random_device{}()};
  char errbuf[CURL_ERROR_SIZE] = {};

  void log(const std::string& line) const {
    if (options.log) options.log(line);
  }

  bool is_cancelled() const { return options.cancelled && options.cancelled(); }

  // Sleeps in slices so a cancellation (Ctrl-C) is honoured within ~100 ms.
  void sleep_for(std::chrono::milliseconds d, const std::string& what) {
    auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) {
      if (is_cancelled()) throw CancelledError(fmt::format("cancelled while waiting to retry {}", what));
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          std::chrono::milliseconds(100), until - std::chrono::steady_clock::now()));
    }
  }

  Response run(const Request& req, const ChunkFn* on_chunk) {
    const std::string what = fmt::format("{} {}", req.method, redact_url(req.url));
    if (!req.url.starts_with("https://") && !(testing::loopback_http_allowed() && is_loopback_http(req.url))) {
      throw InvalidInput(fmt::format("{}: not an https URL; refusing to send anything", what),
                         "krdc talks to hubs and clusters over TLS only: use their https URL");
    }
    const auto secrets = secrets_of(req);
    for (int attempt = 0;; ++attempt) {
      if (is_cancelled()) throw CancelledError(fmt::format("cancelled before {}", what));
      Response resp;
      Transfer t;
      t.easy = easy.get();
      t.response = &resp;
      t.on_chunk = on_chunk;
      t.cancelled = &options.cancelled;
      t.max_body = options.max_body_bytes;
      auto headers = setup(req, on_chunk != nullptr, t);
      const auto started = std::chrono::steady_clock::now();
      CURLcode rc = perform(t);
      // -v shows how long each call took: a slow hub or cluster is visible without a debugger.
      const auto took_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
      curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &resp.status);
      const bool can_retry = req.retry && attempt < options.max_retries && !t.delivered_any;

      if (rc != CURLE_OK) {
        if (t.was_cancelled) throw CancelledError(fmt::format("cancelled during {}", what));
        if (t.stopped) {
          resp.stopped = true;
          return resp;
        }
        if (t.too_large) {
          throw UnreachableError(fmt::format("{}: response body larger than {} bytes", what, options.max_body_bytes));
        }
        std::string detail = errbuf[0] ? std::string(errbuf) : curl_easy_strerror(rc);
        detail = redact(detail, secrets);
        if (can_retry && retryable_transport_error(rc) && (req.replayable || nothing_sent(rc, easy.get()))) {
          auto delay = backoff_delay(attempt, options.backoff_base, options.backoff_max, rng);
          log(fmt::format("{}: {} after {} ms (retry {}/{} in {} ms)", what, detail, took_ms, attempt + 1,
                          options.max_retries, delay.count()));
          sleep_for(delay, what);
          continue;
        }
        std::string hint;
        if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE) {
          hint = "check the CA bundle (--ca-file, KRDC_CA_FILE or caFile in the config); TLS verification is never disabled";
        }
        if (hint.empty() && attempt > 0) hint = fmt::format("gave up after {} attempts", attempt + 1);
        throw UnreachableError(fmt::format("{} failed: {}", what, detail), hint);
      }

      if (is_retryable_status(resp.status) && can_retry && req.replayable) {
        auto delay = backoff_delay(attempt, options.backoff_base, options.backoff_max, rng);
        if (resp.status == 429 || resp.status == 503) {
          if (auto ra = resp.header("Retry-After")) {
            if (auto wait = parse_retry_after(*ra)) delay = std::min(*wait, options.retry_after_max);
          }
        }
        log(fmt::format("{}: HTTP {} in {} ms (retry {}/{} in {} ms)", what, resp.status, took_ms, attempt + 1,
                        options.max_retries, delay.count()));
        sleep_for(delay, what);
        continue;
      }
      if (is_retryable_status(resp.status)) {
        std::string msg = redact(server_message(resp.body), secrets);
        throw UnreachableError(fmt::format("{}: HTTP {}{}{}", what, resp.status, msg.empty() ? "" : ": ", msg),
                               attempt > 0 ? fmt::format("gave up after {} attempts", attempt + 1) : "");
      }
      log(fmt::format("{}: HTTP {} in {} ms", what, resp.status, took_ms));
      return resp;
    }
  }

  // curl_easy_perform, but woken by wake() and re-checking `cancelled` after every wait.
  CURLcode perform(Transfer& t) {
    CURL* h = easy.get();
    if (CURLMcode mc = curl_multi_add_handle(multi.get(), h); mc != CURLM_OK) return CURLE_FAILED_INIT;
    struct Remove {
      CURLM* m;
      CURL* h;
      ~Remove() { curl_multi_remove_handle(m, h); }
    } remove{multi.get(), h};
    CURLcode result = CURLE_OK;
    for (int running = 1;;) {
      if (CURLMcode mc = curl_multi_perform(multi.get(), &running); mc != CURLM_OK) return CURLE_FAILED_INIT;
      if (!running) break;
      if (is_cancelled()) {
        t.was_cancelled = true;
        return CURLE_ABORTED_BY_CALLBACK;
      }
      // Timeouts stay libcurl's (CURLOPT_TIMEOUT_MS etc.); the 1 s cap only bounds how late a
      // cancellation that nobody woke us for is noticed.
      if (CURLMcode mc = curl_multi_poll(multi.get(), nullptr, 0, 1000, nullptr); mc != CURLM_OK) {
        return CURLE_FAILED_INIT;
      }
    }
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &left)) {
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == h) result = msg->data.result;
    }
    return result;
  }

  detail::Slist setup(const Request& req, bool streaming, Transfer& t) {
    CURL* h = easy.get();
    // reset clears options but keeps the connection, TLS-session and DNS caches: that is the reuse.
    curl_easy_reset(h);
    errbuf[0] = 0;
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, testing::loopback_http_allowed() ? "http,https" : "https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    // Not replayable: never on a reused connection, which libcurl would silently resend on.
    if (!req.replayable) curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // threads + timeouts: no SIGALRM
    // A Client carries one request at a time on its own connection, so HTTP/2's multiplexing
    // buys nothing here while its framing and flow control cost ~10% of a waiting run's CPU
    // (bench/kube, 5 interleaved pairs: 0.46 vs 0.52 s for 100 Jobs). Plain HTTP/1.1 it is.
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    if (options.share) curl_easy_setopt(h, CURLOPT_SHARE, static_cast<CURLSH*>(options.share->handle()));
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);  // never carry a bearer to another host
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, keep_tls_buffers);
    if (!options.ca_pem.empty()) {
      curl_blob ca{const_cast<char*>(options.ca_pem.data()), options.ca_pem.size(), CURL_BLOB_NOCOPY};
      curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
    } else if (!options.ca_file.empty()) {
      curl_easy_setopt(h, CURLOPT_CAINFO, options.ca_file.c_str());
    }
    if (!options.client_cert_pem.empty()) {
      curl_blob cert{const_cast<char*>(options.client_cert_pem.data()), options.client_cert_pem.size(), CURL_BLOB_NOCOPY};
      curl_blob key{const_cast<char*>(options.client_key_pem.data()), options.client_key_pem.size(), CURL_BLOB_NOCOPY};
      curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
      curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
      curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
    }
    curl_easy_setopt(h, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // whatever libcurl can decode
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
    auto total = req.timeout ? *req.timeout : (streaming ? std::chrono::milliseconds(0) : options.total_timeout);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(total.count()));
    if (streaming) {
      // A quiet watch is normal, but a dead peer must not hang us forever: TCP keepalive probes.
      curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
      curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
      curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 15L);
    }

    if (req.method == "GET") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (req.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    }

    detail::Slist list;
    for (const auto& [name, value] : req.headers) {
      std::string line = value.empty() ? name + ";" : name + ": " + value;
      curl_slist* grown = curl_slist_append(list.get(), line.c_str());
      if (!grown) throw std::bad_alloc();
      (void)list.release();
      list.reset(grown);
    }
    // libcurl adds "Expect: 100-continue" to large POSTs; servers that ignore it cost us a second.
    {
      curl_slist* grown = curl_slist_append(list.get(), "Expect:");
      if (!grown) throw std::bad_alloc();
      (void)list.release();
      list.reset(grown);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list.get());

    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    if (options.cancelled) {
      curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
      curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
    }
    return list;
  }
};

namespace testing {
bool allow_loopback_http(bool allow) { return g_loopback_http.exchange(allow); }
bool loopback_http_allowed() { return g_loopback_http.load(); }
}  // namespace testing

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>()) {
  if (!options.ca_file.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(options.ca_file, ec)) {
      throw UnreachableError(fmt::format("CA bundle {} does not exist or is not a file", options.ca_file),
                             "pass a PEM file with --ca-file, KRDC_CA_FILE or caFile in the config");
    }
  }
  impl_->options = std::move(options);
  impl_->multi.reset(curl_multi_init());
  impl_->easy.reset(curl_easy_init());
  if (!impl_->easy || !impl_->multi) throw UnreachableError("could not initialise libcurl");
}

Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

Response Client::request(const Request& request) { return impl_->run(request, nullptr); }

Response Client::request(std::string method, std::string url, Headers headers, std::string body) {
  Request r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.headers = std::move(headers);
  r.body = std::move(body);
  return request(r);
}

Response Client::stream(const Request& request, const ChunkFn& on_chunk) { return impl_->run(request, &on_chunk); }

const ClientOptions& Client::options() const { return impl_->options; }

void Client::wake() {
  if (impl_ && impl_->multi) curl_multi_wakeup(impl_->multi.get());
}

}  // namespace krdc::http
