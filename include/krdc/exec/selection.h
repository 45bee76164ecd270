#pragma once
// Which kind of executor runs a step, and the set of executors a run uses.
// The rule (docs/architecture.md, "Executors"): no cluster → "process" (embedded default); the local cluster, or
// `pull: shared` (scenario 1: the image comes from shared storage) → "kube"; any other
// cluster → "proxy" (scenario 2: a proxy Job in the local cluster runs it remotely).
#include <map>
#include <memory>
#include <string>

#include "krdc/exec/executor.h"

namespace krdc::exec {

std::string executor_kind(const workflow::Step& step, const std::string& local_cluster);

class ExecutorSet {
 public:
  // One executor may serve two kinds' needs (the proxy executor runs its Jobs through the local
  // kube executor): shared, and listed once by all().
  void add(const std::string& kind, std::shared_ptr<Executor> executor);
  bool has(const std::string& kind) const { return executors_.count(kind) > 0; }
  // Throws InvalidInput naming the kind when no executor of that kind is configured.
  Executor& get(const std::string& kind) const;
  std::vector<Executor*> all() const;

 private:
  std::map<std::string, std::shared_ptr<Executor>> executors_;
};

}  // namespace krdc::exec
