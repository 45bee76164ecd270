#pragma once
// The user config file, $XDG_CONFIG_HOME/krdc/config.yaml (else ~/.config/krdc/config.yaml;
// --config overrides the path):
//
//   hub:
//     issuer: https://hub.example/realms/krdc   # Keycloak realm URL (OIDC issuer)
//     clientId: krdc-cli                        # default krdc-cli
//     clientSecretFile: ~/.config/krdc/hub.secret   # or clientSecret: (file must then be 0600)
//     caFile: /etc/ssl/hub-ca.pem
//   caFile: /etc/ssl/site-ca.pem                # CA bundle for hub and clusters
//   localCluster: kisti                         # the cluster krdc runs Jobs in directly
//   proxyImage: registry.example/krdc:1.0       # image whose entrypoint is krdc: remote steps' proxy Jobs
//   proxyServiceAccount: krdc-proxy             # the proxy Pods' account (may patch its own Pod)
//   clusters:
//     kisti: {server: https://k8s.kisti:6443, audience: krdc-kisti, namespace: alice, caFile: ...,
//             imagePullSecrets: [shared-registry]}
//
// Unknown keys are errors with file:line:column, so a typo never silently drops a setting.
#include <map>
#include <string>
#include <vector>

#include "krdc/config/env.h"

namespace krdc::config {

struct HubConfig {
  std::string issuer;
  std::string client_id;
  std::string client_secret;       // only from a file not readable by others
  std::string client_secret_file;
  std::string ca_file;
};

struct ClusterConfig {
  std::string name;
  std::string server;
  std::string audience;   // the hub client whose audience this cluster's API server accepts
  std::string ns;         // namespace
  std::string ca_file;
  // Secret names for Jobs on this cluster (e.g. `pull: shared` images in a private registry).
  std::vector<std::string> image_pull_secrets;
};

struct Config {
  std::string path;       // the file read (or that would have been read)
  bool found = false;     // false: no config file, all defaults
  HubConfig hub;
  std::string ca_file;
  std::string local_cluster;
  std::string proxy_image;
  std::string proxy_service_account = "krdc-proxy";
  std::map<std::string, ClusterConfig> clusters;
};

// $XDG_CONFIG_HOME/krdc/config.yaml, else $HOME/.config/krdc/config.yaml.
std::string default_config_path(const Env& env);

// Reads the config. An explicit path (--config) must exist; the default path may be absent.
// Syntax/shape errors are InvalidInput "file:line:col: ..."; an inline clientSecret in a file
// others can read is an AuthError (the secret is already exposed; we refuse to use it).
Config load_config(const std::string& explicit_path, const Env& env);
Config parse_config(const std::string& text, const std::string& file);

}  // namespace krdc::config
