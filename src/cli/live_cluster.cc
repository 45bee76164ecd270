#include "krdc/cli/live_cluster.h"

#include <fmt/format.h>

#include "krdc/auth/authorize.h"
#include "krdc/auth/open_session.h"
#include "krdc/auth/step_targets.h"
#include "krdc/cli/executor_factory.h"
#include "krdc/config/config.h"
#include "krdc/config/env.h"
#include "krdc/config/hub_settings.h"
#include "krdc/util/errors.h"

namespace krdc::cli {

namespace {

// The user's hub token for the local cluster's audience, as `krdc run` gets it; none (and the
// kubeconfig's own credentials, if any, serve) when there is no session, no hub or no audience.
std::map<std::string, std::shared_ptr<auth::TokenSource>> hub_tokens(const GlobalOptions& global,
                                                                     const config::Config& cfg,
                                                                     const config::Env& env,
                                                                     const std::string& cluster) {
  auto it = cfg.clusters.find(cluster);
  if (it == cfg.clusters.end() || it->second.audience.empty()) return {};
  try {
    const auto settings = config::resolve_hub(
        cfg, {global.hub, global.ca_file, "", config::non_interactive(global.non_interactive, env)}, env);
    return auth::authorize_steps({{"status", cluster, it->second.audience, true}},
                                 auth::open_session(settings, env, http_options(global)));
  } catch (const Interrupted&) {
    throw;
  } catch (const Error&) {
    return {};  // not logged in, or the hub is down: a kubeconfig's own credential may still serve
  }
}

}  // namespace

LiveCluster connect_local_cluster(const GlobalOptions& global, const std::string& kubeconfig,
                                  const std::string& context, const std::string& cluster) {
  LiveCluster out;
  try {
    const config::Env env = config::process_env();
    const config::Config cfg = config::load_config(global.config_file, env);
    const std::string local = auth::local_cluster(cfg, env);
    if (cluster.empty() || cluster != local) {
      out.why_not = fmt::format("cluster {} is not your local cluster{}", cluster.empty() ? "(unnamed)" : cluster,
                                local.empty() ? " (none is configured)" : " (" + local + ")");
      return out;
    }
    const workflow::Workflow none;  // the result file alone: the cluster comes from config/kubeconfig
    RunArgs args;
    args.kubeconfig = kubeconfig;
    args.context = context;
    ExecutorContext ctx{none, global, args, cfg, env, local, hub_tokens(global, cfg, env, cluster)};
    kube::ClusterAccess access = local_cluster_access(ctx, cluster);
    if (!access.tokens && access.client_cert_pem.empty()) {
      out.why_not = fmt::format("no credential for cluster {} (`krdc login`, or a kubeconfig user)", cluster);
      return out;
    }
    kube::ApiClientOptions options;
    options.http = http_options(global, 2);
    // A status is wanted now: an unreachable cluster is said so within seconds.
    options.http.max_retries = 1;
    options.http.connect_timeout = std::chrono::milliseconds(5000);
    out.api = std::make_unique<kube::ApiClient>(std::move(access), options);
  } catch (const Interrupted&) {
    throw;
  } catch (const Error& e) {
    out.why_not = fmt::format("cluster {} cannot be asked: {}", cluster, e.what());
  }
  return out;
}

}  // namespace krdc::cli
