// Watch decoding and the list/watch loop against the loopback fake (fault paths only):
// resourceVersion resume, bookmarks, 410 Gone (as an ERROR event and as an HTTP status) →
// relist with synthesized DELETED for objects that vanished meanwhile.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "krdc/kube/watch.h"
#include "support/fake_http_server.h"

using krdc::kube::ApiClient;
using krdc::kube::ListWatch;
using krdc::kube::WatchEvent;
using krdc::test::FakeHttpServer;
using krdc::test::FakeReply;
using krdc::test::FakeRequest;
using namespace std::chrono_literals;

namespace {

std::string pod(const std::string& name, const std::string& rv, const std::string& phase = "Running") {
  return nlohmann::json{{"kind", "Pod"},
                        {"metadata", {{"name", name}, {"uid", "uid-" + name}, {"resourceVersion", rv}}},
                        {"status", {{"phase", phase}}}}
      .dump();
}

std::string event(const std::string& type, const std::string& object) {
  return R"({"type":")" + type + R"(","object":)" + object + "}\n";
}

std::string list(const std::string& rv, const std::vector<std::string>& items) {
  std::string s = R"({"kind":"PodList","metadata":{"resourceVersion":")" + rv + R"("},"items":[)";
  for (size_t i = 0; i < items.size(); ++i) s += (i ? "," : "") + items[i];
  return s + "]}";
}

std::string query_value(const std::string& target, const std::string& key) {
  auto at = target.find(key + "=");
  if (at == std::string::npos) return "";
  auto end = target.find('&', at);
  return target.substr(at + key.size() + 1, end == std::string::npos ? std::string::npos : end - at - key.size() - 1);
}

krdc::kube::ClusterAccess access(const std::string& server) {
  krdc::kube::ClusterAccess a;
  a.name = "kisti";
  a.server = server;
  a.ns = "alice";
  return a;
}

krdc::kube::ApiClientOptions fast() {
  krdc::kube::ApiClientOptions o;
  o.http.backoff_base = 5ms;
  o.http.backoff_max = 20ms;
  o.http.max_retries = 1;
  o.http.total_timeout = 5s;
  return o;
}

// Runs a ListWatch until `want` events arrived (or 10 s), then stops it.
std::vector<WatchEvent> run_until(ApiClient& api, size_t want, krdc::kube::ListWatchStats* stats = nullptr) {
  std::mutex mu;
  std::vector<WatchEvent> events;
  std::atomic<bool> stop{false};
  krdc::kube::ListWatchOptions opt;
  opt.path = "/api/v1/namespaces/alice/pods";
  opt.label_selector = "krdc/run=r1";
  opt.backoff_base = 5ms;
  opt.backoff_max = 20ms;
  ListWatch lw(api, opt, [&](const WatchEvent& e) {
    std::lock_guard lock(mu);
    events.push_back(e);
  });
  std::thread t([&] { lw.run(stop); });
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until) {
    {
      std::lock_guard lock(mu);
      if (events.size() >= want) break;
    }
    std::this_thread::sleep_for(5ms);
  }
  stop = true;
  t.join();
  if (stats) *stats = lw.stats();
  return events;
}

}  // namespace

TEST_CASE("kube watch: events decode; blank lines are skipped; garbage is a protocol error") {
  auto e = krdc::kube::decode_watch_event(event("ADDED", pod("a", "5")));
  REQUIRE(e);
  CHECK(e->type == "ADDED");
  CHECK(e->object["metadata"]["name"] == "a");
  CHECK_FALSE(krdc::kube::decode_watch_event(""));
  CHECK_FALSE(krdc::kube::decode_watch_event("\r"));
  auto b = krdc::kube::decode_watch_event(R"({"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"77"}}})");
  CHECK(b->type == "BOOKMARK");
  CHECK_THROWS_AS(krdc::kube::decode_watch_event("<html>"), krdc::UnreachableError);
  CHECK_THROWS_AS(krdc::kube::decode_watch_event(R"({"kind":"Status"})"), krdc::UnreachableError);
  // a line cut short, two events run together, or trailing bytes: a broken stream, never half an event
  CHECK_THROWS_AS(krdc::kube::decode_watch_event(R"({"type":"ADDED","object":{"metadata":{"name":)"),
                  krdc::UnreachableError);
  CHECK_THROWS_AS(krdc::kube::decode_watch_event(R"({"type":"ADDED","object":{}}{"type":"ADDED","object":{}})"),
                  krdc::UnreachableError);
  CHECK_THROWS_AS(krdc::kube::decode_watch_event(R"({"type":"ADDED","object":{}} x)"), krdc::UnreachableError);
  CHECK_THROWS_AS(krdc::kube::decode_watch_event(R"({"type":"ADDED","object":[]})"), krdc::UnreachableError);
}

