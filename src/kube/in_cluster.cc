#include "krdc/kube/in_cluster.h"

#include <fmt/format.h>

#include <filesystem>

namespace krdc::kube {

std::optional<ClusterAccess> in_cluster_access(const config::Env& env, const std::string& sa_dir) {
  const auto host = env("KUBERNETES_SERVICE_HOST");
  const auto port = env("KUBERNETES_SERVICE_PORT");
  const std::string token_file = sa_dir + "/token";
  if (!host || host->empty() || !port || port->empty() || !std::filesystem::exists(token_file)) return std::nullopt;
  ClusterAccess access;
  access.name = "in-cluster";
  // An IPv6 service host needs brackets in a URL.
  access.server = host->find(':') != std::string::npos ? fmt::format("https://[{}]:{}", *host, *port)
                                                        : fmt::format("https://{}:{}", *host, *port);
  access.ca_file = sa_dir + "/ca.crt";
  access.tokens = std::make_shared<auth::FileTokenSource>(token_file);
  access.origin = "service account " + sa_dir;
  if (const auto ns = env("POD_NAMESPACE")) access.ns = *ns;
  return access;
}

}  // namespace krdc::kube
