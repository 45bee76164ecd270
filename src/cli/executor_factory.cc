#include "krdc/cli/executor_factory.h"

#include <fmt/format.h>

#include <iostream>

#include "krdc/config/hub_settings.h"
#include "krdc/exec/kube/kube_executor.h"
#include "krdc/exec/process/process_executor.h"
#include "krdc/kube/api_client.h"
#include "krdc/kube/kubeconfig.h"
#include "krdc/util/errors.h"
#include "krdc/workflow/source_mark.h"

namespace krdc::cli {

namespace {

// The cluster registry's answer for the local cluster (design §7). Precedence:
//   --kubeconfig/--context given        → that kubeconfig context
//   server in spec.clusters or config   → server, CA (cluster_ca_file rules), namespace, hub token
//   no server, a kubeconfig exists      → the context named like the cluster, else current-context
// A kubeconfig user without credentials gets the hub token; the namespace falls back to the
// workflow's, then the config's, then "default".
kube::ClusterAccess local_cluster_access(const ExecutorContext& ctx, const std::string& cluster) {
  const workflow::ClusterRef* wfc = nullptr;
  if (auto it = ctx.wf.clusters.find(cluster); it != ctx.wf.clusters.end()) wfc = &it->second;
  const config::ClusterConfig* cc = nullptr;
  if (auto it = ctx.config.clusters.find(cluster); it != ctx.config.clusters.end()) cc = &it->second;
  auto pick = [](const std::string& a, const std::string& b) { return a.empty() ? b : a; };
  const std::string server = pick(wfc ? wfc->server : "", cc ? cc->server : "");
  const std::string ns = pick(wfc ? wfc->namespace_ : "", cc ? cc->ns : "");
  std::shared_ptr<auth::TokenSource> hub_token;
  if (auto it = ctx.tokens.find(cluster); it != ctx.tokens.end()) hub_token = it->second;

  kube::KubeconfigInputs kin{ctx.args.kubeconfig, ctx.args.context};
  const bool explicit_kubeconfig = !kin.path.empty() || !kin.context.empty();
  kube::ClusterAccess access;
  if (explicit_kubeconfig || (server.empty() && kube::kubeconfig_available(kin, ctx.env))) {
    if (!explicit_kubeconfig) {
      // Without --context, prefer a context named like the cluster.
      try {
        kin.context = cluster;
        access = kube::load_kube_context(kin, ctx.env);
      } catch (const InvalidInput&) {
        kin.context.clear();
        access = kube::load_kube_context(kin, ctx.env);
      }
    } else {
      access = kube::load_kube_context(kin, ctx.env);
    }
    if (!access.tokens && access.client_cert_pem.empty()) access.tokens = hub_token;
    if (access.ns.empty()) access.ns = ns;
  } else {
    if (server.empty()) {
      throw InvalidInput(fmt::format("cluster \"{}\" has no server", cluster),
                         fmt::format("set spec.clusters.{0}.server in the workflow or clusters.{0}.server in your krdc "
                                     "config, or pass --kubeconfig/--context",
                                     cluster));
    }
    access.server = server;
    access.ns = ns;
    access.origin = wfc && !wfc->server.empty() ? "workflow spec.clusters" : "config " + ctx.config.path;
    const config::HubInputs inputs{ctx.global.hub, ctx.global.ca_file, ctx.wf.hub,
                                   config::non_interactive(ctx.global.non_interactive, ctx.env)};
    access.ca_file = wfc && !wfc->ca_file.empty() ? wfc->ca_file
                                                   : config::cluster_ca_file(ctx.config, cluster, inputs, ctx.env);
    access.tokens = hub_token;
  }
  if (access.ns.empty()) access.ns = "default";
  access.name = cluster;
  return access;
}

std::unique_ptr<exec::Executor> make_kube_executor(const ExecutorContext& ctx) {
  kube::ApiClientOptions api_options;
  // Ride out an API server restart (typically 5-20 s) before a call counts as failed.
  api_options.http.max_retries = 6;
  api_options.http.backoff_max = std::chrono::milliseconds(8000);
  if (ctx.global.verbose > 1) {
    api_options.http.log = [](std::string_view line) { std::cerr << "krdc: http: " << line << "\n"; };
  }
  kube::ClusterAccess access = local_cluster_access(ctx, ctx.local_cluster);
  if (!ctx.args.dry_run && !access.tokens && access.client_cert_pem.empty()) {
    throw AuthError(fmt::format("no credential for the local cluster \"{}\" ({})", ctx.local_cluster, access.origin),
                    fmt::format("give its steps `cluster: {}` so the hub authorises them there, or use a kubeconfig "
                                "user with credentials (--kubeconfig/--context)",
                                ctx.local_cluster));
  }
  auto api = std::make_shared<kube::ApiClient>(std::move(access), api_options);
  exec::kube::KubeExecutorOptions options;
  options.follow = ctx.args.follow;
  if (auto it = ctx.config.clusters.find(ctx.local_cluster); it != ctx.config.clusters.end()) {
    options.image_pull_secrets = it->second.image_pull_secrets;
  }
  if (ctx.global.verbose > 0) {
    options.log = [](std::string_view line) { std::cerr << "krdc: kube: " << line << "\n"; };
  }
  return std::make_unique<exec::kube::KubeExecutor>(std::move(api), std::move(options));
}

}  // namespace

exec::ExecutorSet make_executors(const ExecutorContext& ctx) {
  exec::ExecutorSet executors;
  executors.add("process", std::make_unique<exec::ProcessExecutor>());
  bool needs_kube = false;
  for (const auto& s : ctx.wf.steps) {
    const std::string kind = exec::executor_kind(s, ctx.local_cluster);
    if (kind == "kube") needs_kube = true;
    if (kind == "proxy") {
      // Scenario 2 (a proxy Job mirroring a Job on the remote cluster) is a later piece of work:
      // say so before anything starts rather than fail halfway through the run.
      throw workflow::invalid_at(
          s.mark,
          fmt::format("step \"{}\" runs on cluster \"{}\", which is not the local cluster{}: remote steps need the "
                      "proxy executor, which this krdc does not have yet",
                      s.name, s.cluster, ctx.local_cluster.empty() ? "" : " (" + ctx.local_cluster + ")"),
          ctx.local_cluster.empty()
              ? "set localCluster in your krdc config (or KRDC_LOCAL_CLUSTER)"
              : fmt::format("run it on {} (cluster: {}), or add `pull: shared` to run its image there",
                            ctx.local_cluster, ctx.local_cluster));
    }
  }
  if (needs_kube) executors.add("kube", make_kube_executor(ctx));
  return executors;
}

}  // namespace krdc::cli
