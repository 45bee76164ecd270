#pragma once
// Builds the executors a run needs. The one place that knows which executor kinds exist and
// what each needs (cluster registry, credentials); `krdc run` calls it once, after the
// authorisation check, so every executor gets its TokenSources ready-made.
#include <map>
#include <memory>
#include <string>

#include "krdc/auth/token_source.h"
#include "krdc/cli/options.h"
#include "krdc/cli/run_command.h"
#include "krdc/config/config.h"
#include "krdc/config/env.h"
#include "krdc/exec/selection.h"
#include "krdc/kube/cluster.h"
#include "krdc/workflow/workflow.h"

namespace krdc::cli {

struct ExecutorContext {
  const workflow::Workflow& wf;
  const GlobalOptions& global;
  const RunArgs& args;
  const config::Config& config;
  const config::Env& env;
  std::string local_cluster;  // "" when none is configured
  // Credentials per cluster name, from auth::authorize_steps (empty for a dry run or when no
  // step needs a cluster).
  std::map<std::string, std::shared_ptr<auth::TokenSource>> tokens;
};

exec::ExecutorSet make_executors(const ExecutorContext& ctx);

// The local cluster's access (server, namespace, CA, credential) as the executors get it; also
// for `krdc status` and `krdc logs`, which ask it about Jobs still in flight.
kube::ClusterAccess local_cluster_access(const ExecutorContext& ctx, const std::string& cluster);

}  // namespace krdc::cli
