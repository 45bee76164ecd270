// HTTP client: connection reuse, retry policy (500-then-recover, 429 Retry-After, dropped
// connections, never on 4xx), secret-free errors, streaming and cancellation, against the
// fault-injecting loopback server.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "krdc/http/client.h"
#include "krdc/http/form.h"
#include "krdc/http/retry.h"
#include "krdc/util/interrupts.h"
#include "support/fake_http_server.h"

using krdc::http::Client;
using krdc::http::ClientOptions;
using krdc::test::FakeHttpServer;
using krdc::test::FakeReply;
using krdc::test::FakeRequest;
using namespace std::chrono_literals;

namespace {
// What a careless server might send back: everything it received.
std::string nlohmann_free_echo(const FakeRequest& req) {
  std::string all = "echo: " + req.target + " " + req.body;
  for (const auto& [n, v] : req.headers) all += " " + n + "=" + v;
  return "{\"message\":\"" + all + "\"}";
}

ClientOptions fast_options() {
  ClientOptions o;
  o.backoff_base = 10ms;
  o.backoff_max = 50ms;
  o.max_retries = 3;
  o.total_timeout = 5s;
  return o;
}
}  // namespace

TEST_CASE("http: one connection is reused across requests") {
  FakeHttpServer server([](const FakeRequest&) { return FakeReply::json(200, R"({"ok":true})"); });
  Client client(fast_options());
  for (int i = 0; i < 3; ++i) {
    auto r = client.request("GET", server.url() + "/x");
    CHECK(r.status == 200);
    CHECK(r.body == R"({"ok":true})");
    CHECK(r.header("content-type") == "application/json");
  }
  CHECK(server.connections() == 1);
}

TEST_CASE("http: a server answering 500 twice then recovering is retried to success") {
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const FakeRequest&) {
    return ++calls <= 2 ? FakeReply::json(500, R"({"error":"boom"})") : FakeReply::json(200, "{}");
  });
  Client client(fast_options());
  auto r = client.request("GET", server.url() + "/");
  CHECK(r.status == 200);
  CHECK(calls == 3);
}

TEST_CASE("http: 429 honours Retry-After") {
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const FakeRequest&) {
    if (++calls == 1) {
      FakeReply r = FakeReply::json(429, R"({"message":"slow down"})");
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    return FakeReply::json(200, "{}");
  });
  Client client(fast_options());
  auto t0 = std::chrono::steady_clock::now();
  auto r = client.request("GET", server.url() + "/");
  auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(r.status == 200);
  CHECK(calls == 2);
  CHECK(waited >= 900ms);  // backoff alone would be ~10 ms
}

TEST_CASE("http: other 4xx are returned at once, never retried") {
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const FakeRequest&) {
    ++calls;
    return FakeReply::json(400, R"({"error":"invalid_grant"})");
  });
  Client client(fast_options());
  CHECK(client.request("POST", server.url() + "/token", {}, "a=b").status == 400);
  CHECK(calls == 1);
}

TEST_CASE("http: a dropped connection is retried") {
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const FakeRequest&) {
    FakeReply r = FakeReply::json(200, "{}");
    r.drop = ++calls == 1;
    return r;
  });
  Client client(fast_options());
  CHECK(client.request("GET", server.url() + "/").status == 200);
  CHECK(calls == 2);
}

TEST_CASE("http: exhausted retries raise UnreachableError with the server's words but no secrets") {
  // The server echoes everything it got, as a badly written one might.
  FakeHttpServer server([](const FakeRequest& req) {
    return FakeReply::json(503, nlohmann_free_echo(req));
  });
  auto opts = fast_options();
  opts.max_retries = 1;
  Client client(opts);
  krdc::http::Request req;
  req.method = "POST";
  req.url = server.url() + "/token?code=querysecret123";
  req.headers = {{"Authorization", "Bearer supersecretbearer"}};
  req.body = "client_secret=formsecret456&grant_type=x";
  try {
    client.request(req);
    FAIL("expected UnreachableError");
  } catch (const krdc::UnreachableError& e) {
    std::string msg = e.what();
    CHECK(msg.find("HTTP 503") != std::string::npos);
    CHECK(msg.find("echo:") != std::string::npos);
    CHECK(msg.find("supersecretbearer") == std::string::npos);
    CHECK(msg.find("formsecret456") == std::string::npos);
    CHECK(msg.find("querysecret123") == std::string::npos);
    CHECK(e.code() == krdc::ExitCode::kUnreachable);
  }
}