TEST_CASE("kube watch: values keep their JSON types; escapes are decoded; one decoder serves many lines") {
  krdc::kube::WatchDecoder decoder;
  for (int round = 0; round < 3; ++round) {  // the decoder's buffers are reused: nothing leaks between lines
    const std::string line = R"({"type":"MODIFIED","object":{"kind":"Pod","metadata":{"name":"p)" + std::to_string(round) +
                             R"(","deletionTimestamp":null,"annotations":{"m":"caf\u00e9 \"q\"\n"}},)"
                             R"("spec":{"x":1},"status":{"containerStatuses":[{"name":"step","restartCount":0,)"
                             R"("ready":false,"state":{"terminated":{"exitCode":-1,"big":18446744073709551615,)"
                             R"("ratio":0.5,"message":"{\"k\": [1, 2]}"}}}]}}})";
    for (bool all : {true, false}) {
      auto e = decoder.decode(line, all ? krdc::kube::FieldMask{} : krdc::kube::FieldMask{"metadata", "status"});
      REQUIRE(e);
      const auto& md = e->object["metadata"];
      CHECK(md["name"] == "p" + std::to_string(round));
      CHECK(md["deletionTimestamp"].is_null());
      CHECK(md["annotations"]["m"] == "caf\u00e9 \"q\"\n");
      const auto& cs = e->object["status"]["containerStatuses"][0];
      CHECK(cs["ready"] == false);
      CHECK(cs["restartCount"].is_number_integer());
      const auto& t = cs["state"]["terminated"];
      CHECK(t["exitCode"] == -1);
      CHECK(t["big"] == 18446744073709551615ULL);
      CHECK(t["ratio"] == 0.5);
      CHECK(t["message"] == R"({"k": [1, 2]})");
      CHECK(e->object.contains("spec") == all);
    }
  }
}

TEST_CASE("kube watch: a field mask builds only the fields it names, inside arrays too") {
  const std::string line =
      R"({"type":"MODIFIED","object":{"kind":"Pod","metadata":{"name":"p","labels":{"spec":"x"},)"
      R"("managedFields":[{"manager":"kubelet"}]},"spec":{"containers":[{"name":"step"}]},)"
      R"("status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"},{"type":"Init"}]}}})";
  auto e = krdc::kube::decode_watch_event(line, {"metadata.name", "metadata.labels", "status.conditions.type"});
  REQUIRE(e);
  CHECK(e->type == "MODIFIED");
  CHECK(e->object["metadata"]["name"] == "p");
  CHECK(e->object["metadata"]["labels"]["spec"] == "x");  // a kept field is kept whole
  CHECK_FALSE(e->object["metadata"].contains("managedFields"));
  CHECK_FALSE(e->object.contains("spec"));
  CHECK_FALSE(e->object.contains("kind"));
  CHECK_FALSE(e->object["status"].contains("phase"));
  REQUIRE(e->object["status"]["conditions"].size() == 2);
  CHECK(e->object["status"]["conditions"][0] == nlohmann::json{{"type", "Ready"}});
  CHECK(e->object["status"]["conditions"][1] == nlohmann::json{{"type", "Init"}});
  auto full = krdc::kube::decode_watch_event(line);
  CHECK(full->object.contains("spec"));
  CHECK(full->object["metadata"].contains("managedFields"));
  // An ERROR event's Status is read whole whatever the mask: its code decides on a relist.
  auto error = krdc::kube::decode_watch_event(
      R"({"type":"ERROR","object":{"kind":"Status","code":410,"message":"too old"}})", {"metadata.name"});
  REQUIRE(error);
  CHECK(error->object["code"] == 410);
  CHECK(error->object["message"] == "too old");
}

