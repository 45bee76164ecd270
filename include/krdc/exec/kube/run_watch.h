#pragma once
// One pair of watches (Jobs and Pods, label selector krdc/run=<run>) per namespace and run,
// shared by every step waiting there: N parallel steps cost two streams, not 2N, and no
// step polls. Events are dispatched by Job name to the step that subscribed to it; a step
// waits on its waiter's fd (next to the cancel fd) and reads the latest state when woken.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <type_traits>

#include "krdc/exec/kube/object_views.h"
#include "krdc/kube/api_client.h"
#include "krdc/kube/watch.h"

namespace krdc::exec::kube {

// What one step knows about its Job and Pods, as the watches last saw them.
struct StepState {
  std::optional<JobView> job;                 // empty until seen
  bool job_deleted = false;
  std::map<std::string, PodView> pods;        // name → last state (deleted ones removed)
  std::map<std::string, PodView> deleted_pods;  // name → last state before deletion
  std::string watch_error;                    // non-empty while a watch cannot reach the server
  std::chrono::steady_clock::time_point unhealthy_since{};  // first failure of the current outage
  std::chrono::steady_clock::time_point last_failure{};     // latest failed (re)connect
  std::string fatal;                          // the watch stopped for good (credential refused)
};

class StepWaiter {
 public:
  StepWaiter();
  ~StepWaiter();
  StepWaiter(const StepWaiter&) = delete;
  StepWaiter& operator=(const StepWaiter&) = delete;

  int fd() const { return fd_; }  // readable after a change; drain() before reading state
  void drain();
  StepState snapshot() const;
  // Applies f to the state and wakes the step, unless f returns false (nothing it decides on
  // changed: most Job and Pod updates only touch counters and conditions krdc does not read).
  template <class F>
  void update(F&& f) {
    bool changed = true;
    {
      std::lock_guard lock(mu_);
      if constexpr (std::is_same_v<decltype(f(state_)), bool>) {
        changed = f(state_);
      } else {
        f(state_);
      }
    }
    if (changed) notify();
  }

 private:
  void notify();
  mutable std::mutex mu_;
  StepState state_;
  int fd_ = -1;
};

class RunWatch {
 public:
  RunWatch(krdc::kube::ApiClient& api, std::string ns, std::string run_label,
           std::function<void(std::string_view)> log = {});
  ~RunWatch();  // stops both watches (within about a second) and joins them
  RunWatch(const RunWatch&) = delete;
  RunWatch& operator=(const RunWatch&) = delete;

  // Subscribe BEFORE creating the Job, so no event about it can be missed; the watches start
  // on the first subscription.
  std::shared_ptr<StepWaiter> subscribe(const std::string& job_name);
  void unsubscribe(const std::string& job_name);

  krdc::kube::ListWatchStats job_stats() const;
  krdc::kube::ListWatchStats pod_stats() const;

 private:
  void start_locked();
  void dispatch(const std::string& job_name, const std::function<bool(StepState&)>& f);
  void on_job(const krdc::kube::WatchEvent& e);
  void on_pod(const krdc::kube::WatchEvent& e);
  void on_health(const char* which, bool healthy, const std::string& error);
  void run_watch(krdc::kube::ListWatch& lw, const char* which);

  krdc::kube::ApiClient& api_;
  std::string ns_;
  std::string run_label_;
  std::function<void(std::string_view)> log_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<StepWaiter>> waiters_;
  std::map<std::string, std::string> unhealthy_;  // which watch → error
  std::chrono::steady_clock::time_point unhealthy_since_{};
  std::string fatal_;
  std::atomic<bool> stop_{false};
  std::unique_ptr<krdc::kube::ListWatch> jobs_;
  std::unique_ptr<krdc::kube::ListWatch> pods_;
  std::thread jobs_thread_;
  std::thread pods_thread_;
};

}  // namespace krdc::exec::kube
