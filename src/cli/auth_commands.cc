// krdc login / logout / whoami / token / auth check: the identity commands. Everything here
// is presentation; the work is in krdc::auth and krdc::config. Tokens are printed by
// `krdc token` only, to stdout; everything else prints claims and expiry at most.
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "krdc/auth/authorize.h"
#include "krdc/auth/device_flow.h"
#include "krdc/auth/open_session.h"
#include "krdc/auth/step_targets.h"
#include "krdc/auth/token_cache.h"
#include "krdc/cli/commands.h"
#include "krdc/cli/output.h"
#include "krdc/cli/terminal.h"
#include "krdc/config/config.h"
#include "krdc/config/hub_settings.h"
#include "krdc/kube/exec_credential.h"
#include "krdc/workflow/loader.h"

namespace krdc::cli {

namespace {

using auth::Clock;

// Per-command context: config, hub settings, and HTTP options whose calls give up at Ctrl-C
// (the process-wide interrupts, util/interrupts.h: a second Ctrl-C exits at once).
struct Context {
  config::Env env = config::process_env();
  config::Config cfg;
  config::HubSettings settings;
  http::ClientOptions http;

  Context(const GlobalOptions& global, const std::string& workflow_hub) : http(http_options(global)) {
    cfg = config::load_config(global.config_file, env);
    bool non_interactive = config::non_interactive(global.non_interactive, env);
    settings = config::resolve_hub(cfg, {global.hub, global.ca_file, workflow_hub, non_interactive}, env);
  }
};

std::string utc(Clock::time_point t) { return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(Clock::to_time_t(t))); }

std::string in_how_long(Clock::time_point t) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(t - Clock::now()).count();
  if (s < 0) return "expired";
  if (s < 120) return fmt::format("in {} s", s);
  if (s < 7200) return fmt::format("in {} min", s / 60);
  return fmt::format("in {} h", s / 3600);
}

std::string kind_name(auth::HubSession::Kind k) {
  switch (k) {
    case auth::HubSession::Kind::kLogin: return "login";
    case auth::HubSession::Kind::kClientCredentials: return "client credentials";
    case auth::HubSession::Kind::kStatic: return "KRDC_TOKEN";
  }
  return "?";
}

std::string roles_text(const auth::Claims& c) {
  std::vector<std::string> parts;
  for (const auto& [client, roles] : c.client_roles) parts.push_back(fmt::format("{}: {}", client, fmt::join(roles, ", ")));
  if (!c.realm_roles.empty()) parts.push_back(fmt::format("realm: {}", fmt::join(c.realm_roles, ", ")));
  return parts.empty() ? "(none)" : fmt::format("{}", fmt::join(parts, "; "));
}

void show_device_prompt(const auth::DeviceAuthorization& d, const GlobalOptions& global) {
  const bool tty = ::isatty(STDERR_FILENO);
  const bool color = tty && use_color(global);
  const std::string code = color ? fmt::format("\033[1m{}\033[0m", d.user_code) : d.user_code;
  std::cerr << fmt::format("\nTo sign in, open  {}\nand enter code    {}\n", d.verification_uri, code);
  if (!d.verification_uri_complete.empty()) {
    std::cerr << fmt::format("\nOr open directly: {}\n", d.verification_uri_complete);
  }
  std::cerr << fmt::format("\nWaiting for approval (the code expires in {} min; Ctrl-C cancels)...\n",
                           std::max<long long>(1, d.expires_in.count() / 60));
  std::cerr.flush();
}

int do_login(const GlobalOptions& global) {
  Context ctx(global, "");
  auto hub = auth::make_hub(ctx.settings, ctx.http);
  auth::TokenCache cache(auth::TokenCache::default_dir(ctx.env));
  std::shared_ptr<auth::HubSession> session;
  if (!ctx.settings.static_token.empty()) {
    throw AuthError("KRDC_TOKEN is set, so krdc uses that token and there is nothing to log in to",
                    "unset KRDC_TOKEN to log in with your hub account");
  }
  if (ctx.settings.client_credentials) {
    session = auth::HubSession::start(hub, cache, hub->client_credentials(), auth::HubSession::Kind::kClientCredentials);
  } else if (ctx.settings.non_interactive) {
    throw AuthError("cannot start an interactive device login without a terminal (or with --non-interactive / CI set)",
                    "in CI set KRDC_CLIENT_ID and KRDC_CLIENT_SECRET (or KRDC_TOKEN); interactively run krdc login in a terminal");
  } else {
    auth::DeviceFlowOptions opts;
    opts.on_prompt = [&global](const auth::DeviceAuthorization& d) { show_device_prompt(d, global); };
    opts.cancelled = ctx.http.cancelled;
    session = auth::HubSession::start(hub, cache, auth::run_device_flow(*hub, opts), auth::HubSession::Kind::kLogin);
  }
  auto c = session->claims();
  std::cerr << fmt::format("Logged in to {} as {} ({}{}). Session cached in {}\n", hub->issuer(), c.username,
                           kind_name(session->kind()),
                           c.groups.empty() ? "" : fmt::format("; groups {}", fmt::join(c.groups, ", ")),
                           cache.dir().string());
  return 0;
}

