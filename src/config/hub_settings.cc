#include "krdc/config/hub_settings.h"

#include <fmt/format.h>

#include <fstream>
#include <iterator>

#include "krdc/util/errors.h"

namespace krdc::config {

namespace {

std::string read_secret_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw AuthError(fmt::format("cannot read the client secret file {} ({})", path, what));
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  if (s.empty()) throw AuthError(fmt::format("the client secret file {} is empty ({})", path, what));
  return s;
}

}  // namespace

HubSettings resolve_hub(const Config& config, const HubInputs& inputs, const Env& env) {
  HubSettings s;
  s.non_interactive = inputs.non_interactive;
  if (!inputs.flag_hub.empty()) {
    s.issuer = inputs.flag_hub;
    s.issuer_source = "--hub";
  } else if (auto hub = env("KRDC_HUB")) {
    s.issuer = *hub;
    s.issuer_source = "KRDC_HUB";
  } else if (!inputs.workflow_hub.empty()) {
    s.issuer = inputs.workflow_hub;
    s.issuer_source = "workflow spec.hub";
  } else if (!config.hub.issuer.empty()) {
    s.issuer = config.hub.issuer;
    s.issuer_source = "config " + config.path;
  }
  // The issuer must compare byte for byte with the token's iss; a trailing slash typed by a
  // human is the one difference we forgive.
  while (s.issuer.size() > 8 && s.issuer.back() == '/') s.issuer.pop_back();

  if (!inputs.flag_ca_file.empty()) {
    s.ca_file = inputs.flag_ca_file;
  } else if (auto ca = env("KRDC_CA_FILE")) {
    s.ca_file = *ca;
  } else if (!config.hub.ca_file.empty()) {
    s.ca_file = config.hub.ca_file;
  } else {
    s.ca_file = config.ca_file;
  }

  auto env_id = env("KRDC_CLIENT_ID");
  std::string secret;
  if (auto v = env("KRDC_CLIENT_SECRET")) {
    secret = *v;
  } else if (auto f = env("KRDC_CLIENT_SECRET_FILE")) {
    secret = read_secret_file(*f, "KRDC_CLIENT_SECRET_FILE");
  } else if (!env_id) {
    if (!config.hub.client_secret_file.empty()) {
      secret = read_secret_file(config.hub.client_secret_file, "hub.clientSecretFile in " + config.path);
    } else {
      secret = config.hub.client_secret;
    }
  }
  s.client_id = env_id ? *env_id : (config.hub.client_id.empty() ? kDefaultClientId : config.hub.client_id);
  s.client_secret = secret;
  s.client_credentials = env_id.has_value() && !secret.empty();
  if (auto t = env("KRDC_TOKEN")) s.static_token = *t;

  if (s.issuer.empty()) {
    throw AuthError("no hub configured",
                    "pass --hub ISSUER_URL, set KRDC_HUB, set spec.hub in the workflow, or hub.issuer in " +
                        (config.path.empty() ? std::string("the config file") : config.path));
  }
  return s;
}

std::string cluster_ca_file(const Config& config, const std::string& cluster, const HubInputs& inputs,
                            const Env& env) {
  if (!inputs.flag_ca_file.empty()) return inputs.flag_ca_file;
  if (auto ca = env("KRDC_CA_FILE")) return *ca;
  if (auto it = config.clusters.find(cluster); it != config.clusters.end() && !it->second.ca_file.empty()) {
    return it->second.ca_file;
  }
  return config.ca_file;
}

}  // namespace krdc::config
