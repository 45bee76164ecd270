#include "krdc/cli/executor_factory.h"

#include <fmt/format.h>

#include <iostream>
#include <set>

#include "krdc/config/hub_settings.h"
#include "krdc/exec/kube/kube_executor.h"
#include "krdc/exec/process/process_executor.h"
#include "krdc/exec/proxy/proxy_executor.h"
#include "krdc/kube/api_client.h"
#include "krdc/kube/kubeconfig.h"
#include "krdc/util/errors.h"
#include "krdc/workflow/source_mark.h"

namespace krdc::cli {

namespace {

const workflow::ClusterRef* workflow_cluster(const ExecutorContext& ctx, const std::string& cluster) {
  auto it = ctx.wf.clusters.find(cluster);
  return it == ctx.wf.clusters.end() ? nullptr : &it->second;
}

std::shared_ptr<auth::TokenSource> hub_token(const ExecutorContext& ctx, const std::string& cluster) {
  auto it = ctx.tokens.find(cluster);
  return it == ctx.tokens.end() ? nullptr : it->second;
}

// A cluster as the workflow's spec.clusters and the config describe it (server, CA, namespace),
// reached with the hub token authorize_steps obtained for it. `server` is required.
kube::ClusterAccess configured_access(const ExecutorContext& ctx, const std::string& cluster) {
  const workflow::ClusterRef* wfc = workflow_cluster(ctx, cluster);
  const config::ClusterConfig* cc = nullptr;
  if (auto it = ctx.config.clusters.find(cluster); it != ctx.config.clusters.end()) cc = &it->second;
  auto pick = [](const std::string& a, const std::string& b) { return a.empty() ? b : a; };
  kube::ClusterAccess access;
  access.name = cluster;
  access.server = pick(wfc ? wfc->server : "", cc ? cc->server : "");
  access.ns = pick(wfc ? wfc->namespace_ : "", cc ? cc->ns : "");
  if (access.server.empty()) {
    throw InvalidInput(fmt::format("cluster \"{}\" has no server", cluster),
                       fmt::format("set spec.clusters.{0}.server in the workflow or clusters.{0}.server in your krdc "
                                   "config, or pass --kubeconfig/--context",
                                   cluster));
  }
  access.origin = wfc && !wfc->server.empty() ? "workflow spec.clusters" : "config " + ctx.config.path;
  // Every configured cluster gets a token (the local one also holds remote tokens in Secrets).
  if (access.server.rfind("https://", 0) != 0) {
    throw InvalidInput(fmt::format("cluster \"{}\": server {} is not https ({})", cluster, access.server, access.origin),
                       "a token is only ever sent over TLS: use the cluster's https URL");
  }
  const config::HubInputs inputs{ctx.global.hub, ctx.global.ca_file, ctx.wf.hub,
                                 config::non_interactive(ctx.global.non_interactive, ctx.env)};
  access.ca_file = wfc && !wfc->ca_file.empty() ? wfc->ca_file : config::cluster_ca_file(ctx.config, cluster, inputs, ctx.env);
  access.tokens = hub_token(ctx, cluster);
  if (access.ns.empty()) access.ns = "default";
  return access;
}

}  // namespace

// The cluster registry's answer for the local cluster (docs/architecture.md). Precedence:
//   --kubeconfig/--context given        → that kubeconfig context
//   server in spec.clusters or config   → server, CA (cluster_ca_file rules), namespace, hub token
//   no server, a kubeconfig exists      → the context named like the cluster, else current-context
// A kubeconfig user without credentials gets the hub token; the namespace falls back to the
// workflow's, then the config's, then "default".
kube::ClusterAccess local_cluster_access(const ExecutorContext& ctx, const std::string& cluster) {
  const workflow::ClusterRef* wfc = workflow_cluster(ctx, cluster);
  const config::ClusterConfig* cc = nullptr;
  if (auto it = ctx.config.clusters.find(cluster); it != ctx.config.clusters.end()) cc = &it->second;
  const bool has_server = (wfc && !wfc->server.empty()) || (cc && !cc->server.empty());
  kube::KubeconfigInputs kin{ctx.args.kubeconfig, ctx.args.context,
                             ctx.global.interrupts ? &ctx.global.interrupts->abort() : nullptr};
  const bool explicit_kubeconfig = !kin.path.empty() || !kin.context.empty();
  if (!explicit_kubeconfig && (has_server || !kube::kubeconfig_available(kin, ctx.env))) {
    return configured_access(ctx, cluster);
  }
  kube::ClusterAccess access;
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
  if (!access.tokens && access.client_cert_pem.empty()) access.tokens = hub_token(ctx, cluster);
  if (access.ns.empty()) access.ns = wfc && !wfc->namespace_.empty() ? wfc->namespace_ : cc ? cc->ns : "";
  if (access.ns.empty()) access.ns = "default";
  access.name = cluster;
  return access;
}

namespace {

std::shared_ptr<exec::kube::KubeExecutor> make_kube_executor(const ExecutorContext& ctx) {
  kube::ApiClientOptions api_options;
  // Preflight's calls give up at Ctrl-C; a run's cleanup calls do not (Interrupts::abort()).
  api_options.http = http_options(ctx.global, 2);
  // Ride out an API server restart (typically 5-20 s) before a call counts as failed.
  api_options.http.max_retries = 6;
  api_options.http.backoff_max = std::chrono::milliseconds(8000);
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
  return std::make_shared<exec::kube::KubeExecutor>(std::move(api), std::move(options));
}

// Remote steps (scenario 2): proxy Jobs through the local kube executor when there is a local
// cluster, else the same remote loop in-process.
std::shared_ptr<exec::Executor> make_proxy_executor(const ExecutorContext& ctx,
                                                    std::shared_ptr<exec::kube::KubeExecutor> local) {
  std::map<std::string, exec::proxy::RemoteCluster> remotes;
  for (const auto& s : ctx.wf.steps) {
    if (exec::executor_kind(s, ctx.local_cluster) == "proxy" && !remotes.count(s.cluster)) {
      // Only from the workflow/config description and the token exchanged for its audience:
      // never from a kubeconfig (no other cluster's credentials are ever shared).
      remotes[s.cluster] = {configured_access(ctx, s.cluster)};
    }
  }
  exec::proxy::ProxyExecutorOptions options;
  options.follow = ctx.args.follow;
  options.warn = [](std::string_view line) { std::cerr << "krdc: warning: " << line << "\n"; };
  options.http = http_options(ctx.global, 2);  // remote preflight gives up at Ctrl-C too
  if (ctx.global.verbose > 0) {
    options.log = [](std::string_view line) { std::cerr << "krdc: proxy: " << line << "\n"; };
  }
  if (local) {
    if (ctx.config.proxy_image.empty()) {
      throw InvalidInput("remote steps need proxyImage in your krdc config",
                         fmt::format("set proxyImage to an image of this krdc (its entrypoint is krdc); config: {}",
                                     ctx.config.path));
    }
    options.job.image = ctx.config.proxy_image;
    options.job.service_account = ctx.config.proxy_service_account;
    options.job.job.ns = local->api().cluster().ns;
    if (auto it = ctx.config.clusters.find(ctx.local_cluster); it != ctx.config.clusters.end()) {
      options.job.job.image_pull_secrets = it->second.image_pull_secrets;
    }
  }
  return std::make_shared<exec::proxy::ProxyExecutor>(std::move(local), std::move(remotes), std::move(options));
}

}  // namespace

exec::ExecutorSet make_executors(const ExecutorContext& ctx) {
  exec::ExecutorSet executors;
  executors.add("process", std::make_unique<exec::ProcessExecutor>(ctx.args.follow));
  std::set<std::string> kinds;
  for (const auto& s : ctx.wf.steps) kinds.insert(exec::executor_kind(s, ctx.local_cluster));
  std::shared_ptr<exec::kube::KubeExecutor> local;
  // Proxy Jobs run through the local kube executor too (one shared watch for the run).
  if (kinds.count("kube") || (kinds.count("proxy") && !ctx.local_cluster.empty())) {
    local = make_kube_executor(ctx);
    executors.add("kube", local);
  }
  if (kinds.count("proxy")) executors.add("proxy", make_proxy_executor(ctx, local));
  return executors;
}

}  // namespace krdc::cli
