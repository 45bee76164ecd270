#include "krdc/exec/kube/run_watch.h"

#include <fmt/format.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>

#include "krdc/exec/kube/job_manifest.h"
#include "krdc/exec/kube/object_views.h"

namespace krdc::exec::kube {

using krdc::kube::ListWatch;
using krdc::kube::ListWatchOptions;
using krdc::kube::WatchEvent;

StepWaiter::StepWaiter() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (fd_ < 0) throw std::runtime_error("eventfd failed");
}

StepWaiter::~StepWaiter() { close(fd_); }

void StepWaiter::notify() {
  const uint64_t one = 1;
  [[maybe_unused]] auto n = write(fd_, &one, sizeof one);
}

void StepWaiter::drain() {
  uint64_t v;
  [[maybe_unused]] auto n = read(fd_, &v, sizeof v);
}

StepState StepWaiter::snapshot() const {
  std::lock_guard lock(mu_);
  return state_;
}

RunWatch::RunWatch(krdc::kube::ApiClient& api, std::string ns, std::string run_label,
                   std::function<void(std::string_view)> log)
    : api_(api), ns_(std::move(ns)), run_label_(std::move(run_label)), log_(std::move(log)) {}

RunWatch::~RunWatch() {
  stop_ = true;
  api_.wake_streams();
  if (jobs_thread_.joinable()) jobs_thread_.join();
  if (pods_thread_.joinable()) pods_thread_.join();
}

std::shared_ptr<StepWaiter> RunWatch::subscribe(const std::string& job_name) {
  auto waiter = std::make_shared<StepWaiter>();
  std::lock_guard lock(mu_);
  waiters_[job_name] = waiter;
  waiter->update([&](StepState& s) {
    s.fatal = fatal_;
    if (!unhealthy_.empty()) {
      s.watch_error = unhealthy_.begin()->second;
      s.unhealthy_since = unhealthy_since_;
      s.last_failure = unhealthy_since_;
    }
  });
  start_locked();
  return waiter;
}

void RunWatch::unsubscribe(const std::string& job_name) {
  std::lock_guard lock(mu_);
  waiters_.erase(job_name);
}

krdc::kube::ListWatchStats RunWatch::job_stats() const { return jobs_ ? jobs_->stats() : krdc::kube::ListWatchStats{}; }
krdc::kube::ListWatchStats RunWatch::pod_stats() const { return pods_ ? pods_->stats() : krdc::kube::ListWatchStats{}; }

void RunWatch::start_locked() {
  if (jobs_) return;
  const std::string selector = fmt::format("{}={}", kRunLabel, run_label_);
  ListWatchOptions jo;
  jo.path = fmt::format("/apis/batch/v1/namespaces/{}/jobs", ns_);
  jo.label_selector = selector;
  ListWatchOptions po;
  po.path = fmt::format("/api/v1/namespaces/{}/pods", ns_);
  po.label_selector = selector;
  jo.log = log_;
  po.log = log_;
  // Waiting reads the views' fields, and a Pod's labels to find its Job.
  jo.fields = job_view_fields();
  po.fields = pod_view_fields();
  po.fields.add("metadata.labels");
  jobs_ = std::make_unique<ListWatch>(
      api_, jo, [this](const WatchEvent& e) { on_job(e); },
      [this](bool healthy, const std::string& err) { on_health("jobs", healthy, err); });
  pods_ = std::make_unique<ListWatch>(
      api_, po, [this](const WatchEvent& e) { on_pod(e); },
      [this](bool healthy, const std::string& err) { on_health("pods", healthy, err); });
  jobs_thread_ = std::thread([this] { run_watch(*jobs_, "jobs"); });
  pods_thread_ = std::thread([this] { run_watch(*pods_, "pods"); });
}

void RunWatch::run_watch(ListWatch& lw, const char* which) {
  try {
    lw.run(stop_);
  } catch (const std::exception& e) {
    // Only a credential that cannot be renewed gets here: every waiter must hear it.
    std::lock_guard lock(mu_);
    fatal_ = fmt::format("watching {} stopped: {}", which, e.what());
    for (auto& [name, w] : waiters_) w->update([&](StepState& s) { s.fatal = fatal_; });
  }
}

void RunWatch::dispatch(const std::string& job_name, const std::function<bool(StepState&)>& f) {
  std::shared_ptr<StepWaiter> waiter;
  {
    std::lock_guard lock(mu_);
    auto it = waiters_.find(job_name);
    if (it == waiters_.end()) return;  // another run's step, or one that finished
    waiter = it->second;
  }
  waiter->update(f);
}

void RunWatch::on_job(const WatchEvent& e) {
  const auto md = e.object.find("metadata");
  if (md == e.object.end() || !md->is_object()) return;
  const std::string name = md->value("name", "");
  if (log_) log_(fmt::format("watch: job {} {}", name, e.type));
  JobView view = view_job(e.object);
  dispatch(name, [&](StepState& s) {
    const bool changed = (e.type == "DELETED" && !s.job_deleted) || !s.job || !(*s.job == view);
    if (e.type == "DELETED") s.job_deleted = true;
    s.job = std::move(view);
    return changed;
  });
}

void RunWatch::on_pod(const WatchEvent& e) {
  const auto md = e.object.find("metadata");
  if (md == e.object.end() || !md->is_object()) return;
  const std::string pod = md->value("name", "");
  std::string job;
  if (auto labels = md->find("labels"); labels != md->end() && labels->is_object()) {
    job = labels->value("batch.kubernetes.io/job-name", labels->value("job-name", ""));
  }
  if (log_) {
    log_(fmt::format("watch: pod {} {} {}", pod, e.type,
                     e.object.value("status", nlohmann::json::object()).value("phase", "")));
  }
  if (job.empty()) return;
  PodView view = view_pod(e.object, kContainerName);
  dispatch(job, [&](StepState& s) {
    if (e.type == "DELETED") {
      s.pods.erase(pod);
      s.deleted_pods[pod] = std::move(view);
      return true;
    }
    auto it = s.pods.find(pod);
    if (it != s.pods.end() && it->second == view) return false;
    s.pods[pod] = std::move(view);
    return true;
  });
}

void RunWatch::on_health(const char* which, bool healthy, const std::string& error) {
  std::lock_guard lock(mu_);
  const bool was_healthy = unhealthy_.empty();
  if (healthy) {
    unhealthy_.erase(which);
    if (was_healthy || !unhealthy_.empty()) return;  // nothing changed for the waiters
  } else {
    unhealthy_[which] = error;
    if (was_healthy) unhealthy_since_ = std::chrono::steady_clock::now();
  }
  // Every failed reconnect wakes the waiters, so they can judge how long the outage has lasted
  // without a timer of their own; a quiet but working watch sends nothing and needs nothing.
  const std::string err = unhealthy_.empty() ? "" : unhealthy_.begin()->second;
  const auto now = std::chrono::steady_clock::now();
  for (auto& [name, w] : waiters_) {
    w->update([&](StepState& s) {
      s.watch_error = err;
      s.unhealthy_since = unhealthy_since_;
      if (!healthy) s.last_failure = now;
    });
  }
}

}  // namespace krdc::exec::kube
