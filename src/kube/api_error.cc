#include "krdc/kube/api_error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "krdc/http/client.h"

namespace krdc::kube {

ExitCode exit_code_for_status(long status) {
  if (status == 401 || status == 403) return ExitCode::kAuth;
  if (status == 400 || status == 404 || status == 409 || status == 410 || status == 422) return ExitCode::kInvalid;
  return ExitCode::kUnreachable;
}

ApiError::ApiError(long status, std::string reason, const std::string& message, std::string hint)
    : Error(exit_code_for_status(status), message, std::move(hint)), status_(status), reason_(std::move(reason)) {}

ApiError api_error(const std::string& what, long status, const std::string& body) {
  std::string reason;
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object() && json.value("kind", "") == "Status" && json.contains("reason") && json["reason"].is_string()) {
    reason = json["reason"].get<std::string>();
  }
  // server_message() takes a Status' "message" and strips control characters.
  const std::string said = http::server_message(body);
  std::string hint;
  if (status == 403) hint = "the cluster's RBAC does not allow this for your identity; ask the cluster admin";
  if (status == 401) hint = "the API server did not accept the credential; run krdc login (or check the kubeconfig user)";
  return ApiError(status, reason,
                  fmt::format("{}: HTTP {}{}{}{}", what, status, reason.empty() ? "" : " " + reason,
                              said.empty() ? "" : ": ", said),
                  hint);
}

}  // namespace krdc::kube
