#pragma once
// Which hub, which client, which CA: one place that applies the documented precedence.
//
//   issuer:  --hub  >  KRDC_HUB  >  workflow spec.hub  >  config hub.issuer
//   CA file: --ca-file  >  KRDC_CA_FILE  >  config hub.caFile  >  config caFile  (> system store)
//   client:  KRDC_CLIENT_ID  >  config hub.clientId  >  "krdc-cli"
//   secret:  if KRDC_CLIENT_ID is set: KRDC_CLIENT_SECRET > KRDC_CLIENT_SECRET_FILE (a secret
//            belongs to its client, so the config's secret is never paired with an env client);
//            else KRDC_CLIENT_SECRET > KRDC_CLIENT_SECRET_FILE > hub.clientSecretFile > hub.clientSecret.
//   Secrets never come from argv.
#include <string>

#include "krdc/config/config.h"
#include "krdc/config/env.h"

namespace krdc::config {

inline constexpr const char* kDefaultClientId = "krdc-cli";

struct HubSettings {
  std::string issuer;
  std::string issuer_source;   // "--hub", "KRDC_HUB", "workflow spec.hub", "config <path>"
  std::string client_id;
  std::string client_secret;   // empty: public client
  std::string ca_file;         // empty: system trust store
  // CI credentials: KRDC_CLIENT_ID and KRDC_CLIENT_SECRET(_FILE) both in the environment.
  bool client_credentials = false;
  std::string static_token;    // KRDC_TOKEN
  bool non_interactive = false;
};

struct HubInputs {
  std::string flag_hub;        // --hub
  std::string flag_ca_file;    // --ca-file
  std::string workflow_hub;    // spec.hub of the workflow being run, if any
  bool non_interactive = false;
};

// Throws AuthError when no issuer is configured anywhere (with a hint naming every way to set
// one), and when a secret file cannot be read.
HubSettings resolve_hub(const Config& config, const HubInputs& inputs, const Env& env);

// CA for a cluster: --ca-file > KRDC_CA_FILE > clusters.NAME.caFile > caFile.
std::string cluster_ca_file(const Config& config, const std::string& cluster, const HubInputs& inputs,
                            const Env& env);

}  // namespace krdc::config
