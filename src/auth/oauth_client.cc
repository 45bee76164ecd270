#include "krdc/auth/oauth_client.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include "krdc/auth/jwt_parts.h"
#include "krdc/http/form.h"

namespace krdc::auth {

namespace {

std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// PKCE S256 (RFC 7636): 32 random bytes as verifier, SHA-256 of it as challenge.
std::pair<std::string, std::string> make_pkce() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) throw AuthError("could not get random bytes for PKCE");
  std::string verifier = base64url_encode(std::string_view(reinterpret_cast<char*>(raw), sizeof raw));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(verifier.data(), verifier.size(), digest, &len, EVP_sha256(), nullptr);
  return {verifier, base64url_encode(std::string_view(reinterpret_cast<char*>(digest), len))};
}

[[noreturn]] void throw_oauth_error(const http::Response& resp, const std::string& what) {
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  std::string error = j.is_object() ? str(j, "error") : std::string();
  std::string description = j.is_object() ? str(j, "error_description") : std::string();
  if (error.empty()) {
    throw UnreachableError(fmt::format("{}: hub answered HTTP {}: {}", what, resp.status, http::server_message(resp.body)));
  }
  std::string msg = fmt::format("{}: the hub refused: {}{}{}", what, error, description.empty() ? "" : " (",
                                description.empty() ? "" : description + ")");
  throw OAuthError(error, description, resp.status, msg);
}

}  // namespace

OAuthClient::OAuthClient(http::Client& http, ProviderMetadata metadata, ClientAuth client)
    : http_(http), metadata_(std::move(metadata)), client_(std::move(client)) {}

http::Response OAuthClient::post_form(const std::string& url, http::Form form, bool replayable) {
  http::Headers headers{{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  if (client_.client_secret.empty()) {
    form.emplace_back("client_id", client_.client_id);
  } else {
    std::string cred = http::url_encode(client_.client_id) + ":" + http::url_encode(client_.client_secret);
    headers.emplace_back("Authorization", "Basic " + [&] {
      // Basic uses standard base64 with padding.
      std::string out(4 * ((cred.size() + 2) / 3), '\0');
      int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                              reinterpret_cast<const unsigned char*>(cred.data()), static_cast<int>(cred.size()));
      out.resize(static_cast<size_t>(n));
      return out;
    }());
  }
  http::Request req;
  req.method = "POST";
  req.url = url;
  req.headers = std::move(headers);
  req.body = http::form_encode(form);
  req.replayable = replayable;
  return http_.request(req);
}

TokenSet OAuthClient::token_request(http::Form form, const std::string& what) {
  // Never resent blindly: a refresh that reached the hub has rotated the refresh token, so its
  // duplicate would be refused and could end the session (http::Request::replayable).
  auto resp = post_form(metadata_.token_endpoint, std::move(form), /*replayable=*/false);
  if (resp.status != 200) throw_oauth_error(resp, what);
  return parse_token_response(resp.body, Clock::now());
}

DeviceAuthorization OAuthClient::start_device_authorization(const std::string& scope) {
  if (metadata_.device_authorization_endpoint.empty()) {
    throw AuthError(fmt::format("hub {} does not offer the device authorization grant", metadata_.issuer));
  }
  auto [verifier, challenge] = make_pkce();
  http::Form form{{"code_challenge", challenge}, {"code_challenge_method", "S256"}};
  if (!scope.empty()) form.emplace_back("scope", scope);
  auto resp = post_form(metadata_.device_authorization_endpoint, std::move(form), /*replayable=*/false);
  if (resp.status != 200) throw_oauth_error(resp, "starting the device login");
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  DeviceAuthorization d;
  d.device_code = j.is_object() ? str(j, "device_code") : "";
  d.user_code = j.is_object() ? str(j, "user_code") : "";
  d.verification_uri = j.is_object() ? str(j, "verification_uri") : "";
  d.verification_uri_complete = j.is_object() ? str(j, "verification_uri_complete") : "";
  if (d.device_code.empty() || d.user_code.empty() || d.verification_uri.empty()) {
    throw UnreachableError("the hub's device authorization answer lacks device_code, user_code or verification_uri");
  }
  if (j.contains("expires_in") && j["expires_in"].is_number()) d.expires_in = std::chrono::seconds(j["expires_in"].get<long long>());
  if (j.contains("interval") && j["interval"].is_number()) d.interval = std::chrono::seconds(j["interval"].get<long long>());
  d.code_verifier = verifier;
  return d;
}

TokenSet OAuthClient::poll_device_token(const DeviceAuthorization& device) {
  return token_request({{"grant_type", "urn:ietf:params:oauth:grant-type:device_code"},
                        {"device_code", device.device_code},
                        {"code_verifier", device.code_verifier}},
                       "device login");
}

TokenSet OAuthClient::refresh(const std::string& refresh_token) {
  return token_request({{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}}, "refreshing the session");
}

TokenSet OAuthClient::client_credentials(const std::string& scope) {
  http::Form form{{"grant_type", "client_credentials"}};
  if (!scope.empty()) form.emplace_back("scope", scope);
  return token_request(std::move(form), fmt::format("client credentials login as {}", client_.client_id));
}

TokenSet OAuthClient::exchange(const std::string& subject_token, const std::string& audience, const std::string& scope) {
  http::Form form{{"grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"},
                  {"subject_token", subject_token},
                  {"subject_token_type", kTokenTypeAccessToken},
                  {"requested_token_type", kTokenTypeAccessToken},
                  {"audience", audience}};
  if (!scope.empty()) form.emplace_back("scope", scope);
  return token_request(std::move(form), fmt::format("token exchange for audience {}", audience));
}

bool OAuthClient::revoke(const std::string& token, const std::string& token_type_hint) {
  if (metadata_.revocation_endpoint.empty()) return false;
  // Revocation is idempotent (RFC 7009 §2.2: an invalid token is answered 200): retried as usual.
  auto resp = post_form(metadata_.revocation_endpoint, {{"token", token}, {"token_type_hint", token_type_hint}},
                        /*replayable=*/true);
  if (resp.status != 200) throw_oauth_error(resp, "revoking the session");
  return true;
}

}  // namespace krdc::auth
