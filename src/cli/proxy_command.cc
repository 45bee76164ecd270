// `krdc proxy`: the in-cluster half of a remote step (exec/proxy/proxy_pod.h). Normally run by
// a proxy Job that krdc created; usable by hand to debug a remote cluster's side of a step.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>

#include "krdc/cli/commands.h"
#include "krdc/config/env.h"
#include "krdc/exec/proxy/proxy_job.h"
#include "krdc/exec/proxy/proxy_pod.h"
#include "krdc/util/errors.h"

namespace krdc::cli {

namespace {

struct ProxyArgs {
  std::string spec_file;  // empty: $KRDC_STEP_SPEC
  std::string credentials = exec::proxy::kCredentialsDir;
  std::string outputs;    // empty: $KRDC_OUTPUTS, else /dev/termination-log
};

int run_proxy(const ProxyArgs& args, const GlobalOptions& global) {
  const config::Env env = config::process_env();
  exec::proxy::ProxyPodOptions options;
  if (!args.spec_file.empty()) {
    std::ifstream in(args.spec_file == "-" ? "/dev/stdin" : args.spec_file, std::ios::binary);
    if (!in) throw InvalidInput("cannot read the step spec " + args.spec_file);
    options.spec_text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else if (auto spec = env(exec::proxy::kStepSpecEnv)) {
    options.spec_text = *spec;
  } else {
    throw InvalidInput("no step spec", "pass --spec FILE or set KRDC_STEP_SPEC (a proxy Job sets it)");
  }
  options.credentials_dir = args.credentials;
  options.outputs_path = !args.outputs.empty() ? args.outputs : env("KRDC_OUTPUTS").value_or("/dev/termination-log");
  options.work_dir = std::filesystem::temp_directory_path().string();
  options.verbose = global.verbose > 0;

  // SIGTERM (the proxy Pod is being deleted) or Ctrl-C cancels: delete the remote Job, then
  // exit. Later signals change nothing: that cleanup must finish (the kubelet sends SIGKILL
  // when the Pod's grace period is over anyway).
  const auto handlers = global.interrupts->install({{}, [] {}});
  return exec::proxy::run_proxy_pod(options, env, std::cout, std::cerr, global.interrupts->cancel());
}

}  // namespace

void add_proxy_commands(CLI::App& app, GlobalOptions& global, Action& action) {
  auto args = std::make_shared<ProxyArgs>();
  auto* cmd = app.add_subcommand("proxy", "Run one step on a remote cluster and mirror it (what a proxy Job runs)");
  cmd->add_option("--spec", args->spec_file, "Step spec (JSON) file, - for stdin (default: $KRDC_STEP_SPEC)");
  cmd->add_option("--credentials", args->credentials,
                  "Directory with the remote cluster's token, server, namespace, cluster and ca.crt files")
      ->capture_default_str();
  cmd->add_option("--outputs", args->outputs, "Where the outputs go (default: $KRDC_OUTPUTS, else /dev/termination-log)");
  cmd->footer(R"(krdc creates proxy Jobs itself for steps on a remote cluster; run this by hand only to debug:
  krdc run wf.yaml --dry-run -o json | jq '.[1].would.proxyJob'   # see a proxy Job
  krdc proxy --spec step.json --credentials ./remote --outputs out.json
The exit status is the remote app's; 124 timed out, 130 cancelled, 3 credential refused,
4 remote cluster unreachable. See krdc(1), REMOTE STEPS.)");
  cmd->callback([&global, &action, args] { action = [&global, args] { return run_proxy(*args, global); }; });
}

}  // namespace krdc::cli
