#pragma once
// A kubeconfig `exec` user as a TokenSource: runs the credential plugin (argv, never a shell)
// and reads an ExecCredential from its stdout; the token is cached until its
// expirationTimestamp (less a margin) or until invalidate() after a 401. The plugin's stderr
// goes to krdc's stderr (plugins prompt or explain there); stdin is /dev/null (never interactive).
// The plugin runs through util::ChildProcess, at most 60 s.
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "krdc/auth/token_source.h"
#include "krdc/util/cancel.h"

namespace krdc::kube {

struct ExecPlugin {
  std::string api_version = "client.authentication.k8s.io/v1";
  std::string command;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  std::string dir;  // the kubeconfig's directory: a relative command is resolved there
  // Interrupts a plugin that is still running (it is killed; token() throws Interrupted).
  // Not owned; outlives the source (the process-wide token, util/interrupts.h).
  const util::CancelToken* cancel = nullptr;
};

// Parses an ExecCredential JSON (status.token, status.expirationTimestamp). Throws AuthError.
struct ExecToken {
  std::string token;
  std::chrono::system_clock::time_point expires{};  // epoch: no expiry given
};
ExecToken parse_exec_credential(const std::string& json_text);

// The other side: what `krdc token --exec-credential` prints for kubectl (krdc as a client-go
// exec plugin, kubeconfig users[].exec with apiVersion client.authentication.k8s.io/v1): an
// ExecCredential with status.token and, when known, status.expirationTimestamp (RFC 3339, UTC),
// so the token never has to pass through argv (`kubectl --token`).
std::string render_exec_credential(const ExecToken& token);

class ExecTokenSource : public auth::TokenSource {
 public:
  explicit ExecTokenSource(ExecPlugin plugin);
  std::string token() override;
  void invalidate() override;
  std::string describe() const override;

 private:
  ExecPlugin plugin_;
  std::mutex mu_;
  ExecToken cached_;
  bool valid_ = false;
};

}  // namespace krdc::kube
