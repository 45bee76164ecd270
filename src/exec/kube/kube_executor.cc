#include "krdc/exec/kube/kube_executor.h"

#include <fmt/format.h>

#include "krdc/exec/kube/job_run.h"

namespace krdc::exec::kube {

using nlohmann::json;

KubeExecutor::KubeExecutor(std::shared_ptr<krdc::kube::ApiClient> api, KubeExecutorOptions options)
    : api_(std::move(api)), options_(std::move(options)) {}

KubeExecutor::~KubeExecutor() = default;

JobOptions KubeExecutor::job_options(const StepRequest& req) const {
  JobOptions o;
  o.ns = api_->cluster().ns;
  o.image_pull_secrets = options_.image_pull_secrets;
  o.ttl_seconds_after_finished = options_.ttl_seconds_after_finished;
  o.termination_grace_seconds = std::max<long long>(1, (req.kill_grace_ms + 999) / 1000);
  return o;
}

RunWatch& KubeExecutor::watch(const std::string& run_id) {
  std::lock_guard lock(mu_);
  auto& w = watches_[run_id];
  if (!w) w = std::make_unique<RunWatch>(*api_, api_->cluster().ns, label_value(run_id), options_.log);
  return *w;
}

RunWatch* KubeExecutor::watch_for(const std::string& run_id) {
  std::lock_guard lock(mu_);
  auto it = watches_.find(run_id);
  return it == watches_.end() ? nullptr : it->second.get();
}

nlohmann::json KubeExecutor::describe(const StepRequest& request) const {
  return render_job(request, job_options(request));
}

std::vector<std::string> KubeExecutor::emergency_stop() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& job : live_jobs_) {
    out.push_back(fmt::format("Job {} in namespace {} on cluster {} (kubectl -n {} delete job {})", job,
                              api_->cluster().ns, api_->cluster().name, api_->cluster().ns, job));
  }
  return out;
}

const std::vector<AccessNeed>& KubeExecutor::job_needs() {
  static const std::vector<AccessNeed> needs = {{"create", "batch", "jobs", ""}, {"watch", "batch", "jobs", ""},
                                                {"delete", "batch", "jobs", ""}, {"watch", "", "pods", ""},
                                                {"get", "", "pods", "log"}};
  return needs;
}

void KubeExecutor::preflight(const std::vector<const workflow::Step*>& steps) { require_access(steps, job_needs()); }

void KubeExecutor::require_access(const std::vector<const workflow::Step*>& steps, const std::vector<AccessNeed>& needs) {
  if (steps.empty()) return;
  const auto& cluster = api_->cluster();
  std::vector<std::string> refused;
  for (const AccessNeed& n : needs) {
    json attributes = {{"namespace", cluster.ns}, {"verb", n.verb}, {"group", n.group}, {"resource", n.resource}};
    if (*n.subresource) attributes["subresource"] = n.subresource;
    const json review = api_->create("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                                     {{"apiVersion", "authorization.k8s.io/v1"},
                                      {"kind", "SelfSubjectAccessReview"},
                                      {"spec", {{"resourceAttributes", attributes}}}});
    const json& status = review.contains("status") ? review["status"] : json::object();
    if (!status.value("allowed", false)) {
      refused.push_back(fmt::format("{} {}{}{}", n.verb, n.resource, *n.subresource ? "/" : "", n.subresource));
    }
  }
  if (refused.empty()) return;
  std::string names;
  for (size_t i = 0; i < steps.size() && i < 3; ++i) names += fmt::format("{}\"{}\"", i ? ", " : "", steps[i]->name);
  if (steps.size() > 3) names += fmt::format(" and {} more", steps.size() - 3);
  std::string what;
  for (size_t i = 0; i < refused.size(); ++i) what += (i ? ", " : "") + refused[i];
  throw AuthError(fmt::format("step{} {}: not allowed on cluster \"{}\" in namespace {}: the cluster refuses {}",
                              steps.size() > 1 ? "s" : "", names, cluster.name, cluster.ns, what),
                  fmt::format("ask the cluster's administrators to let you run Jobs in namespace {}, or set "
                              "clusters.{}.namespace to a namespace where you may",
                              cluster.ns, cluster.name));
}

StepResult KubeExecutor::run(const StepRequest& req, StepObserver& observer, const CancelToken& cancel) {
  const auto& step = req.step;
  if (auto refused = missing_image(step)) return *refused;
  return run_job(req, render_job(req, job_options(req)), observer, cancel);
}

StepResult KubeExecutor::run_job(const StepRequest& req, const json& manifest, StepObserver& observer,
                                 const CancelToken& cancel) {
  JobRunContext ctx{*api_, watch(req.run_id), log_threads_, options_, [this](const std::string& job, bool live) {
                      std::lock_guard lock(mu_);
                      if (live) {
                        live_jobs_.insert(job);
                      } else {
                        live_jobs_.erase(job);
                      }
                    }};
  return JobRun(std::move(ctx), req, manifest, observer, cancel).run();
}

}  // namespace krdc::exec::kube
