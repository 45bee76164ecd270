#pragma once
// A small Kubernetes REST client over the shared HTTP client (kubectl-equivalent calls):
// create, get, list, delete (propagationPolicy=Background), and streams for watch and
// pods/log. Paths are API paths ("/apis/batch/v1/namespaces/alice/jobs").
//
// Failure rules (docs/architecture.md, "Kubernetes"): connection errors, 429 (Retry-After) and 5xx are retried with
// jittered backoff by http::Client; a 401 invalidates the TokenSource and the call is made once
// more with a fresh token (a second 401 is an AuthError); every other non-2xx answer becomes an
// ApiError carrying the API server's Status message. 409 is the caller's to reconcile (e.g.
// create of a fixed name that a retried POST already made).
//
// Thread-safe: short calls borrow an http::Client from a small pool (connections and TLS
// sessions are reused across calls); each stream gets its own Client so a watch never blocks
// other calls.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <map>
#include <semaphore>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "krdc/http/client.h"
#include "krdc/kube/api_error.h"
#include "krdc/kube/cluster.h"
#include "krdc/kube/field_mask.h"

namespace krdc::kube {

// Percent-encodes a query value (label selectors carry '=', ',', '/').
std::string query_escape(std::string_view value);

struct ApiClientOptions {
  // Timeouts, retries, -v log, `cancelled` (an interrupt; a watch's own stop is added to it);
  // CA and client cert are taken from the cluster.
  http::ClientOptions http;
  // Calls (not streams) in flight at once; more wait their turn. Each concurrent call needs a
  // connection of its own (HTTP/1.1), so this bounds the TLS handshakes a burst of steps costs
  // (20 steps starting together opened 20) and the load krdc puts on an API server, as
  // client-go's rate limiter does for kubectl.
  int max_parallel_calls = 6;
};

class ApiClient {
 public:
  ApiClient(ClusterAccess cluster, ApiClientOptions options = {});
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  const ClusterAccess& cluster() const { return cluster_; }

  // POST `path` with a JSON body; returns the created object, or the part of it `keep` names.
  // Throws ApiError (409 included).
  nlohmann::json create(const std::string& path, const nlohmann::json& object, const FieldMask& keep = {});
  // GET; throws ApiError (404 included).
  nlohmann::json get(const std::string& path);
  // PATCH with a JSON merge patch (RFC 7386), e.g. {"metadata":{"annotations":{...}}}.
  nlohmann::json merge_patch(const std::string& path, const nlohmann::json& patch);
  // DELETE with propagationPolicy=Background (dependents such as a Job's Pods are removed by
  // the garbage collector). Returns false when the object was already gone (404).
  // With `uid`, only that very object is deleted (a precondition: 409 if the name now belongs
  // to another object), never one that took its name since.
  bool remove(const std::string& path, std::optional<long> grace_period_seconds = std::nullopt,
              const std::string& uid = {});

  // A long response (watch, follow logs) handed over in chunks; `stop` ends the transfer with
  // http::CancelledError — at once after wake_streams(), else within a second. Non-2xx →
  // ApiError (after the 401-once rule). Returns normally when the server ends the response.
  void stream(const std::string& path_and_query, const http::Client::ChunkFn& on_chunk,
              const std::atomic<bool>& stop);
  // Thread-safe: every stream in progress whose `stop` is set ends now. Call after setting it.
  void wake_streams();

  // Any call: returns the response for 2xx, throws ApiError otherwise.
  http::Response call(const std::string& method, const std::string& path_and_query, const std::string& body = {},
                      const std::string& content_type = "application/json");

  // Counters for benchmarks and tests.
  long requests() const { return requests_.load(); }

 private:
  http::ClientOptions client_options() const;
  http::Headers headers(const std::string& content_type, std::string* bearer);
  void rejected(const std::string& bearer);
  std::string describe(const std::string& method, const std::string& path) const;

  ClusterAccess cluster_;
  ApiClientOptions options_;
  // One pool for calls and streams, so a log stream reuses a warm connection (no TLS handshake
  // per step). Each pooled client's cancellation reads a slot that a stream points at its stop
  // flag while it runs (calls leave it empty: a delete during cancellation must not be cut).
  struct Pooled {
    std::unique_ptr<http::Client> client;
    std::shared_ptr<std::atomic<const std::atomic<bool>*>> stop_slot;
  };
  friend class PoolLease;
  Pooled acquire();
  void release(Pooled pooled);
  std::mutex pool_mu_;
  // TLS sessions shared by the pool: a new pooled connection resumes instead of a full handshake.
  std::shared_ptr<http::SessionShare> share_ = std::make_shared<http::SessionShare>();
  std::vector<Pooled> pool_;
  std::mutex streams_mu_;
  std::map<http::Client*, const std::atomic<bool>*> streams_;  // clients inside stream() → their stop flag
  std::atomic<long> requests_{0};
  std::counting_semaphore<> call_slots_;
};

}  // namespace krdc::kube
