#pragma once
// Which cluster and audience each step of a workflow needs, for authorize_steps(). The
// workflow's spec.clusters wins over the config's clusters for server/audience; the local
// cluster is the config's localCluster, else KRDC_LOCAL_CLUSTER. Steps without a cluster run
// as host processes and need no credential — unless `pull: shared`, which runs on the local
// cluster. With no local cluster configured every cluster is treated as remote: a token
// exchange works for any cluster the user may use, so nothing is wrongly allowed. A step on a
// remote cluster also needs the local cluster, where its proxy Job runs: it gets a target there too.
#include <string>
#include <vector>

#include "krdc/auth/authorize.h"
#include "krdc/config/config.h"
#include "krdc/config/env.h"
#include "krdc/workflow/workflow.h"

namespace krdc::auth {

std::string local_cluster(const config::Config& config, const config::Env& env);

// Throws InvalidInput for a step on a cluster nobody described an audience for.
std::vector<StepTarget> step_targets(const workflow::Workflow& wf, const config::Config& config,
                                     const config::Env& env);

}  // namespace krdc::auth