int do_logout(const GlobalOptions& global) {
  Context ctx(global, "");
  auto hub = auth::make_hub(ctx.settings, ctx.http);
  auth::TokenCache cache(auth::TokenCache::default_dir(ctx.env));
  auto tokens = cache.load(hub->issuer(), ctx.settings.client_id);
  if (!tokens) {
    std::cerr << fmt::format("Not logged in to {} (client {}); nothing to do.\n", hub->issuer(), ctx.settings.client_id);
    return 0;
  }
  auth::HubSession session(hub, cache, *tokens, auth::HubSession::Kind::kLogin);
  bool revoked = false;
  try {
    revoked = session.logout();
  } catch (const Error&) {
    // The hub is unreachable or refused: still forget the session locally, then report.
    cache.remove(hub->issuer(), ctx.settings.client_id);
    throw;
  }
  const char* how = revoked                        ? " (session revoked at the hub)"
                    : tokens->refresh_token.empty() ? " (no refresh token to revoke; local session deleted)"
                                                    : " (the hub offers no revocation; local session deleted)";
  std::cerr << fmt::format("Logged out of {}{}\n", hub->issuer(), how);
  return 0;
}

int do_whoami(const GlobalOptions& global) {
  Context ctx(global, "");
  auto session = auth::open_session(ctx.settings, ctx.env, ctx.http);
  auto c = session->claims();
  if (is_data_format(global.output)) {
    nlohmann::json j{{"user", c.username},
                     {"subject", c.subject},
                     {"email", c.email},
                     {"issuer", c.issuer},
                     {"client", c.azp.empty() ? ctx.settings.client_id : c.azp},
                     {"session", kind_name(session->kind())},
                     {"groups", c.groups},
                     {"realmRoles", c.realm_roles},
                     {"clientRoles", c.client_roles},
                     {"audiences", c.audiences},
                     {"expiresAt", utc(c.expires_at)},
                     {"tokenId", c.jti}};
    print_data(std::cout, j, global.output);
    return 0;
  }
  std::cout << fmt::format("user:      {}{}\n", c.username, c.email.empty() ? "" : " <" + c.email + ">");
  std::cout << fmt::format("hub:       {} (client {}, {})\n", c.issuer, c.azp.empty() ? ctx.settings.client_id : c.azp,
                           kind_name(session->kind()));
  std::cout << fmt::format("groups:    {}\n", c.groups.empty() ? "(none)" : fmt::format("{}", fmt::join(c.groups, ", ")));
  std::cout << fmt::format("roles:     {}\n", roles_text(c));
  std::cout << fmt::format("clusters:  {}\n",
                           c.audiences.empty() ? "(no audience)" : fmt::format("{}", fmt::join(c.audiences, ", ")));
  std::cout << fmt::format("expires:   {} ({}{})\n", utc(c.expires_at), in_how_long(c.expires_at),
                           session->kind() == auth::HubSession::Kind::kStatic ? "" : "; renewed automatically");
  return 0;
}

int do_token(const GlobalOptions& global, const std::string& audience_arg, bool exec_credential) {
  Context ctx(global, "");
  auto session = auth::open_session(ctx.settings, ctx.env, ctx.http);
  // Printed only once everything succeeded: kubectl reads stdout as the ExecCredential.
  auto print = [exec_credential](const std::string& token, Clock::time_point expires) {
    std::cout << (exec_credential ? kube::render_exec_credential({token, expires}) : token) << "\n";
  };
  if (audience_arg.empty()) {
    const std::string token = session->token();
    print(token, session->claims().expires_at);
    return 0;
  }
  // A cluster name from the config maps to its audience; anything else is a hub client id.
  std::string audience = audience_arg;
  if (auto it = ctx.cfg.clusters.find(audience_arg); it != ctx.cfg.clusters.end() && !it->second.audience.empty()) {
    audience = it->second.audience;
  }
  try {
    const auth::TokenSet exchanged = session->exchange(audience);
    print(exchanged.access_token, exchanged.expires_at);
  } catch (const auth::OAuthError& e) {
    throw AuthError(fmt::format("no token for {}: the hub refused token exchange ({})", audience,
                                e.description().empty() ? e.error() : e.description()),
                    fmt::format("ask your hub admin for a role on hub client {}", audience));
  }
  return 0;
}

