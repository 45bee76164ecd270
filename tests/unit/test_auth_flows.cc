// Login flows against a fake hub on loopback: discovery through a 500-then-recover hub, the
// device grant's polling rules (authorization_pending, slow_down +5 s, expired_token,
// access_denied), the token cache's file permissions, session refresh, and authorisation
// (local audience check, remote token exchange) with its per-step messages.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "krdc/auth/authorize.h"
#include "krdc/auth/device_flow.h"
#include "krdc/auth/hub_session.h"
#include "krdc/auth/token_cache.h"
#include "krdc/http/form.h"
#include "support/fake_http_server.h"
#include "support/test_keys.h"

using namespace krdc::auth;
using krdc::test::FakeReply;
using krdc::test::FakeRequest;
using namespace std::chrono_literals;

namespace {

std::map<std::string, std::string> parse_form(const std::string& body) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= body.size()) {
    auto amp = body.find('&', pos);
    auto pair = body.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    auto eq = pair.find('=');
    if (eq != std::string::npos) {
      std::string v = pair.substr(eq + 1), dec;
      for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '%' && i + 2 < v.size()) {
          dec.push_back(static_cast<char>(std::stoi(v.substr(i + 1, 2), nullptr, 16)));
          i += 2;
        } else {
          dec.push_back(v[i] == '+' ? ' ' : v[i]);
        }
      }
      out[pair.substr(0, eq)] = dec;
    }
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return out;
}

// A scripted OIDC hub. `device_script` is the sequence of answers to device-code polls.
struct FakeHub {
  krdc::test::TestKey key{"hub-key"};
  std::mutex mu;
  int discovery_failures = 0;  // answer 500 this many times first
  std::vector<std::string> device_script;
  std::vector<std::string> grants;  // grant_type of every token request
  std::set<std::string> allowed_audiences{"krdc-kisti", "krdc-unist"};
  std::vector<std::string> user_aud{"krdc-kisti"};
  long long access_lifetime = 300;
  std::atomic<int> revoked{0};
  int token_failures = 0;           // answer 503 to this many token POSTs first
  bool rotate = false;              // a refresh token is spent once used (Keycloak's "revoke refresh token")
  std::set<std::string> spent;
  std::chrono::milliseconds refresh_delay{0};
  std::unique_ptr<krdc::test::FakeHttpServer> server;

  FakeHub() {
    server = std::make_unique<krdc::test::FakeHttpServer>([this](const FakeRequest& r) { return handle(r); });
  }
  std::string issuer() const { return server->url(); }

  std::string access_token(const std::vector<std::string>& aud) {
    return key.sign({{"iss", issuer()}, {"sub", "u-1"}, {"preferred_username", "alice"}, {"aud", aud},
                     {"azp", "krdc-cli"}, {"groups", {"kisti-users"}}, {"exp", krdc::test::epoch_in(std::chrono::seconds(access_lifetime))},
                     {"iat", krdc::test::epoch_in(0s)}, {"jti", "j"}});
  }

  FakeReply tokens(const std::vector<std::string>& aud) {
    nlohmann::json j{{"access_token", access_token(aud)}, {"refresh_token", "refresh-" + std::to_string(grants.size())},
                     {"token_type", "Bearer"}, {"expires_in", access_lifetime}, {"refresh_expires_in", 1800}};
    return FakeReply::json(200, j.dump());
  }

  static FakeReply oauth_error(const std::string& error, const std::string& desc = "") {
    return FakeReply::json(400, nlohmann::json{{"error", error}, {"error_description", desc}}.dump());
  }

