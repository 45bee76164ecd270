#pragma once
// Authorisation before anything runs (docs/architecture.md, "Identity"): for every step that runs on a
// cluster, obtain the credential it will use — the user's own token for the local cluster (it
// must already carry that cluster's audience), a token exchanged at the hub (RFC 8693) for a
// remote one — and fail the whole run up front if any step is not allowed, naming the step,
// the cluster, and the right that is missing.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "krdc/auth/hub_session.h"
#include "krdc/auth/token_source.h"

namespace krdc::auth {

struct StepTarget {
  std::string step;
  std::string cluster;   // empty: runs without a cluster (process executor); skipped
  std::string audience;  // the hub client the cluster's API server accepts, e.g. krdc-unist
  bool local = false;    // the cluster krdc talks to directly with the user's own token
};

// The role on each cluster's hub client that grants "may run steps there" (testbed and docs).
inline constexpr const char* kRunRole = "run";

// Returns one TokenSource per cluster name. Throws AuthError listing every refused step (one
// line each), e.g.
//   step "regrid": not allowed on cluster "unist" (audience krdc-unist): the hub refused token
//   exchange (Requested audience not available) — ask your hub admin for the unist "run" role
// Network failures propagate as UnreachableError. `scope_for` optionally maps an audience to the
// scope to request with the exchange (hubs that gate audiences behind optional scopes).
std::map<std::string, std::shared_ptr<TokenSource>> authorize_steps(
    const std::vector<StepTarget>& targets, const std::shared_ptr<HubSession>& session,
    const std::map<std::string, std::string>& scope_for = {});

}  // namespace krdc::auth
