#pragma once
// How to reach one Kubernetes API server: the cluster registry's answer for a cluster name
// (docs/architecture.md, "Identity"). Built from the workflow/config (server, CA file, namespace, hub TokenSource) or
// from a kubeconfig context (kubeconfig.h). Credentials are never held as a bare string: a
// TokenSource is asked before every request, and client-certificate PEMs stay in memory
// (never written to disk, never logged).
#include <memory>
#include <string>

#include "krdc/auth/token_source.h"

namespace krdc::kube {

struct ClusterAccess {
  std::string name;        // the cluster's name in the workflow / config (for messages)
  std::string server;      // https://host:port, no trailing slash
  std::string ns;          // namespace Jobs go to
  std::string ca_file;     // PEM bundle trusted for the server; empty with ca_pem = system store
  std::string ca_pem;      // inline CA (kubeconfig certificate-authority-data)
  std::shared_ptr<auth::TokenSource> tokens;  // bearer; may be null with a client certificate
  std::string client_cert_pem;  // kubeconfig client-certificate(-data)
  std::string client_key_pem;   // kubeconfig client-key(-data): a secret
  std::string origin;      // where this came from, for messages ("config", "kubeconfig context x")
};

}  // namespace krdc::kube