TEST_CASE("http: nothing listening is UnreachableError after retries") {
  int port;
  { FakeHttpServer s([](const FakeRequest&) { return FakeReply{}; }); port = s.port(); }
  Client client(fast_options());
  CHECK_THROWS_AS(client.request("GET", "http://127.0.0.1:" + std::to_string(port) + "/"), krdc::UnreachableError);
}

TEST_CASE("http: stream delivers chunks and can be stopped by the callback") {
  FakeHttpServer server([](const FakeRequest&) {
    FakeReply r;
    r.chunks = {"line1\n", "line2\n", "line3\n", "line4\n"};
    r.chunk_delay = 20ms;
    return r;
  });
  Client client(fast_options());
  krdc::http::Request req;
  req.url = server.url() + "/watch";
  std::string got;
  auto r = client.stream(req, [&](std::string_view chunk) {
    got += chunk;
    return got.find("line2\n") == std::string::npos;
  });
  CHECK(r.status == 200);
  CHECK(r.stopped);
  CHECK(got.find("line1\nline2\n") == 0);

  std::string all;
  auto r2 = client.stream(req, [&](std::string_view chunk) { all += chunk; return true; });
  CHECK_FALSE(r2.stopped);
  CHECK(all == "line1\nline2\nline3\nline4\n");
}

TEST_CASE("http: a non-2xx stream collects the error body instead of streaming it") {
  FakeHttpServer server([](const FakeRequest&) { return FakeReply::json(410, R"({"message":"too old"})"); });
  Client client(fast_options());
  krdc::http::Request req;
  req.url = server.url() + "/watch";
  bool called = false;
  auto r = client.stream(req, [&](std::string_view) { called = true; return true; });
  CHECK(r.status == 410);
  CHECK_FALSE(called);
  CHECK(krdc::http::server_message(r.body) == "too old");
}

TEST_CASE("http: the cancellation predicate aborts a slow transfer") {
  FakeHttpServer server([](const FakeRequest&) {
    FakeReply r = FakeReply::json(200, "{}");
    r.delay = 3s;
    return r;
  });
  auto opts = fast_options();
  auto start = std::chrono::steady_clock::now();
  opts.cancelled = [start] { return std::chrono::steady_clock::now() - start > 300ms; };
  Client client(opts);
  CHECK_THROWS_AS(client.request("GET", server.url() + "/"), krdc::http::CancelledError);
  CHECK(std::chrono::steady_clock::now() - start < 2500ms);
}

TEST_CASE("http: Ctrl-C (the process-wide abort token) ends a retry loop within a second, as exit 130") {
  std::atomic<int> answered{0};
  FakeHttpServer server([&](const FakeRequest&) {
    ++answered;
    return FakeReply::json(503, R"({"message":"down"})");
  });
  krdc::util::Interrupts interrupts;
  auto opts = fast_options();
  opts.backoff_base = 5s;  // long waits between attempts: only the interrupt can end this soon
  opts.backoff_max = 5s;
  opts.max_retries = 6;
  opts.cancelled = interrupts.abort_predicate();
  Client client(opts);
  std::chrono::steady_clock::time_point signalled{};
  std::thread watcher([&] {
    // Readiness: the first attempt has been answered, so the client is retrying (bounded wait).
    for (int i = 0; i < 1000 && answered.load() == 0; ++i) std::this_thread::sleep_for(5ms);
    signalled = std::chrono::steady_clock::now();
    interrupts.on_signal(SIGINT, 1);
  });
  bool cancelled = false;
  try {
    client.request("GET", server.url() + "/");
  } catch (const krdc::http::CancelledError& e) {
    cancelled = true;
    CHECK(e.code() == krdc::ExitCode::kInterrupted);
  }
  const auto ended = std::chrono::steady_clock::now();
  watcher.join();
  CHECK(cancelled);
  CHECK(answered.load() == 1);
  CHECK(ended - signalled < 1s);
}

TEST_CASE("http: a missing CA bundle is a clear error, not silently the system store") {
  ClientOptions o;
  o.ca_file = "/nonexistent/ca.pem";
  CHECK_THROWS_AS(Client{o}, krdc::UnreachableError);
}

TEST_CASE("http: Retry-After parsing") {
  using krdc::http::parse_retry_after;
  CHECK(parse_retry_after("5") == 5000ms);
  CHECK(parse_retry_after(" 0 ") == 0ms);
  CHECK_FALSE(parse_retry_after("soon").has_value());
  auto now = std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now) == 10000ms);
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:27 GMT", now) == 0ms);
}

