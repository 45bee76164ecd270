#include "krdc/config/config.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "krdc/util/errors.h"
#include "krdc/workflow/yaml_reader.h"

namespace krdc::config {

namespace {

std::string expand_home(const std::string& path, const Env& env) {
  if (path.starts_with("~/")) {
    if (auto home = env("HOME")) return *home + path.substr(1);
  }
  return path;
}

// Relative paths in the config are relative to the config file, not to wherever krdc runs.
std::string resolve_path(const std::string& path, const std::string& config_file, const Env& env) {
  if (path.empty()) return path;
  std::string p = expand_home(path, env);
  if (std::filesystem::path(p).is_absolute()) return p;
  return (std::filesystem::path(config_file).parent_path() / p).lexically_normal().string();
}

// The hub and every cluster get a token from krdc: never in clear. The workflow and kubeconfig
// loaders refuse the same; the HTTP client refuses it again (http/client.h).
void require_https(const workflow::YamlReader& r, const YAML::Node& node, const std::string& url, const std::string& what) {
  if (!url.starts_with("https://")) {
    throw workflow::invalid_at(r.mark(node), fmt::format("{} must be an https:// URL (a token is only ever sent over TLS)", what));
  }
}

}  // namespace

std::string default_config_path(const Env& env) {
  if (auto xdg = env("XDG_CONFIG_HOME")) return *xdg + "/krdc/config.yaml";
  if (auto home = env("HOME")) return *home + "/.config/krdc/config.yaml";
  return ".config/krdc/config.yaml";
}

Config parse_config(const std::string& text, const std::string& file) {
  workflow::YamlReader r(file);
  YAML::Node root = r.parse_text(text);
  Config cfg;
  cfg.path = file;
  cfg.found = true;
  if (!root || root.IsNull()) return cfg;  // an empty file is a valid, empty config
  r.check_keys(root, {"hub", "caFile", "localCluster", "proxyImage", "proxyServiceAccount", "clusters"}, "config");
  if (auto hub = root["hub"]) {
    r.check_keys(hub, {"issuer", "clientId", "clientSecret", "clientSecretFile", "caFile"}, "hub");
    if (hub["issuer"]) {
      cfg.hub.issuer = r.get_string(hub["issuer"], "hub.issuer");
      require_https(r, hub["issuer"], cfg.hub.issuer, "hub.issuer");
    }
    if (hub["clientId"]) cfg.hub.client_id = r.get_string(hub["clientId"], "hub.clientId");
    if (hub["clientSecret"]) cfg.hub.client_secret = r.get_string(hub["clientSecret"], "hub.clientSecret");
    if (hub["clientSecretFile"]) {
      cfg.hub.client_secret_file = r.get_string(hub["clientSecretFile"], "hub.clientSecretFile");
    }
    if (hub["caFile"]) cfg.hub.ca_file = r.get_string(hub["caFile"], "hub.caFile");
  }
  if (root["caFile"]) cfg.ca_file = r.get_string(root["caFile"], "caFile");
  if (root["localCluster"]) cfg.local_cluster = r.get_string(root["localCluster"], "localCluster");
  if (root["proxyImage"]) cfg.proxy_image = r.get_string(root["proxyImage"], "proxyImage");
  if (root["proxyServiceAccount"]) {
    cfg.proxy_service_account = r.get_string(root["proxyServiceAccount"], "proxyServiceAccount");
  }
  if (auto clusters = root["clusters"]) {
    r.require_map(clusters, "clusters");
    for (const auto& kv : clusters) {
      ClusterConfig c;
      c.name = kv.first.as<std::string>();
      const std::string what = fmt::format("cluster \"{}\"", c.name);
      r.check_keys(kv.second, {"server", "audience", "namespace", "caFile", "imagePullSecrets"}, what);
      if (kv.second["server"]) {
        c.server = r.get_string(kv.second["server"], what + " server");
        require_https(r, kv.second["server"], c.server, what + " server");
      }
      if (kv.second["audience"]) c.audience = r.get_string(kv.second["audience"], what + " audience");
      if (kv.second["namespace"]) c.ns = r.get_string(kv.second["namespace"], what + " namespace");
      if (kv.second["caFile"]) c.ca_file = r.get_string(kv.second["caFile"], what + " caFile");
      if (kv.second["imagePullSecrets"]) {
        c.image_pull_secrets = r.get_string_list(kv.second["imagePullSecrets"], what + " imagePullSecrets");
      }
      cfg.clusters[c.name] = c;
    }
  }
  if (!cfg.local_cluster.empty() && !cfg.clusters.empty() && !cfg.clusters.count(cfg.local_cluster)) {
    throw workflow::invalid_at(r.mark(root["localCluster"]),
                               fmt::format("localCluster \"{}\" is not one of the clusters", cfg.local_cluster));
  }
  return cfg;
}

Config load_config(const std::string& explicit_path, const Env& env) {
  const std::string path = explicit_path.empty() ? default_config_path(env) : expand_home(explicit_path, env);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (!explicit_path.empty()) throw InvalidInput(fmt::format("{}: config file does not exist", path));
    Config cfg;
    cfg.path = path;
    return cfg;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InvalidInput(fmt::format("{}: cannot read config file", path));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Config cfg = parse_config(text, path);
  if (!cfg.hub.client_secret.empty()) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO))) {
      throw AuthError(fmt::format("{}: contains hub.clientSecret but is readable by other users", path),
                      fmt::format("run: chmod 600 {} (and consider rotating the secret)", path));
    }
  }
  cfg.hub.ca_file = resolve_path(cfg.hub.ca_file, path, env);
  cfg.hub.client_secret_file = resolve_path(cfg.hub.client_secret_file, path, env);
  cfg.ca_file = resolve_path(cfg.ca_file, path, env);
  for (auto& [name, c] : cfg.clusters) c.ca_file = resolve_path(c.ca_file, path, env);
  return cfg;
}

}  // namespace krdc::config
