#pragma once
// Reaching a cluster through a kubeconfig context (`--kubeconfig`, `KUBECONFIG`, `--context`),
// as kubectl does: KUBECONFIG may list several files (':'-separated); the first file that names
// a cluster/user/context wins, and current-context comes from the first file that sets it.
// Users: token, tokenFile (re-read on every request), client certificate (file or -data), and
// exec credential plugins (client.authentication.k8s.io ExecCredential, token output).
// insecure-skip-tls-verify is refused: krdc always verifies TLS.
#include <string>
#include <vector>

#include "krdc/config/env.h"
#include "krdc/kube/cluster.h"
#include "krdc/util/cancel.h"

namespace krdc::kube {

struct KubeconfigInputs {
  std::string path;     // --kubeconfig (one file); empty: KUBECONFIG, else ~/.kube/config
  std::string context;  // --context; empty: current-context
  // Interrupts an exec credential plugin while it runs (ExecPlugin::cancel); not owned.
  const util::CancelToken* cancel = nullptr;
};

// The files to read: --kubeconfig, else every entry of KUBECONFIG, else $HOME/.kube/config.
std::vector<std::string> kubeconfig_files(const KubeconfigInputs& inputs, const config::Env& env);

// True when some kubeconfig file exists to read.
bool kubeconfig_available(const KubeconfigInputs& inputs, const config::Env& env);

// The named context (or current-context) as ClusterAccess. `ns` is the context's namespace
// (empty when it sets none). Throws InvalidInput naming the file and what is missing.
ClusterAccess load_kube_context(const KubeconfigInputs& inputs, const config::Env& env);

// Same, from YAML texts already read (for tests): files[i] = {path, text}.
ClusterAccess kube_context_from(const std::vector<std::pair<std::string, std::string>>& files,
                                const std::string& context, const config::Env& env,
                                const util::CancelToken* cancel = nullptr);

}  // namespace krdc::kube
