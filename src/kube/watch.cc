#include "krdc/kube/watch.h"

#include <fmt/format.h>

#include <exception>
#include <random>
#include <thread>

namespace krdc::kube {

bool LineBuffer::feed(std::string_view chunk, const std::function<bool(std::string_view)>& on_line) {
  buffer_.append(chunk);
  size_t start = 0;
  for (size_t nl = buffer_.find('\n'); nl != std::string::npos; nl = buffer_.find('\n', start)) {
    const bool go_on = on_line(std::string_view(buffer_).substr(start, nl - start));
    start = nl + 1;
    if (!go_on) {
      buffer_.erase(0, start);
      return false;
    }
  }
  buffer_.erase(0, start);
  return true;
}

namespace {

// Lookups without copying (value("metadata", {}) would copy the whole metadata per event).
const nlohmann::json* metadata_of(const nlohmann::json& object) {
  auto md = object.find("metadata");
  return md != object.end() && md->is_object() ? &*md : nullptr;
}

std::string uid_of(const nlohmann::json& object) {
  const auto* md = metadata_of(object);
  if (!md) return {};
  if (auto uid = md->find("uid"); uid != md->end() && uid->is_string()) return uid->get<std::string>();
  return md->value("name", "");
}

std::string rv_of(const nlohmann::json& object) {
  const auto* md = metadata_of(object);
  return md ? md->value("resourceVersion", "") : std::string();
}

bool sleep_unless(const std::atomic<bool>& stop, std::chrono::milliseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    if (stop) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(50),
                                                                              until - std::chrono::steady_clock::now()));
  }
  return !stop;
}

}  // namespace

ListWatch::ListWatch(ApiClient& api, ListWatchOptions options, Handler on_event, Health on_health)
    : api_(api), options_(std::move(options)), on_event_(std::move(on_event)), on_health_(std::move(on_health)) {
  if (!options_.fields.keeps_all()) {
    for (const char* path : {"metadata.name", "metadata.uid", "metadata.resourceVersion"}) options_.fields.add(path);
  }
}

ListWatchStats ListWatch::stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

void ListWatch::deliver(WatchEvent event) {
  const std::string uid = uid_of(event.object);
  {
    std::lock_guard lock(stats_mu_);
    ++stats_.events;
  }
  on_event_(event);
  if (event.type == "DELETED") {
    known_.erase(uid);
  } else {
    // Kept only to report DELETED for what a relist no longer has (moved, not copied).
    known_[uid] = std::move(event.object);
  }
}

void ListWatch::relist(const std::atomic<bool>&) {
  std::string base = options_.path + "?limit=500";
  if (!options_.label_selector.empty()) base += "&labelSelector=" + query_escape(options_.label_selector);
  // Pages of 500 (a big run has many Jobs); the first page's resourceVersion is the list's.
  ObjectList list = decoder_.decode_list(api_.call("GET", base).body, options_.fields);
  for (int page = 0; page < 10'000 && !list.continue_token.empty(); ++page) {
    ObjectList next = decoder_.decode_list(api_.call("GET", base + "&continue=" + query_escape(list.continue_token)).body,
                                           options_.fields);
    for (auto& item : next.items) list.items.push_back(std::move(item));
    list.continue_token = std::move(next.continue_token);
  }
  {
    std::lock_guard lock(stats_mu_);
    ++stats_.lists;
    if (!resource_version_.empty()) ++stats_.relists;
  }
  // The list is the truth now: what we knew and it lacks was deleted while we were not watching.
  std::map<std::string, nlohmann::json> before;
  before.swap(known_);
  for (auto& item : list.items) {
    const std::string uid = uid_of(item);
    const bool had = before.erase(uid) > 0;
    deliver({had ? "MODIFIED" : "ADDED", std::move(item)});
  }
  for (auto& [uid, object] : before) deliver({"DELETED", std::move(object)});
  resource_version_ = list.resource_version;
  gone_ = false;
}

void ListWatch::watch_once(const std::atomic<bool>& stop) {
  std::string q = fmt::format("{}?watch=1&allowWatchBookmarks=true&timeoutSeconds={}&resourceVersion={}", options_.path,
                              options_.timeout_seconds, query_escape(resource_version_));
  if (!options_.label_selector.empty()) q += "&labelSelector=" + query_escape(options_.label_selector);
  {
    std::lock_guard lock(stats_mu_);
    ++stats_.watches;
  }
  LineBuffer lines;
  bool healthy_told = false;
  // Nothing may throw through libcurl's C frames: a failure inside the chunk callback is kept
  // here, the transfer stopped, and the error rethrown once the stream has returned.
  std::exception_ptr failure;
  try {
    api_.stream(
        q,
        [&](std::string_view chunk) {
          if (!healthy_told && on_health_) on_health_(true, {});
          healthy_told = true;
          try {
          return lines.feed(chunk, [&](std::string_view line) {
            auto event = decoder_.decode(line, options_.fields);
            if (!event) return true;
            if (event->type == "ERROR") {
              // A Status inside the stream; 410 (Expired/Gone) means our resourceVersion is too old.
              const long code = event->object.value("code", 0L);
              if (code == 410) {
                if (options_.log) options_.log(fmt::format("watch {}: 410 Gone at resourceVersion {}: relisting", options_.path, resource_version_));
                gone_ = true;
                return false;
              }
              throw UnreachableError(fmt::format("watch {}: error event: {}", options_.path,
                                                 event->object.value("message", std::string("(no message)"))));
            }
            const std::string rv = rv_of(event->object);
            if (!rv.empty()) resource_version_ = rv;
            if (event->type != "BOOKMARK") deliver(std::move(*event));
            return !stop.load();
          });
          } catch (...) {
            failure = std::current_exception();
            return false;
          }
        },
        stop);
    if (failure) std::rethrow_exception(failure);
  } catch (const ApiError& e) {
    if (e.status() == 410) {
      if (options_.log) options_.log(fmt::format("watch {}: HTTP 410 Gone at resourceVersion {}: relisting", options_.path, resource_version_));
      gone_ = true;
      return;
    }
    throw;
  }
}

void ListWatch::run(const std::atomic<bool>& stop) {
  std::mt19937_64 rng{std::random_device{}()};
  int failures = 0;
  while (!stop) {
    try {
      if (gone_) {
        relist(stop);
        if (on_health_) on_health_(true, {});
      }
      watch_once(stop);
      failures = 0;
      if (!gone_ && !stop) {
        std::lock_guard lock(stats_mu_);
        ++stats_.resumes;
      }
      continue;
    } catch (const http::CancelledError&) {
      return;
    } catch (const AuthError&) {
      throw;  // a credential that cannot be renewed: nothing to retry
    } catch (const std::exception& e) {
      if (stop) return;
      if (on_health_) on_health_(false, e.what());
      if (options_.log) options_.log(fmt::format("watch {}: {} (resuming from resourceVersion {})", options_.path, e.what(), resource_version_));
      // Jittered backoff, so a restarting API server is not hammered by every watcher at once.
      auto d = options_.backoff_base * (1LL << std::min(failures, 10));
      d = std::min<std::chrono::milliseconds>(d, options_.backoff_max);
      std::uniform_int_distribution<long long> jitter(d.count() / 2, d.count());
      ++failures;
      {
        std::lock_guard lock(stats_mu_);
        ++stats_.resumes;
      }
      if (!sleep_unless(stop, std::chrono::milliseconds(jitter(rng)))) return;
    }
  }
}

}  // namespace krdc::kube
