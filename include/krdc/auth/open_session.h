#pragma once
// The front door for everything that needs the user's identity (CLI commands, the runner):
//
//   auto cfg      = config::load_config(global.config_file, env);
//   auto settings = config::resolve_hub(cfg, {global.hub, global.ca_file, wf.hub, global.non_interactive}, env);
//   auto session  = auth::open_session(settings, env);        // never prompts
//   auto sources  = auth::authorize_steps(auth::step_targets(wf, cfg, env), session);
//   // sources["unist"] is the TokenSource the Kubernetes client for unist asks before each request.
#include <memory>

#include "krdc/auth/hub.h"
#include "krdc/auth/hub_session.h"
#include "krdc/config/env.h"
#include "krdc/config/hub_settings.h"
#include "krdc/http/client.h"

namespace krdc::auth {

std::shared_ptr<Hub> make_hub(const config::HubSettings& settings, http::ClientOptions options = {});

// KRDC_TOKEN > client credentials from the environment > cached login; AuthError otherwise.
std::shared_ptr<HubSession> open_session(const config::HubSettings& settings, const config::Env& env,
                                         http::ClientOptions options = {});

}  // namespace krdc::auth