TEST_CASE("kube field mask: a shorter path keeps the whole value, whatever order the paths come in") {
  krdc::kube::FieldMask m{"metadata.name", "status.phase"};
  CHECK_FALSE(m.keeps_all());
  REQUIRE(m.child("metadata"));
  CHECK(m.child("metadata")->child("name"));
  CHECK_FALSE(m.child("metadata")->child("uid"));
  CHECK_FALSE(m.child("spec"));
  m.add("metadata");
  CHECK(m.child("metadata")->keeps_all());
  m.add("metadata.uid");  // no narrowing back
  CHECK(m.child("metadata")->keeps_all());
  CHECK(m.child("status")->child("phase")->keeps_all());
  CHECK_FALSE(m.child("status")->child("reason"));
  CHECK(krdc::kube::FieldMask{}.keeps_all());
  CHECK(krdc::kube::FieldMask{}.child("anything")->keeps_all());
}

TEST_CASE("kube watch: list pages decode like watch objects, with their version and continue token") {
  krdc::kube::WatchDecoder decoder;
  const std::string body =
      R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"41","continue":"tok=="},)"
      R"("items":[{"metadata":{"name":"a","managedFields":[{"manager":"x"}]},"spec":{"x":1},"status":{"phase":"Running"}},)"
      R"({"metadata":{"name":"b"},"status":{"phase":"Pending"}}]})";
  const krdc::kube::FieldMask keep{"metadata.name", "status"};
  auto masked = decoder.decode_list(body, keep);
  CHECK(masked.resource_version == "41");
  CHECK(masked.continue_token == "tok==");
  REQUIRE(masked.items.size() == 2);
  CHECK(masked.items[0]["metadata"]["name"] == "a");
  CHECK_FALSE(masked.items[0]["metadata"].contains("managedFields"));
  CHECK_FALSE(masked.items[0].contains("spec"));
  CHECK(masked.items[1]["status"]["phase"] == "Pending");
  auto full = decoder.decode_list(body);
  CHECK(full.items[0].contains("spec"));
  auto last = decoder.decode_list(R"({"metadata":{"resourceVersion":"42"},"items":[]})", keep);
  CHECK(last.continue_token.empty());
  CHECK(last.items.empty());
  CHECK_THROWS_AS(decoder.decode_list("<html>", keep), krdc::UnreachableError);
  CHECK_THROWS_AS(decoder.decode_list(R"({"items":[1]})", keep), krdc::UnreachableError);
}

TEST_CASE("kube watch: lines are framed across arbitrary chunk boundaries") {
  krdc::kube::LineBuffer lb;
  std::vector<std::string> lines;
  auto take = [&](std::string_view l) {
    lines.emplace_back(l);
    return true;
  };
  lb.feed("{\"a\":", take);
  CHECK(lines.empty());
  lb.feed("1}\n{\"b\"", take);
  lb.feed(":2}\n\n{", take);
  CHECK(lines == std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", ""});
}

TEST_CASE("kube watch: list, watch from its resourceVersion with bookmarks, resume where the stream ended") {
  std::atomic<int> watches{0};
  std::mutex mu;
  std::vector<std::string> rvs;
  FakeHttpServer server([&](const FakeRequest& r) {
    if (r.target.find("watch=1") == std::string::npos) return FakeReply::json(200, list("10", {pod("a", "9")}));
    {
      std::lock_guard lock(mu);
      rvs.push_back(query_value(r.target, "resourceVersion"));
    }
    CHECK(r.target.find("allowWatchBookmarks=true") != std::string::npos);
    CHECK(query_value(r.target, "labelSelector") == "krdc%2Frun%3Dr1");
    FakeReply reply;
    const int i = watches++;
    if (i == 0) {
      reply.chunks = {event("MODIFIED", pod("a", "11", "Succeeded")),
                      R"({"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"15"}}})" "\n"};
    } else if (i == 1) {
      reply.chunks = {event("ADDED", pod("b", "16"))};
    } else {
      reply.delay = 200ms;  // nothing more happens
      reply.chunks = {"\n"};
    }
    return reply;
  });
  ApiClient api(access(server.url()), fast());
  krdc::kube::ListWatchStats stats;
  auto events = run_until(api, 3, &stats);
  REQUIRE(events.size() >= 3);
  CHECK(events[0].type == "ADDED");
  CHECK(events[1].type == "MODIFIED");
  CHECK(events[1].object["status"]["phase"] == "Succeeded");
  CHECK(events[2].type == "ADDED");
  CHECK(events[2].object["metadata"]["name"] == "b");
  std::lock_guard lock(mu);
  REQUIRE(rvs.size() >= 2);
  CHECK(rvs[0] == "10");  // from the list
  CHECK(rvs[1] == "15");  // from the bookmark: no relist, no replay
  CHECK(stats.lists == 1);
  CHECK(stats.relists == 0);
}

