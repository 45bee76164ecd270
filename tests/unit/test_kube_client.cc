// Kubernetes REST client against the fault-injecting loopback server (fault paths only; the
// real API server is exercised by tests/integration/test_kube_*): 401 → fresh token → retry
// once, the API server's Status message in errors, no retry on 4xx, 5xx retried, deletes
// with propagationPolicy=Background.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>

#include "krdc/kube/api_client.h"
#include "support/fake_http_server.h"

using krdc::kube::ApiClient;
using krdc::kube::ApiClientOptions;
using krdc::kube::ApiError;
using krdc::kube::ClusterAccess;
using krdc::test::FakeHttpServer;
using krdc::test::FakeReply;
using krdc::test::FakeRequest;
using namespace std::chrono_literals;

namespace {

// Hands out token-1, token-2, ... and counts invalidations.
class CountingTokens : public krdc::auth::TokenSource {
 public:
  std::string token() override { return "token-" + std::to_string(generation_.load()); }
  void invalidate() override {
    ++invalidations;
    ++generation_;
  }
  std::string describe() const override { return "test tokens"; }
  std::atomic<int> invalidations{0};

 private:
  std::atomic<int> generation_{1};
};

ApiClientOptions fast() {
  ApiClientOptions o;
  o.http.backoff_base = 5ms;
  o.http.backoff_max = 20ms;
  o.http.max_retries = 2;
  o.http.total_timeout = 5s;
  return o;
}

ClusterAccess access(const FakeHttpServer& server, std::shared_ptr<krdc::auth::TokenSource> tokens) {
  ClusterAccess a;
  a.name = "kisti";
  a.server = server.url();
  a.ns = "alice";
  a.tokens = std::move(tokens);
  return a;
}

const char* kStatus422 =
    R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"Job.batch \"x\" is invalid: spec.template.spec.containers[0].image: Required value","reason":"Invalid","code":422})";

}  // namespace

TEST_CASE("kube client: a 401 gets a fresh token and one retry") {
  FakeHttpServer server([](const FakeRequest& r) {
    if (r.headers.at("authorization") == "Bearer token-1") {
      return FakeReply::json(401, R"({"kind":"Status","message":"Unauthorized","reason":"Unauthorized","code":401})");
    }
    return FakeReply::json(200, R"({"kind":"JobList","items":[]})");
  });
  auto tokens = std::make_shared<CountingTokens>();
  ApiClient api(access(server, tokens), fast());
  auto list = api.get("/apis/batch/v1/namespaces/alice/jobs");
  CHECK(list["kind"] == "JobList");
  CHECK(tokens->invalidations == 1);
  CHECK(server.requests().size() == 2);
}

TEST_CASE("kube client: a second 401 is an auth error, not a loop") {
  FakeHttpServer server([](const FakeRequest&) {
    return FakeReply::json(401, R"({"kind":"Status","message":"Unauthorized","reason":"Unauthorized","code":401})");
  });
  auto tokens = std::make_shared<CountingTokens>();
  ApiClient api(access(server, tokens), fast());
  CHECK_THROWS_AS(api.get("/api/v1/namespaces/alice/pods"), krdc::AuthError);
  CHECK(tokens->invalidations == 1);
  CHECK(server.requests().size() == 2);
}

TEST_CASE("kube client: errors carry the API server's Status, 4xx are not retried") {
  FakeHttpServer server([](const FakeRequest&) { return FakeReply::json(422, kStatus422); });
  ApiClient api(access(server, std::make_shared<CountingTokens>()), fast());
  try {
    api.create("/apis/batch/v1/namespaces/alice/jobs", {{"kind", "Job"}});
    FAIL("no error");
  } catch (const ApiError& e) {
    CHECK(e.status() == 422);
    CHECK(e.reason() == "Invalid");
    const std::string msg = e.what();
    CHECK(msg.find("spec.template.spec.containers[0].image: Required value") != std::string::npos);
    CHECK(msg.find("jobs in alice on kisti") != std::string::npos);
    CHECK(msg.find("token-") == std::string::npos);
  }
  CHECK(server.requests().size() == 1);
}

TEST_CASE("kube client: 409 AlreadyExists is the caller's to reconcile, not retried") {
  FakeHttpServer server([](const FakeRequest&) {
    return FakeReply::json(409, R"({"kind":"Status","message":"jobs.batch \"x\" already exists","reason":"AlreadyExists","code":409})");
  });
  ApiClient api(access(server, std::make_shared<CountingTokens>()), fast());
  try {
    api.create("/apis/batch/v1/namespaces/alice/jobs", {{"kind", "Job"}});
    FAIL("no error");
  } catch (const ApiError& e) {
    CHECK(e.status() == 409);
    CHECK(e.reason() == "AlreadyExists");
  }
  CHECK(server.requests().size() == 1);
}

TEST_CASE("kube client: 5xx and 429 are retried with backoff, then succeed") {
  std::atomic<int> n{0};
  FakeHttpServer server([&](const FakeRequest&) {
    const int i = n++;
    if (i == 0) return FakeReply::json(503, R"({"kind":"Status","message":"etcd leader changed","code":503})");
    if (i == 1) {
      auto r = FakeReply::json(429, R"({"kind":"Status","message":"too many requests","code":429})");
      r.headers.emplace_back("Retry-After", "0");
      return r;
    }
    return FakeReply::json(200, R"({"kind":"Job","metadata":{"name":"x"}})");
  });
  ApiClient api(access(server, std::make_shared<CountingTokens>()), fast());
  CHECK(api.get("/apis/batch/v1/namespaces/alice/jobs/x")["metadata"]["name"] == "x");
  CHECK(n == 3);
}

TEST_CASE("kube client: delete asks for background propagation; a missing object is not an error") {
  FakeHttpServer server([](const FakeRequest& r) {
    if (r.target.find("/gone") != std::string::npos) {
      return FakeReply::json(404, R"({"kind":"Status","message":"jobs.batch \"gone\" not found","reason":"NotFound","code":404})");
    }
    return FakeReply::json(200, R"({"kind":"Status","status":"Success"})");
  });
  ApiClient api(access(server, std::make_shared<CountingTokens>()), fast());
  CHECK(api.remove("/apis/batch/v1/namespaces/alice/jobs/x"));
  CHECK_FALSE(api.remove("/apis/batch/v1/namespaces/alice/jobs/gone", 3));
  const auto reqs = server.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].method == "DELETE");
  auto body = nlohmann::json::parse(reqs[0].body);
  CHECK(body["propagationPolicy"] == "Background");
  CHECK(nlohmann::json::parse(reqs[1].body)["gracePeriodSeconds"] == 3);
}

TEST_CASE("kube client: query values are percent-encoded") {
  CHECK(krdc::kube::query_escape("krdc/run=abc,krdc/step in (a b)") == "krdc%2Frun%3Dabc%2Ckrdc%2Fstep%20in%20%28a%20b%29");
}
