#pragma once
// The local cluster, for `krdc status` and `krdc logs` to ask about Jobs still in flight: the
// same access the executors get (executor_factory's local_cluster_access: config, kubeconfig,
// the hub token for its audience). Never fatal: when the cluster is not configured, there is no
// credential, or it does not answer, the caller gets a one-line reason and reports from the
// result file.
#include <memory>
#include <string>

#include "krdc/cli/options.h"
#include "krdc/kube/api_client.h"

namespace krdc::cli {

struct LiveCluster {
  std::unique_ptr<kube::ApiClient> api;  // null when it cannot be asked
  std::string why_not;                   // then: one line saying why
};

// `cluster`: the cluster a Job was recorded on; only the local cluster is asked (remote Jobs
// are seen through their proxy Job there).
LiveCluster connect_local_cluster(const GlobalOptions& global, const std::string& kubeconfig,
                                  const std::string& context, const std::string& cluster);

}  // namespace krdc::cli
