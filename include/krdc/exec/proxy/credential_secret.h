#pragma once
// The Secret that carries a remote step's credential to its proxy Pod, for as long as the step
// runs (docs/architecture.md, "Remote steps"). Created before the proxy Job; owned by it once
// the Job exists (ownerReference, so the garbage collector removes it with the Job, also should
// krdc die); deleted when the step ends. Renewal stops once it is gone. An exchanged token lives minutes and a remote Job may run
// for hours: while the step runs, the token is renewed at half its lifetime and the Secret
// updated. The kubelet swaps the mounted files atomically, and the proxy re-reads its token
// file before every request, so the renewed token takes effect without a restart.
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "krdc/auth/exchanged_token_source.h"
#include "krdc/kube/api_client.h"

namespace krdc::exec::proxy {

class CredentialSecret {
 public:
  using Render = std::function<nlohmann::json(const std::string& token)>;  // the Secret for a token
  // Creates the Secret (adopting our own after a retried POST) and starts renewing its token.
  // `after_renewal` runs on the renewal thread after each update of the Secret (the proxy
  // executor uses it to make the kubelet refresh the proxy Pod's volume at once).
  CredentialSecret(krdc::kube::ApiClient& local, std::shared_ptr<auth::ExchangedTokenSource> tokens, Render render,
                   std::function<void()> after_renewal = {}, std::function<void(std::string_view)> log = {});
  ~CredentialSecret();  // stops renewing, deletes the Secret (best effort: the Job owns it too)
  CredentialSecret(const CredentialSecret&) = delete;
  CredentialSecret& operator=(const CredentialSecret&) = delete;

  // Makes the Job the Secret's owner, so the garbage collector deletes the Secret with it.
  void own_by(const std::string& job_name, const std::string& job_uid);
  const std::string& name() const { return name_; }
  // What creating it cost (ms): the token exchange, then the Secret's create (bench/proxy).
  long long exchange_ms() const { return exchange_ms_; }
  long long create_ms() const { return create_ms_; }

 private:
  void renew_loop(auth::Clock::time_point expires_at);
  void write_token(const std::string& token);

  krdc::kube::ApiClient& local_;
  std::shared_ptr<auth::ExchangedTokenSource> tokens_;
  Render render_;
  std::function<void()> after_renewal_;
  std::function<void(std::string_view)> log_;
  std::string name_;
  std::string path_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  long long exchange_ms_ = 0;
  long long create_ms_ = 0;
  std::thread thread_;  // last: started once everything it uses exists
};

}  // namespace krdc::exec::proxy
