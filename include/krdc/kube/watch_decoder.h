#pragma once
// Turning the lines of a watch stream (and the pages of a list) into events and objects. A waiting run decodes every change to its
// Jobs and Pods (a dozen events of several kilobytes per step), so this is krdc's hottest code
// while Jobs run: lines are scanned with simdjson's on-demand parser, and in slim mode only the
// parts a watcher keeps (metadata without managedFields, status) are built as nlohmann::json;
// the spec and managedFields — most of a Pod's bytes — are skipped without being materialised.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace krdc::kube {

struct WatchEvent {
  std::string type;        // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  nlohmann::json object;
};

// A page of a collection (GET .../pods?limit=N): its items decoded like watch objects.
struct ObjectList {
  std::string resource_version;
  std::string continue_token;  // non-empty: there is a next page
  std::vector<nlohmann::json> items;
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
  // A list response; throws UnreachableError when the body is not one. Same `slim` as decode(),
  // so listed and watched objects look alike to the watcher.
  ObjectList decode_list(std::string_view body, bool slim);

 private:
  struct Impl;  // simdjson stays out of the headers (it is a very large one)
  std::unique_ptr<Impl> impl_;
};

// One line, with a decoder of its own (tests, rare callers).
std::optional<WatchEvent> decode_watch_event(std::string_view line, bool slim = false);

}  // namespace krdc::kube
