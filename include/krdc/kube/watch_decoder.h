#pragma once
// Turning the lines of a watch stream into events. A waiting run decodes every change to its
// Jobs and Pods (a dozen events of several kilobytes per step), so this is krdc's hottest code
// while Jobs run: lines are scanned with simdjson's on-demand parser, and in slim mode only the
// parts a watcher keeps (metadata without managedFields, status) are built as nlohmann::json;
// the spec and managedFields — most of a Pod's bytes — are skipped without being materialised.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace krdc::kube {

struct WatchEvent {
  std::string type;        // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  nlohmann::json object;
};

// Keeps its parser and buffer between lines (no allocation per event once warm); one per thread.
class WatchDecoder {
 public:
  WatchDecoder();
  ~WatchDecoder();
  WatchDecoder(const WatchDecoder&) = delete;
  WatchDecoder& operator=(const WatchDecoder&) = delete;

  // nullopt for a blank line; throws UnreachableError for a line that is not a watch event (a
  // protocol error: the stream is restarted). With `slim`, the object's spec and
  // metadata.managedFields are dropped.
  std::optional<WatchEvent> decode(std::string_view line, bool slim);

 private:
  struct Impl;  // simdjson stays out of the headers (it is a very large one)
  std::unique_ptr<Impl> impl_;
};

// One line, with a decoder of its own (tests, rare callers).
std::optional<WatchEvent> decode_watch_event(std::string_view line, bool slim = false);

// What watchers keep of an object: metadata without managedFields, and status — no spec.
nlohmann::json slim_object(const nlohmann::json& object);

}  // namespace krdc::kube