TEST_CASE("http: backoff grows, is jittered and capped") {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 50; ++i) {
    auto d0 = krdc::http::backoff_delay(0, 100ms, 1000ms, rng);
    CHECK(d0 >= 50ms);
    CHECK(d0 <= 100ms);
    auto d3 = krdc::http::backoff_delay(3, 100ms, 1000ms, rng);
    CHECK(d3 >= 400ms);
    CHECK(d3 <= 800ms);
    CHECK(krdc::http::backoff_delay(20, 100ms, 1000ms, rng) <= 1000ms);
  }
  CHECK(krdc::http::is_retryable_status(429));
  CHECK(krdc::http::is_retryable_status(502));
  CHECK_FALSE(krdc::http::is_retryable_status(401));
  CHECK_FALSE(krdc::http::is_retryable_status(404));
}

TEST_CASE("http: form encoding and URL redaction") {
  CHECK(krdc::http::form_encode({{"a", "x y"}, {"b", "1&2=3"}}) == "a=x%20y&b=1%262%3D3");
  CHECK(krdc::http::with_query("https://h/p", {{"watch", "true"}}) == "https://h/p?watch=true");
  CHECK(krdc::http::with_query("https://h/p?a=1", {{"b", "2"}}) == "https://h/p?a=1&b=2");
  CHECK(krdc::http::redact_url("https://user:pw@h:1/p?token=x#f") == "https://h:1/p");
}

// Security review (issue 12): every request may carry a token, so only https leaves krdc. The
// unit tests' plain-http fake is reachable only through the test-only opt-in, turned off here.
TEST_CASE("http: a URL that is not https is refused before anything is sent") {
  FakeHttpServer server([](const FakeRequest&) { return FakeReply::json(200, "{}"); });
  const bool before = krdc::http::testing::allow_loopback_http(false);
  Client client(fast_options());
  for (std::string url : {server.url() + "/token", std::string("ftp://127.0.0.1/x"), std::string("file:///etc/passwd"),
                          "HTTP://127.0.0.1:" + std::to_string(server.port()) + "/"}) {
    CAPTURE(url);
    CHECK_THROWS_AS(client.request("POST", url, {{"Authorization", "Bearer secret-bearer-token"}}, "a=b"),
                    krdc::InvalidInput);
  }
  krdc::http::testing::allow_loopback_http(before);
  CHECK(server.connections() == 0);
  // Only loopback hosts, even with the opt-in.
  CHECK_THROWS_AS(client.request("GET", "http://example.invalid/"), krdc::InvalidInput);
}

// Token POSTs (refresh with rotation, device code, exchange) must not be resent once they may
// have reached the server: Request::replayable = false.
TEST_CASE("http: a non-replayable POST is never resent after a 5xx or a dropped connection") {
  for (bool drop : {false, true}) {
    CAPTURE(drop);
    std::atomic<int> calls{0};
    FakeHttpServer server([&](const FakeRequest&) {
      ++calls;
      FakeReply r = FakeReply::json(503, R"({"error":"temporarily_unavailable"})");
      r.drop = drop;
      return r;
    });
    Client client(fast_options());
    krdc::http::Request req;
    req.method = "POST";
    req.url = server.url() + "/token";
    req.body = "grant_type=refresh_token&refresh_token=rotating-refresh-token";
    req.replayable = false;
    CHECK_THROWS_AS(client.request(req), krdc::UnreachableError);
    CHECK(calls == 1);
    // The same POST, replayable, is retried (max_retries = 3).
    req.replayable = true;
    calls = 0;
    CHECK_THROWS_AS(client.request(req), krdc::UnreachableError);
    CHECK(calls == 4);
  }
}

TEST_CASE("http: a non-replayable POST goes on a fresh connection and is retried when it never left") {
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const FakeRequest&) {
    ++calls;
    return FakeReply::json(200, "{}");
  });
  Client client(fast_options());
  CHECK(client.request("GET", server.url() + "/").status == 200);
  krdc::http::Request req;
  req.method = "POST";
  req.url = server.url() + "/token";
  req.replayable = false;
  CHECK(client.request(req).status == 200);
  CHECK(server.connections() == 2);  // libcurl resends on a reused connection that died: never on one

  int port;
  { FakeHttpServer s([](const FakeRequest&) { return FakeReply{}; }); port = s.port(); }
  auto opts = fast_options();
  std::vector<std::string> lines;
  opts.log = [&lines](std::string_view l) { lines.emplace_back(l); };
  Client refused(opts);
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/token";
  CHECK_THROWS_AS(refused.request(req), krdc::UnreachableError);
  CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return l.find("retry") != std::string::npos; }) == 3);
}
