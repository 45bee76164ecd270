#include "krdc/kube/api_client.h"

#include <fmt/format.h>

#include <algorithm>

#include "krdc/kube/watch_decoder.h"

namespace krdc::kube {

std::string query_escape(std::string_view value) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

namespace {

// "/apis/batch/v1/namespaces/alice/jobs/x?watch=1" → "jobs/x in alice": short, no query (which
// may carry selectors but never secrets; kept out anyway to keep messages one line).
std::string short_path(const std::string& path) {
  std::string p = path.substr(0, path.find('?'));
  const std::string marker = "/namespaces/";
  auto at = p.find(marker);
  if (at == std::string::npos) return p;
  std::string rest = p.substr(at + marker.size());
  auto slash = rest.find('/');
  if (slash == std::string::npos) return "namespace " + rest;
  return fmt::format("{} in {}", rest.substr(slash + 1), rest.substr(0, slash));
}

}  // namespace

// A pooled client goes back to the pool when the call ends, whatever way it ends.
class PoolLease {
 public:
  explicit PoolLease(ApiClient& api) : api_(api), pooled_(api.acquire()) {}
  ~PoolLease() {
    pooled_.stop_slot->store(nullptr);
    api_.release(std::move(pooled_));
  }
  PoolLease(const PoolLease&) = delete;
  PoolLease& operator=(const PoolLease&) = delete;
  http::Client& operator*() { return *pooled_.client; }
  void watch_stop(const std::atomic<bool>& stop) { pooled_.stop_slot->store(&stop); }

 private:
  ApiClient& api_;
  ApiClient::Pooled pooled_;
};

ApiClient::Pooled ApiClient::acquire() {
  {
    std::lock_guard lock(pool_mu_);
    if (!pool_.empty()) {
      Pooled p = std::move(pool_.back());
      pool_.pop_back();
      return p;
    }
  }
  Pooled p;
  p.stop_slot = std::make_shared<std::atomic<const std::atomic<bool>*>>(nullptr);
  http::ClientOptions o = client_options();
  // A watch's own stop flag, and whatever the caller cancels every call on (an interrupt).
  o.cancelled = [slot = p.stop_slot, cancelled = std::move(o.cancelled)] {
    const std::atomic<bool>* stop = slot->load();
    return (stop != nullptr && stop->load()) || (cancelled && cancelled());
  };
  p.client = std::make_unique<http::Client>(o);
  return p;
}

void ApiClient::release(Pooled pooled) {
  std::lock_guard lock(pool_mu_);
  if (pool_.size() < 64) pool_.push_back(std::move(pooled));
}

ApiClient::ApiClient(ClusterAccess cluster, ApiClientOptions options)
    : cluster_(std::move(cluster)), options_(std::move(options)), call_slots_(std::max(1, options_.max_parallel_calls)) {
  while (!cluster_.server.empty() && cluster_.server.back() == '/') cluster_.server.pop_back();
}

ApiClient::~ApiClient() = default;

http::ClientOptions ApiClient::client_options() const {
  http::ClientOptions o = options_.http;
  o.share = share_;
  o.ca_file = cluster_.ca_file;
  o.ca_pem = cluster_.ca_pem;
  o.client_cert_pem = cluster_.client_cert_pem;
  o.client_key_pem = cluster_.client_key_pem;
  return o;
}

http::Headers ApiClient::headers(const std::string& content_type, std::string* bearer) {
  http::Headers h{{"Accept", "application/json"}};
  if (!content_type.empty()) h.emplace_back("Content-Type", content_type);
  if (cluster_.tokens) {
    std::string token = cluster_.tokens->token();
    h.emplace_back("Authorization", "Bearer " + token);
    if (bearer) *bearer = std::move(token);
  }
  return h;
}

void ApiClient::rejected(const std::string& bearer) {
  // Parallel calls all see the same expired token: only the first one to notice asks for a
  // new one; the others find it already replaced and simply retry with it.
  if (cluster_.tokens->token() == bearer) cluster_.tokens->invalidate();
}

std::string ApiClient::describe(const std::string& method, const std::string& path) const {
  return fmt::format("{} {} on {}", method, short_path(path), cluster_.name.empty() ? cluster_.server : cluster_.name);
}

http::Response ApiClient::call(const std::string& method, const std::string& path, const std::string& body,
                               const std::string& content_type) {
  call_slots_.acquire();
  struct Slot {
    std::counting_semaphore<>& slots;
    ~Slot() { slots.release(); }
  } slot{call_slots_};
  PoolLease client(*this);
  for (int attempt = 0;; ++attempt) {
    http::Request req;
    req.method = method;
    req.url = cluster_.server + path;
    std::string bearer;
    req.headers = headers(body.empty() ? std::string() : content_type, &bearer);
    req.body = body;
    ++requests_;
    http::Response resp = (*client).request(req);
    if (resp.status == 401 && attempt == 0 && cluster_.tokens) {
      // The token expired or was revoked under us: ask the source for a fresh one, once.
      rejected(bearer);
      continue;
    }
    if (!resp.ok()) {
      auto err = api_error(describe(method, path), resp.status, resp.body);
      if (resp.status == 401) throw AuthError(err.what(), err.hint());
      throw err;
    }
    return resp;
  }
}

nlohmann::json ApiClient::create(const std::string& path, const nlohmann::json& object, const FieldMask& keep) {
  auto resp = call("POST", path, object.dump());
  return WatchDecoder().decode_object(resp.body, keep);
}

nlohmann::json ApiClient::get(const std::string& path) { return nlohmann::json::parse(call("GET", path).body); }

nlohmann::json ApiClient::merge_patch(const std::string& path, const nlohmann::json& patch) {
  return nlohmann::json::parse(call("PATCH", path, patch.dump(), "application/merge-patch+json").body);
}

bool ApiClient::remove(const std::string& path, std::optional<long> grace_period_seconds, const std::string& uid) {
  nlohmann::json opts = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"propagationPolicy", "Background"}};
  if (grace_period_seconds) opts["gracePeriodSeconds"] = *grace_period_seconds;
  if (!uid.empty()) opts["preconditions"] = {{"uid", uid}};
  try {
    call("DELETE", path, opts.dump());
    return true;
  } catch (const ApiError& e) {
    if (e.status() == 404) return false;
    throw;
  }
}

