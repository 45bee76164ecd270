#include "krdc/auth/step_targets.h"

#include <fmt/format.h>

namespace krdc::auth {

std::string local_cluster(const config::Config& config, const config::Env& env) {
  if (!config.local_cluster.empty()) return config.local_cluster;
  return env("KRDC_LOCAL_CLUSTER").value_or("");
}

namespace {

StepTarget target(const workflow::Workflow& wf, const config::Config& config, const workflow::Step& step,
                  const std::string& cluster, bool local) {
  StepTarget t{step.name, cluster, "", local};
  if (auto it = wf.clusters.find(cluster); it != wf.clusters.end()) t.audience = it->second.audience;
  if (t.audience.empty()) {
    if (auto it = config.clusters.find(cluster); it != config.clusters.end()) t.audience = it->second.audience;
  }
  if (t.audience.empty()) {
    throw workflow::invalid_at(step.mark,
                               fmt::format("step \"{}\": cluster \"{}\" has no audience (its hub client)", step.name, cluster),
                               fmt::format("set spec.clusters.{0}.audience in the workflow or clusters.{0}.audience in "
                                           "your krdc config", cluster));
  }
  return t;
}

}  // namespace

std::vector<StepTarget> step_targets(const workflow::Workflow& wf, const config::Config& config,
                                     const config::Env& env) {
  const std::string local = local_cluster(config, env);
  std::vector<StepTarget> out;
  for (const auto& step : wf.steps) {
    // pull: shared runs the image on the LOCAL cluster (scenario 1), whatever cluster publishes
    // it, so that is where the credential is needed.
    std::string cluster = step.pull == "shared" ? local : step.cluster;
    if (cluster.empty()) {
      if (step.pull == "shared") {
        throw workflow::invalid_at(step.mark, fmt::format("step \"{}\" uses pull: shared but no local cluster is configured", step.name),
                                   "set localCluster in your krdc config (or KRDC_LOCAL_CLUSTER)");
      }
      continue;
    }
    out.push_back(target(wf, config, step, cluster, cluster == local));
    // A remote step's proxy Job runs in the local cluster: the user needs that one as well.
    if (!local.empty() && cluster != local) out.push_back(target(wf, config, step, local, true));
  }
  return out;
}

}  // namespace krdc::auth
