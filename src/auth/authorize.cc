#include "krdc/auth/authorize.h"

#include <fmt/format.h>

#include "krdc/auth/exchanged_token_source.h"

namespace krdc::auth {

namespace {

std::string ask_admin(const StepTarget& t) {
  return fmt::format("ask your hub admin for the {} \"{}\" role (on hub client {})", t.cluster, kRunRole, t.audience);
}

}  // namespace

std::map<std::string, std::shared_ptr<TokenSource>> authorize_steps(
    const std::vector<StepTarget>& targets, const std::shared_ptr<HubSession>& session,
    const std::map<std::string, std::string>& scope_for) {
  std::map<std::string, std::shared_ptr<TokenSource>> sources;
  std::map<std::string, std::string> refusal_by_cluster;  // decided once per cluster
  std::vector<std::string> refused;
  Claims claims = session->claims();
  const std::string who = claims.username.empty() ? std::string("you") : claims.username;

  for (const auto& t : targets) {
    if (t.cluster.empty()) continue;
    if (!sources.count(t.cluster) && !refusal_by_cluster.count(t.cluster)) {
      if (t.audience.empty()) {
        refusal_by_cluster[t.cluster] = fmt::format(
            "cluster \"{}\" has no audience configured — set clusters.{}.audience in the workflow or config",
            t.cluster, t.cluster);
      } else if (t.local) {
        if (claims.has_audience(t.audience)) {
          sources[t.cluster] = session;
        } else {
          refusal_by_cluster[t.cluster] = fmt::format(
              "not allowed on cluster \"{}\" (audience {}): {}'s token does not carry that audience — {}", t.cluster,
              t.audience, who, ask_admin(t));
        }
      } else {
        auto scope = scope_for.count(t.audience) ? scope_for.at(t.audience) : std::string();
        try {
          TokenSet exchanged = session->exchange(t.audience, scope);
          sources[t.cluster] = std::make_shared<ExchangedTokenSource>(session, t.audience, scope, exchanged);
        } catch (const OAuthError& e) {
          refusal_by_cluster[t.cluster] = fmt::format(
              "not allowed on cluster \"{}\" (audience {}): the hub refused token exchange ({}) — {}", t.cluster,
              t.audience, e.description().empty() ? e.error() : e.description(), ask_admin(t));
        } catch (const AuthError& e) {
          // The exchanged token failed verification (e.g. it lacks the audience).
          refusal_by_cluster[t.cluster] =
              fmt::format("not allowed on cluster \"{}\" (audience {}): {} — {}", t.cluster, t.audience, e.what(),
                          ask_admin(t));
        }
      }
    }
    if (auto it = refusal_by_cluster.find(t.cluster); it != refusal_by_cluster.end()) {
      refused.push_back(fmt::format("step \"{}\": {}", t.step, it->second));
    }
  }
  if (!refused.empty()) {
    throw AuthError(fmt::format("{}", fmt::join(refused, "\n")),
                    fmt::format("nothing was started; checked as {} at {}", who, session->hub().issuer()));
  }
  return sources;
}

}  // namespace krdc::auth
