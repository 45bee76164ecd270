#pragma once
// Turning the lines of a watch stream (and the pages of a list) into events and objects. A waiting run decodes every change to its
// Jobs and Pods (a dozen events of several kilobytes per step), so this is krdc's hottest code
// while Jobs run: lines are scanned with simdjson's on-demand parser, and only the fields a
// FieldMask names are built as nlohmann::json; the rest (a Pod's spec and managedFields, most
// of its bytes) is skipped without being materialised.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "krdc/kube/field_mask.h"

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
  // protocol error: the stream is restarted). The object keeps what `keep` names (an ERROR
  // event's Status is kept whole).
  std::optional<WatchEvent> decode(std::string_view line, const FieldMask& keep = {});
  // A list response; throws UnreachableError when the body is not one. Same `keep` as decode(),
  // so listed and watched objects look alike to the watcher.
  ObjectList decode_list(std::string_view body, const FieldMask& keep = {});
  // One object (a create's or get's response); throws UnreachableError when the body is not one.
  nlohmann::json decode_object(std::string_view body, const FieldMask& keep = {});

 private:
  struct Impl;  // simdjson stays out of the headers (it is a very large one)
  std::unique_ptr<Impl> impl_;
};

// One line, with a decoder of its own (tests, rare callers).
std::optional<WatchEvent> decode_watch_event(std::string_view line, const FieldMask& keep = {});

}  // namespace krdc::kube
