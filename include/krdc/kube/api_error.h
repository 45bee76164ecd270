#pragma once
// An error answer from a Kubernetes API server, carrying the server's own Status (code,
// reason, message) so the user reads what the API server said, e.g.
//   POST jobs in alice on kisti: 422 Invalid: Job.batch "x" is invalid: spec.template...
#include <string>

#include "krdc/util/errors.h"

namespace krdc::kube {

class ApiError : public Error {
 public:
  ApiError(long status, std::string reason, const std::string& message, std::string hint = {});
  long status() const { return status_; }
  // The Status reason ("NotFound", "AlreadyExists", "Expired", "Invalid", ...), may be empty.
  const std::string& reason() const { return reason_; }

 private:
  long status_;
  std::string reason_;
};

// The exit code an HTTP status maps to: 401/403 → auth, 400/404/409/410/422 → invalid
// (the request or the configuration is wrong), anything else → unreachable/protocol.
ExitCode exit_code_for_status(long status);

// Builds the error for a non-2xx answer: `what` says which call ("POST jobs in alice on kisti").
ApiError api_error(const std::string& what, long status, const std::string& body);

}  // namespace krdc::kube