TEST_CASE("kube watch: 410 Gone as an ERROR event relists; objects gone meanwhile come out DELETED") {
  std::atomic<int> lists{0}, watches{0};
  FakeHttpServer server([&](const FakeRequest& r) {
    if (r.target.find("watch=1") == std::string::npos) {
      // First list: a and b. After the 410: b changed, a was deleted while we were away.
      return lists++ == 0 ? FakeReply::json(200, list("10", {pod("a", "9"), pod("b", "10")}))
                          : FakeReply::json(200, list("40", {pod("b", "39", "Succeeded")}));
    }
    FakeReply reply;
    if (watches++ == 0) {
      reply.chunks = {R"J({"type":"ERROR","object":{"kind":"Status","status":"Failure","message":"too old resource version: 10 (30)","reason":"Expired","code":410}})J" "\n"};
    } else {
      CHECK(query_value(r.target, "resourceVersion") == "40");
      reply.delay = 200ms;
      reply.chunks = {"\n"};
    }
    return reply;
  });
  ApiClient api(access(server.url()), fast());
  krdc::kube::ListWatchStats stats;
  auto events = run_until(api, 4, &stats);
  REQUIRE(events.size() >= 4);
  CHECK(events[0].type == "ADDED");
  CHECK(events[1].type == "ADDED");
  CHECK(events[2].type == "MODIFIED");  // b, from the relist
  CHECK(events[2].object["status"]["phase"] == "Succeeded");
  CHECK(events[3].type == "DELETED");   // a, synthesized
  CHECK(events[3].object["metadata"]["name"] == "a");
  CHECK(stats.relists == 1);
}

TEST_CASE("kube watch: 410 as an HTTP status also relists; a dropped connection resumes from the last version") {
  std::atomic<int> lists{0}, watches{0};
  std::mutex mu;
  std::vector<std::string> rvs;
  FakeHttpServer server([&](const FakeRequest& r) {
    if (r.target.find("watch=1") == std::string::npos) {
      const int i = lists++;
      return FakeReply::json(200, list(i == 0 ? "10" : "50", {pod("a", i == 0 ? "9" : "49")}));
    }
    {
      std::lock_guard lock(mu);
      rvs.push_back(query_value(r.target, "resourceVersion"));
    }
    const int i = watches++;
    FakeReply reply;
    if (i == 0) {
      reply.chunks = {event("MODIFIED", pod("a", "12"))};  // then the server ends the stream
    } else if (i == 1) {
      reply.drop = true;                                    // API server restarting
    } else if (i == 2) {
      return FakeReply::json(410, R"({"kind":"Status","message":"too old resource version","reason":"Expired","code":410})");
    } else {
      reply.delay = 200ms;
      reply.chunks = {"\n"};
    }
    return reply;
  });
  ApiClient api(access(server.url()), fast());
  krdc::kube::ListWatchStats stats;
  auto events = run_until(api, 3, &stats);
  REQUIRE(events.size() >= 3);
  CHECK(events[2].type == "MODIFIED");
  CHECK(events[2].object["metadata"]["resourceVersion"] == "49");
  std::lock_guard lock(mu);
  REQUIRE(rvs.size() >= 3);
  CHECK(rvs[0] == "10");
  CHECK(rvs[1] == "12");  // resumed after the normal end
  CHECK(rvs[2] == "12");  // and again after the dropped connection
  CHECK(stats.lists == 2);
}