  FakeReply handle(const FakeRequest& r) {
    std::lock_guard lock(mu);
    const std::string base = "http://" + r.headers.at("host");
    if (r.target == "/.well-known/openid-configuration") {
      if (discovery_failures-- > 0) return FakeReply::json(500, R"({"error":"starting up"})");
      return FakeReply::json(200, nlohmann::json{{"issuer", base},
                                                 {"token_endpoint", base + "/token"},
                                                 {"device_authorization_endpoint", base + "/device"},
                                                 {"revocation_endpoint", base + "/revoke"},
                                                 {"jwks_uri", base + "/certs"}}
                                      .dump());
    }
    if (r.target == "/certs") return FakeReply::json(200, nlohmann::json{{"keys", {key.jwk}}}.dump());
    if (r.target == "/device") {
      return FakeReply::json(200, R"({"device_code":"dev-code","user_code":"ABCD-EFGH","verification_uri":")" + base +
                                      R"(/activate","verification_uri_complete":")" + base +
                                      R"(/activate?code=ABCD-EFGH","expires_in":600,"interval":1})");
    }
    if (r.target == "/revoke") {
      ++revoked;
      return FakeReply::json(200, "");
    }
    if (r.target == "/token") {
      auto form = parse_form(r.body);
      grants.push_back(form["grant_type"]);
      if (token_failures > 0) {
        --token_failures;
        return FakeReply::json(503, R"({"error":"temporarily_unavailable"})");
      }
      if (form["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code") {
        if (form["code_verifier"].empty()) return oauth_error("invalid_request", "PKCE verifier missing");
        std::string next = device_script.empty() ? "ok" : device_script.front();
        if (!device_script.empty()) device_script.erase(device_script.begin());
        return next == "ok" ? tokens(user_aud) : oauth_error(next);
      }
      if (form["grant_type"] == "refresh_token") {
        if (rotate && !spent.insert(form["refresh_token"]).second) return oauth_error("invalid_grant", "Stale token");
        if (refresh_delay.count() > 0) {
          FakeReply slow = tokens(user_aud);
          slow.delay = refresh_delay;
          return slow;
        }
        if (form["refresh_token"] == "client-refused") return oauth_error("invalid_client", "Invalid client credentials");
        return form["refresh_token"].starts_with("refresh-") ? tokens(user_aud) : oauth_error("invalid_grant", "Token is not active");
      }
      if (form["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange") {
        if (form["subject_token_type"] != "urn:ietf:params:oauth:token-type:access_token") return oauth_error("invalid_request");
        if (!allowed_audiences.count(form["audience"])) return oauth_error("invalid_request", "Requested audience not available");
        return tokens({form["audience"]});
      }
      if (form["grant_type"] == "client_credentials") return tokens(user_aud);
    }
    return FakeReply::json(404, R"({"error":"not found"})");
  }
};

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/krdc-auth-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

std::shared_ptr<Hub> make_hub(const FakeHub& fake) {
  krdc::config::HubSettings s;
  s.issuer = fake.issuer();
  s.client_id = "krdc-cli";
  s.client_secret = "cli-secret-value";
  krdc::http::ClientOptions o;
  o.backoff_base = 10ms;
  o.backoff_max = 20ms;
  return std::make_shared<Hub>(s, o);
}

// A session of a completed device login (no real waiting) against the fake hub.
std::shared_ptr<HubSession> logged_in(const std::shared_ptr<Hub>& hub, const TempDir& tmp) {
  return HubSession::start(hub, TokenCache(tmp.path / "krdc"),
                           run_device_flow(*hub, DeviceFlowOptions{"openid", {}, [](std::chrono::seconds) {}, {}}),
                           HubSession::Kind::kLogin);
}

DeviceFlowOptions recording(std::vector<long long>& sleeps, DeviceAuthorization* shown = nullptr) {
  DeviceFlowOptions o;
  o.sleep = [&sleeps](std::chrono::seconds d) { sleeps.push_back(d.count()); };
  o.on_prompt = [shown](const DeviceAuthorization& d) {
    if (shown) *shown = d;
  };
  return o;
}

}  // namespace

TEST_CASE("auth: device flow survives a hub answering 500 then honours pending and slow_down") {
  FakeHub fake;
  fake.discovery_failures = 2;
  fake.device_script = {"authorization_pending", "slow_down", "authorization_pending", "ok"};
  auto hub = make_hub(fake);
  std::vector<long long> sleeps;
  DeviceAuthorization shown;
  TokenSet t = run_device_flow(*hub, recording(sleeps, &shown));
  CHECK_FALSE(t.access_token.empty());
  CHECK(shown.user_code == "ABCD-EFGH");
  CHECK(shown.verification_uri_complete.find("code=ABCD-EFGH") != std::string::npos);
  // interval 1, then +5 after slow_down, kept afterwards.
  CHECK(sleeps == std::vector<long long>{1, 1, 6, 6});
  CHECK(hub->verify(t.access_token).username == "alice");
}