int do_auth_check(const GlobalOptions& global, const std::string& file) {
  const workflow::Workflow wf = workflow::load_workflow(file);
  // Steps that need no cluster need no hub either (as for `krdc run`): say so without one.
  const config::Env env = config::process_env();
  const auto targets = auth::step_targets(wf, config::load_config(global.config_file, env), env);
  if (targets.empty()) {
    if (is_data_format(global.output)) {
      print_data(std::cout, {{"workflow", file}, {"authorised", true}, {"steps", nlohmann::json::array()}},
                 global.output);
    } else {
      std::cout << fmt::format("{}: no step runs on a cluster; nothing to authorise\n", file);
    }
    return 0;
  }
  Context ctx(global, wf.hub);
  auto session = auth::open_session(ctx.settings, ctx.env, ctx.http);
  auth::authorize_steps(targets, session);
  const auto who = session->claims().username;
  if (is_data_format(global.output)) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& t : targets) {
      steps.push_back({{"step", t.step}, {"cluster", t.cluster}, {"local", t.local}, {"audience", t.audience}});
    }
    print_data(std::cout, {{"workflow", file}, {"authorised", true}, {"user", who}, {"steps", steps}}, global.output);
    return 0;
  }
  for (const auto& t : targets) {
    std::cout << fmt::format("ok  step \"{}\" on cluster \"{}\" ({}, audience {})\n", t.step, t.cluster,
                             t.local ? "local: own token" : "remote: token exchange", t.audience);
  }
  std::cout << fmt::format("{}: every step is authorised for {}\n", file, who);
  return 0;
}

}  // namespace

void add_auth_commands(CLI::App& app, GlobalOptions& global, Action& action) {
  auto* login = app.add_subcommand("login", "Sign in at the hub (OIDC device login; client credentials in CI)");
  login->footer(R"(Examples:
  krdc login                                  # shows a code and a URL: open it, approve, done
  krdc --hub https://hub.example/realms/krdc login
  KRDC_CLIENT_ID=ci KRDC_CLIENT_SECRET_FILE=/run/secrets/ci krdc login   # CI, no prompt

The session is cached per hub and client in $XDG_CACHE_HOME/krdc/ (mode 0600) and refreshed
automatically. Without a terminal (or with --non-interactive / CI set) krdc never starts a
device login: it uses KRDC_CLIENT_ID + KRDC_CLIENT_SECRET or KRDC_TOKEN instead.
Hub: --hub > KRDC_HUB > hub.issuer in the config file. Exit status 3 when login fails.)");
  login->callback([&global, &action] { action = [&global] { return do_login(global); }; });

  auto* logout = app.add_subcommand("logout", "Revoke the session at the hub and delete the cached tokens");
  logout->footer(R"(Examples:
  krdc logout
  krdc --hub https://other-hub.example/realms/krdc logout)");
  logout->callback([&global, &action] { action = [&global] { return do_logout(global); }; });

  auto* whoami = app.add_subcommand("whoami", "Show who you are at the hub: user, groups, roles, expiry");
  whoami->footer(R"(Examples:
  krdc whoami
  krdc whoami -o json | jq -r .groups[]

Never prints a token; "clusters" lists the audiences your session token carries.)");
  whoami->callback([&global, &action] { action = [&global] { return do_whoami(global); }; });

  auto token_audience = std::make_shared<std::string>();
  auto token_exec = std::make_shared<bool>(false);
  auto* token = app.add_subcommand("token", "Print an access token for scripts (the only command that prints a secret)");
  token->add_option("--audience", *token_audience,
                    "A cluster name from your config, or a hub client id: exchanges the session token for one "
                    "restricted to that audience");
  token->add_flag("--exec-credential", *token_exec,
                  "Print a client.authentication.k8s.io/v1 ExecCredential (JSON) instead: krdc as a kubectl "
                  "credential plugin (kubeconfig users[].exec)");
  token->footer(R"EX(Examples:
  krdc token | sed 's/^/Authorization: Bearer /' | curl -H @- https://api.example/
  krdc token --audience unist --exec-credential

kubectl: let it ask krdc itself, so the token never appears in a command line (--token
would put it in argv, visible in ps and /proc). In the kubeconfig:
  users:
  - name: alice@unist
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: krdc
        args: [token, --audience, unist, --exec-credential]
        interactiveMode: Never
kubectl caches the token until its expirationTimestamp and asks again after that.

The token goes to stdout only; keep it out of logs, files and command lines.)EX");
  token->callback([&global, &action, token_audience, token_exec] {
    action = [&global, token_audience, token_exec] { return do_token(global, *token_audience, *token_exec); };
  });

  auto* auth_group = app.add_subcommand("auth", "Identity checks");
  auth_group->require_subcommand(1);
  auth_group->footer(R"(Examples:
  krdc auth check wf.yaml                  may I run every step of wf.yaml? (exit 3 if not)
  krdc auth check wf.yaml -o json          the same, one record per step, for scripts)");
  auto check_file = std::make_shared<std::string>();
  auto* check = auth_group->add_subcommand("check", "Check that you may run every step of a workflow, without running it");
  check->add_option("workflow", *check_file, "Workflow file (YAML)")->required()->check(CLI::ExistingFile);
  check->footer(R"(Examples:
  krdc auth check ocean-heat.yaml
  KRDC_CLIENT_ID=ci KRDC_CLIENT_SECRET_FILE=/run/secrets/ci krdc auth check wf.yaml

For the local cluster your own token must carry the cluster's audience; for each remote
cluster krdc asks the hub for a token exchange. A refusal names the step, the cluster and the
missing role, and exits with status 3.)");
  check->callback([&global, &action, check_file] {
    action = [&global, check_file] { return do_auth_check(global, *check_file); };
  });
}

}  // namespace krdc::cli
