#include "krdc/exec/selection.h"

#include <fmt/format.h>

#include <algorithm>

#include "krdc/util/errors.h"

namespace krdc::exec {

std::string executor_kind(const workflow::Step& step, const std::string& local_cluster) {
  if (step.cluster.empty()) return "process";
  if (step.cluster == local_cluster || step.pull == "shared") return "kube";
  return "proxy";
}

void ExecutorSet::add(const std::string& kind, std::shared_ptr<Executor> executor) {
  executors_[kind] = std::move(executor);
}

Executor& ExecutorSet::get(const std::string& kind) const {
  auto it = executors_.find(kind);
  if (it == executors_.end()) {
    throw InvalidInput(fmt::format("no {} executor is configured", kind),
                       kind == "process" ? "" : "configure the cluster in spec.clusters or your krdc config");
  }
  return *it->second;
}

std::vector<Executor*> ExecutorSet::all() const {
  std::vector<Executor*> out;
  for (const auto& [kind, e] : executors_) {
    if (std::find(out.begin(), out.end(), e.get()) == out.end()) out.push_back(e.get());
  }
  return out;
}

}  // namespace krdc::exec