TEST_CASE("auth: expired_token and access_denied end the device flow with the documented messages") {
  for (auto [script, message] : std::vector<std::pair<std::string, std::string>>{
           {"expired_token", kDeviceExpiredMessage}, {"access_denied", kDeviceDeniedMessage}}) {
    FakeHub fake;
    fake.device_script = {"authorization_pending", script};
    auto hub = make_hub(fake);
    std::vector<long long> sleeps;
    try {
      run_device_flow(*hub, recording(sleeps));
      FAIL("expected AuthError");
    } catch (const krdc::AuthError& e) {
      CHECK(std::string(e.what()) == message);
      CHECK(e.code() == krdc::ExitCode::kAuth);
      CHECK_FALSE(e.hint().empty());
    }
  }
}

TEST_CASE("auth: token cache is 0600 in a 0700 directory and refuses a file others can read") {
  TempDir tmp;
  TokenCache cache(tmp.path / "krdc");
  TokenSet t;
  t.access_token = "a.b.c";
  t.refresh_token = "r";
  t.expires_at = Clock::now() + 60s;
  cache.store("https://hub", "krdc-cli", t);
  struct stat st {};
  REQUIRE(::stat((tmp.path / "krdc").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  auto file = cache.file_for("https://hub", "krdc-cli");
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto loaded = cache.load("https://hub", "krdc-cli");
  REQUIRE(loaded);
  CHECK(loaded->refresh_token == "r");
  CHECK(std::chrono::abs(loaded->expires_at - t.expires_at) < 1s);
  CHECK_FALSE(cache.load("https://hub", "other-client"));
  // No temp files left behind.
  int entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(tmp.path / "krdc")) ++entries;
  CHECK(entries == 1);

  ::chmod(file.c_str(), 0644);
  CHECK_THROWS_AS(cache.load("https://hub", "krdc-cli"), krdc::AuthError);
  CHECK(cache.remove("https://hub", "krdc-cli"));
  CHECK_FALSE(cache.remove("https://hub", "krdc-cli"));

  // A pre-existing loose directory of ours is tightened.
  ::chmod((tmp.path / "krdc").c_str(), 0755);
  cache.store("https://hub", "krdc-cli", t);
  REQUIRE(::stat((tmp.path / "krdc").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("auth: a session near expiry refreshes itself, caches the result, and logout revokes") {
  FakeHub fake;
  fake.access_lifetime = 10;  // inside the 20 s refresh margin: every token() refreshes
  TempDir tmp;
  auto hub = make_hub(fake);
  TokenCache cache(tmp.path / "krdc");
  std::vector<long long> sleeps;
  auto session = HubSession::start(hub, cache, run_device_flow(*hub, recording(sleeps)), HubSession::Kind::kLogin);
  auto before = fake.grants.size();
  std::string t1 = session->token();
  CHECK(fake.grants.size() == before + 1);
  CHECK(fake.grants.back() == "refresh_token");
  CHECK(cache.load(hub->issuer(), "krdc-cli")->access_token == t1);

  auto reopened = HubSession::open(hub, cache);
  CHECK(reopened->kind() == HubSession::Kind::kLogin);
  CHECK(reopened->claims().username == "alice");

  CHECK(session->logout());
  CHECK(fake.revoked == 1);
  CHECK_FALSE(cache.load(hub->issuer(), "krdc-cli"));
  CHECK_THROWS_AS(HubSession::open(hub, cache), krdc::AuthError);
}

TEST_CASE("auth: a refresh refused by the hub is 'session expired: run krdc login'") {
  FakeHub fake;
  TempDir tmp;
  auto hub = make_hub(fake);
  TokenSet t = run_device_flow(*hub, DeviceFlowOptions{"openid", {}, [](std::chrono::seconds) {}, {}});
  t.refresh_token = "revoked";
  auto session = HubSession::start(hub, TokenCache(tmp.path / "krdc"), t, HubSession::Kind::kLogin);
  session->invalidate();  // as after a 401
  try {
    session->token();
    FAIL("expected AuthError");
  } catch (const krdc::AuthError& e) {
    CHECK(std::string(e.what()) == "session expired: run krdc login");
  }
}

TEST_CASE("auth: a refresh refused because of krdc's client points at the client, not at a new login") {
  FakeHub fake;
  TempDir tmp;
  auto hub = make_hub(fake);
  TokenSet t = run_device_flow(*hub, DeviceFlowOptions{"openid", {}, [](std::chrono::seconds) {}, {}});
  t.refresh_token = "client-refused";  // the fake answers invalid_client, as Keycloak does for a wrong secret
  auto session = HubSession::start(hub, TokenCache(tmp.path / "krdc"), t, HubSession::Kind::kLogin);
  session->invalidate();
  try {
    session->token();
    FAIL("expected AuthError");
  } catch (const krdc::AuthError& e) {
    CHECK(std::string(e.what()).find("refused krdc's client \"krdc-cli\" (invalid_client") != std::string::npos);
    CHECK(e.hint().find("clientSecretFile") != std::string::npos);
    CHECK(std::string(e.what()).find("run krdc login") == std::string::npos);
  }
}

TEST_CASE("auth: non-interactive without credentials is a one-line AuthError, never a prompt") {
  FakeHub fake;
  TempDir tmp;
  krdc::config::HubSettings s;
  s.issuer = fake.issuer();
  s.client_id = "krdc-cli";
  s.non_interactive = true;
  try {
    HubSession::open(std::make_shared<Hub>(s), TokenCache(tmp.path / "krdc"));
    FAIL("expected AuthError");
  } catch (const krdc::AuthError& e) {
    CHECK(e.hint().find("KRDC_CLIENT_ID") != std::string::npos);
  }
  s.client_credentials = true;
  s.client_secret = "ci-secret-value";
  auto session = HubSession::open(std::make_shared<Hub>(s), TokenCache(tmp.path / "krdc"));
  CHECK(session->kind() == HubSession::Kind::kClientCredentials);
  CHECK(fake.grants.back() == "client_credentials");
}

TEST_CASE("auth: authorisation checks local audiences and exchanges for remote clusters") {
  FakeHub fake;
  TempDir tmp;
  auto hub = make_hub(fake);
  auto session = logged_in(hub, tmp);
  std::vector<StepTarget> steps{{"fetch", "kisti", "krdc-kisti", true},
                                {"regrid", "unist", "krdc-unist", false},
                                {"plot", "kisti", "krdc-kisti", true},
                                {"local-only", "", "", false}};
  auto sources = authorize_steps(steps, session);
  REQUIRE(sources.size() == 2);
  CHECK(sources["kisti"].get() == session.get());
  auto unist_token = sources["unist"]->token();
  CHECK(hub->verify(unist_token, "krdc-unist").audiences == std::vector<std::string>{"krdc-unist"});
  CHECK(sources["unist"]->describe().find("krdc-unist") != std::string::npos);
  // After a 401 the exchanged source goes back to the hub for a new token.
  auto exchanges = [&] { return std::count(fake.grants.begin(), fake.grants.end(), "urn:ietf:params:oauth:grant-type:token-exchange"); };
  auto before = exchanges();
  CHECK(sources["unist"]->token() == unist_token);  // still fresh: no new exchange
  CHECK(exchanges() == before);
  sources["unist"]->invalidate();
  sources["unist"]->token();
  CHECK(exchanges() == before + 1);

  fake.allowed_audiences = {"krdc-kisti"};  // the hub no longer lets this user reach unist
  try {
    authorize_steps(steps, session);
    FAIL("expected AuthError");
  } catch (const krdc::AuthError& e) {
    std::string msg = e.what();
    CHECK(msg.find("step \"regrid\": not allowed on cluster \"unist\" (audience krdc-unist): the hub refused token "
                   "exchange (Requested audience not available) — ask your hub admin for the unist \"run\" role") == 0);
    CHECK(msg.find("fetch") == std::string::npos);
    CHECK(e.hint().find("nothing was started") != std::string::npos);
  }

  std::vector<StepTarget> local_missing{{"train", "unist", "krdc-unist", true}};
  try {
    authorize_steps(local_missing, session);
    FAIL("expected AuthError");
  } catch (const krdc::AuthError& e) {
    CHECK(std::string(e.what()).find("step \"train\": not allowed on cluster \"unist\"") == 0);
    CHECK(std::string(e.what()).find("does not carry that audience") != std::string::npos);
  }
}

TEST_CASE("auth: parallel steps asking after a 401 cause one refresh, not one each") {
  FakeHub fake;
  TempDir tmp;
  auto hub = make_hub(fake);
  auto session = logged_in(hub, tmp);
  auto refreshes = [&] {
    std::lock_guard lock(fake.mu);
    return std::count(fake.grants.begin(), fake.grants.end(), "refresh_token");
  };
  session->invalidate();
  std::vector<std::thread> threads;
  std::vector<std::string> seen(8);
  for (int i = 0; i < 8; ++i) threads.emplace_back([&, i] { seen[i] = session->token(); });
  for (auto& t : threads) t.join();
  CHECK(refreshes() == 1);
  for (const auto& t : seen) CHECK(t == seen[0]);
}

// Security review (issue 12): a token POST that may have reached the hub is never resent. With
// refresh-token rotation a resent refresh spends the token twice and the hub ends the session.
TEST_CASE("auth: a refresh answered 503 is sent once, not retried") {
  FakeHub fake;
  TempDir tmp;
  auto hub = make_hub(fake);
  auto session = logged_in(hub, tmp);
  auto count = [&](const std::string& grant) {
    std::lock_guard lock(fake.mu);
    return std::count(fake.grants.begin(), fake.grants.end(), grant);
  };
  {
    std::lock_guard lock(fake.mu);
    fake.token_failures = 1;
  }
  session->invalidate();
  CHECK_THROWS_AS(session->token(), krdc::UnreachableError);
  CHECK(count("refresh_token") == 1);
  // The next call (the hub is back) refreshes normally.
  CHECK_FALSE(session->token().empty());
  CHECK(count("refresh_token") == 2);

  {
    std::lock_guard lock(fake.mu);
    fake.token_failures = 1;
  }
  CHECK_THROWS_AS(session->exchange("krdc-unist"), krdc::UnreachableError);
  CHECK(count("urn:ietf:params:oauth:grant-type:token-exchange") == 1);
}

TEST_CASE("auth: the hub URL must be https outside the unit tests' loopback opt-in") {
  const bool before = krdc::http::testing::allow_loopback_http(false);
  CHECK_FALSE(is_acceptable_hub_url("http://127.0.0.1:8080/realms/krdc"));
  CHECK_FALSE(is_acceptable_hub_url("http://hub.example/realms/krdc"));
  CHECK(is_acceptable_hub_url("https://hub.example/realms/krdc"));
  krdc::http::testing::allow_loopback_http(true);
  CHECK(is_acceptable_hub_url("http://127.0.0.1:8080/realms/krdc"));
  CHECK_FALSE(is_acceptable_hub_url("http://hub.example/realms/krdc"));
  krdc::http::testing::allow_loopback_http(before);
}

// Two krdc processes (here: two sessions with their own Hub and cache objects, as two
// processes have) find the same session due; the hub rotates refresh tokens. Without the
// cache entry's lock both refresh and the second is refused ("session expired").
TEST_CASE("auth: two processes refreshing one cached session make exactly one refresh POST") {
  FakeHub fake;
  TempDir tmp;
  {
    auto hub = make_hub(fake);
    logged_in(hub, tmp);  // the cache now holds the session
  }
  {
    std::lock_guard lock(fake.mu);
    fake.rotate = true;
    fake.refresh_delay = 300ms;  // the window the second one used to fall into
  }
  auto hub_a = make_hub(fake), hub_b = make_hub(fake);
  auto a = HubSession::open(hub_a, TokenCache(tmp.path / "krdc"));
  auto b = HubSession::open(hub_b, TokenCache(tmp.path / "krdc"));
  hub_a->metadata();  // discovery done before the race
  hub_b->metadata();
  a->invalidate();  // both due, as after a 401
  b->invalidate();
  std::string ta, tb, error;
  std::mutex error_mu;
  auto get = [&](HubSession& s, std::string& out) {
    try {
      out = s.token();
    } catch (const std::exception& e) {
      std::lock_guard lock(error_mu);
      error = e.what();
    }
  };
  std::thread x([&] { get(*a, ta); });
  std::thread y([&] { get(*b, tb); });
  x.join();
  y.join();
  CHECK(error == "");
  {
    std::lock_guard lock(fake.mu);
    CHECK(std::count(fake.grants.begin(), fake.grants.end(), "refresh_token") == 1);
  }
  CHECK_FALSE(ta.empty());
  CHECK(ta == tb);
  auto lock_file = TokenCache(tmp.path / "krdc").file_for(fake.issuer(), "krdc-cli");
  lock_file += ".lock";
  struct stat st {};
  REQUIRE(::stat(lock_file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}
