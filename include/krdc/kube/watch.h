#pragma once
// List-then-watch, the way client-go's reflector does it, for one collection and selector:
//   list (resourceVersion R) → watch from R with allowWatchBookmarks → on a dropped or ended
//   stream resume from the last resourceVersion seen (events and bookmarks both advance it) →
//   on 410 Gone (HTTP 410, or an ERROR event with code 410: the server no longer has history
//   that old, e.g. after an API server restart) list again, report every object as ADDED or
//   MODIFIED and the ones that vanished meanwhile as DELETED, and watch on.
// The handler sees one ordered stream of events whatever happened on the wire.
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "krdc/kube/api_client.h"
#include "krdc/kube/watch_decoder.h"

namespace krdc::kube {

// Splits a byte stream into lines (watch events are newline-delimited JSON).
class LineBuffer {
 public:
  // Appends `chunk` and calls `on_line` for every complete line. Returns false as soon as
  // on_line does (the rest stays buffered).
  bool feed(std::string_view chunk, const std::function<bool(std::string_view)>& on_line);
  void clear() { buffer_.clear(); }

 private:
  std::string buffer_;
};

struct ListWatchOptions {
  std::string path;            // collection, e.g. /api/v1/namespaces/alice/pods
  std::string label_selector;  // e.g. krdc/run=20261125-081000-abcdef
  int timeout_seconds = 300;   // the server ends each watch after this; we resume at once
  std::chrono::milliseconds backoff_base{250};
  std::chrono::milliseconds backoff_max{5000};
  std::function<void(std::string_view)> log;  // -v: relists and resumes, one line each
  // What the handler reads of each object (default: all). ListWatch adds the metadata it needs
  // itself (name, uid, resourceVersion).
  FieldMask fields;
};

struct ListWatchStats {
  long lists = 0;
  long watches = 0;
  long resumes = 0;            // watches re-opened from a resourceVersion
  long relists = 0;            // lists after 410 Gone
  long events = 0;
};

class ListWatch {
 public:
  using Handler = std::function<void(const WatchEvent& event)>;
  // Told when the connection is lost (`healthy` false, with the error) and when a list or
  // watch works again (`healthy` true); lets waiters decide how long an outage may last.
  using Health = std::function<void(bool healthy, const std::string& error)>;

  ListWatch(ApiClient& api, ListWatchOptions options, Handler on_event, Health on_health = {});

  // Runs until `stop` turns true (checked about once a second, and during backoff). Auth
  // errors (the credential cannot be renewed) end it by throwing; everything else is retried.
  void run(const std::atomic<bool>& stop);

  ListWatchStats stats() const;

 private:
  void relist(const std::atomic<bool>& stop);
  // Returns normally when the server ended the watch; throws on errors. Sets gone_ on 410.
  void watch_once(const std::atomic<bool>& stop);
  void deliver(WatchEvent event);

  ApiClient& api_;
  ListWatchOptions options_;
  Handler on_event_;
  Health on_health_;
  std::string resource_version_;
  std::map<std::string, nlohmann::json> known_;  // uid → last object seen
  WatchDecoder decoder_;  // the watch thread's own
  bool gone_ = true;                               // start with a list
  mutable std::mutex stats_mu_;
  ListWatchStats stats_;
};

}  // namespace krdc::kube