void ApiClient::wake_streams() {
  std::lock_guard lock(streams_mu_);
  // Only the ones asked to stop: the others would just go back to waiting.
  for (const auto& [c, stop] : streams_) {
    if (stop->load()) c->wake();
  }
}

void ApiClient::stream(const std::string& path, const http::Client::ChunkFn& on_chunk, const std::atomic<bool>& stop) {
  PoolLease client(*this);
  client.watch_stop(stop);
  // Registered while streaming, so whoever sets `stop` can wake the transfer (wake_streams).
  struct Registration {
    ApiClient& api;
    http::Client* c;
    Registration(ApiClient& a, http::Client* cl, const std::atomic<bool>& stop) : api(a), c(cl) {
      std::lock_guard lock(api.streams_mu_);
      api.streams_.emplace(c, &stop);
    }
    ~Registration() {
      std::lock_guard lock(api.streams_mu_);
      api.streams_.erase(c);
    }
  } registration(*this, &*client, stop);
  for (int attempt = 0;; ++attempt) {
    http::Request req;
    req.url = cluster_.server + path;
    std::string bearer;
    req.headers = headers({}, &bearer);
    ++requests_;
    http::Response resp = (*client).stream(req, on_chunk);
    if (resp.status == 401 && attempt == 0 && cluster_.tokens) {
      rejected(bearer);
      continue;
    }
    if (!resp.ok()) {
      auto err = api_error(describe("GET", path), resp.status, resp.body);
      if (resp.status == 401) throw AuthError(err.what(), err.hint());
      throw err;
    }
    return;
  }
}

}  // namespace krdc::kube
