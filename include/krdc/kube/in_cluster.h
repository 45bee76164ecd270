#pragma once
// The pod's own way to its cluster, read the way client-go's rest.InClusterConfig reads it:
// KUBERNETES_SERVICE_HOST/PORT, the service account token (re-read before every request, since
// the kubelet rotates it) and the cluster CA, from the service account volume. `krdc proxy` uses
// it to mirror the remote Job's progress onto its own Pod.
#include <optional>
#include <string>

#include "krdc/config/env.h"
#include "krdc/kube/cluster.h"

namespace krdc::kube {

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

// nullopt when not running in a pod (no service host, or no token file).
std::optional<ClusterAccess> in_cluster_access(const config::Env& env, const std::string& sa_dir = kServiceAccountDir);

}  // namespace krdc::kube
