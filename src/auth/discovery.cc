#include "krdc/auth/discovery.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace krdc::auth {

bool is_acceptable_hub_url(const std::string& url) {
  if (url.starts_with("https://")) return true;
  // Plain http to loopback only for the unit tests' fake hub: tokens never travel in clear.
  if (!http::testing::loopback_http_allowed()) return false;
  for (const char* loop : {"http://127.0.0.1", "http://localhost", "http://[::1]"}) {
    std::string p(loop);
    if (url.starts_with(p) && (url.size() == p.size() || url[p.size()] == ':' || url[p.size()] == '/')) return true;
  }
  return false;
}

ProviderMetadata discover(http::Client& http, const std::string& issuer) {
  if (!is_acceptable_hub_url(issuer)) {
    throw AuthError(fmt::format("hub {} is not an https URL", issuer),
                    "tokens must only travel over TLS; use the https issuer URL of the hub");
  }
  const std::string url = issuer + "/.well-known/openid-configuration";
  auto resp = http.request("GET", url, {{"Accept", "application/json"}});
  if (resp.status != 200) {
    throw UnreachableError(fmt::format("OIDC discovery at {} failed: HTTP {}: {}", url, resp.status,
                                       http::server_message(resp.body)),
                           "check the hub URL (it is the Keycloak realm URL, e.g. https://host/realms/NAME)");
  }
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  if (!j.is_object()) throw UnreachableError(fmt::format("OIDC discovery at {}: not a JSON document", url));
  auto get = [&j](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  ProviderMetadata md;
  md.issuer = get("issuer");
  md.token_endpoint = get("token_endpoint");
  md.device_authorization_endpoint = get("device_authorization_endpoint");
  md.revocation_endpoint = get("revocation_endpoint");
  md.jwks_uri = get("jwks_uri");
  md.userinfo_endpoint = get("userinfo_endpoint");
  if (md.issuer != issuer) {
    throw AuthError(fmt::format("hub at {} says its issuer is \"{}\"", issuer, md.issuer),
                    "use exactly the issuer the hub announces as the hub URL");
  }
  if (md.token_endpoint.empty() || md.jwks_uri.empty()) {
    throw UnreachableError(fmt::format("OIDC discovery at {}: token_endpoint or jwks_uri missing", url));
  }
  for (const auto* ep : {&md.token_endpoint, &md.device_authorization_endpoint, &md.revocation_endpoint, &md.jwks_uri}) {
    if (!ep->empty() && !is_acceptable_hub_url(*ep)) {
      throw AuthError(fmt::format("hub endpoint {} is not https", *ep));
    }
  }
  return md;
}

}  // namespace krdc::auth
