#include "krdc/exec/proxy/credential_secret.h"

#include <fmt/format.h>

#include "krdc/kube/api_error.h"
#include "krdc/util/clock.h"

namespace krdc::exec::proxy {

using nlohmann::json;

namespace {

// Renew at half the remaining lifetime: the kubelet may take a resync period (about a minute on
// a real node) to show the new file to the proxy, and the old token must still work meanwhile.
auth::Clock::time_point renewal_time(auth::Clock::time_point obtained, auth::Clock::time_point expires_at) {
  return obtained + (expires_at - obtained) / 2;
}

}  // namespace

CredentialSecret::CredentialSecret(krdc::kube::ApiClient& local, std::shared_ptr<auth::ExchangedTokenSource> tokens,
                                   Render render, std::function<void()> after_renewal,
                                   std::function<void(std::string_view)> log)
    : local_(local), tokens_(std::move(tokens)), render_(std::move(render)), after_renewal_(std::move(after_renewal)),
      log_(std::move(log)) {
  const long long t0 = util::epoch_ms();
  const auth::TokenSet first = tokens_->renew();  // a whole lifetime ahead of the proxy
  const long long t1 = util::epoch_ms();
  exchange_ms_ = t1 - t0;
  const json manifest = render_(first.access_token);
  name_ = manifest["metadata"]["name"];
  const std::string ns = manifest["metadata"]["namespace"];
  path_ = fmt::format("/api/v1/namespaces/{}/secrets/{}", ns, name_);
  try {
    local_.create(fmt::format("/api/v1/namespaces/{}/secrets", ns), manifest, krdc::kube::FieldMask{"metadata.uid"});
  } catch (const krdc::kube::ApiError& e) {
    if (e.status() != 409) throw;
    // Our fixed name exists: a retried POST that did reach the server, or an earlier try of
    // this same attempt. Take it over only if it is ours.
    const json existing = local_.get(path_);
    const auto ann = existing["metadata"].value("annotations", json::object());
    if (ann.value("krdc/run-id", "") != manifest["metadata"]["annotations"].value("krdc/run-id", "")) throw;
    try {
      write_token(first.access_token);
    } catch (...) {
      local_.remove(path_);  // no destructor runs for a constructor that throws
      throw;
    }
  }
  create_ms_ = util::epoch_ms() - t1;
  if (first.expires_at != auth::Clock::time_point{}) {
    thread_ = std::thread([this, expires = first.expires_at] { renew_loop(expires); });
  }
}

CredentialSecret::~CredentialSecret() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  try {
    local_.remove(path_);
  } catch (const std::exception& e) {
    if (log_) log_(fmt::format("secret {}: not deleted ({}); the garbage collector removes it with its Job", name_, e.what()));
  }
}

void CredentialSecret::own_by(const std::string& job_name, const std::string& job_uid) {
  local_.merge_patch(path_, {{"metadata",
                              {{"ownerReferences", json::array({{{"apiVersion", "batch/v1"},
                                                                 {"kind", "Job"},
                                                                 {"name", job_name},
                                                                 {"uid", job_uid}}})}}}});
}

void CredentialSecret::write_token(const std::string& token) {
  // stringData is merged into data by the API server: only the token changes.
  local_.merge_patch(path_, {{"stringData", {{"token", token}}}});
}

void CredentialSecret::renew_loop(auth::Clock::time_point expires_at) {
  auto obtained = auth::Clock::now();
  auto next = renewal_time(obtained, expires_at);
  std::unique_lock lock(mu_);
  for (;;) {
    const auto stopping = [this] { return stop_; };
    if (next == auth::Clock::time_point::max()) {
      cv_.wait(lock, stopping);  // expiry unknown: nothing to renew ahead of
      return;
    }
    if (cv_.wait_until(lock, next, stopping)) return;
    lock.unlock();
    // Never let an exception out of this thread: a failed renewal is retried, and the step
    // fails through the proxy's own 401 if the token really runs out.
    std::string said;
    try {
      const auth::TokenSet fresh = tokens_->renew();
      write_token(fresh.access_token);
      if (after_renewal_) after_renewal_();
      obtained = auth::Clock::now();
      next = fresh.expires_at == auth::Clock::time_point{} ? auth::Clock::time_point::max()
                                                            : renewal_time(obtained, fresh.expires_at);
      said = "token renewed";
    } catch (const krdc::kube::ApiError& e) {
      if (e.status() == 404) return;  // gone with its Job (the step is ending): nothing to renew
      said = fmt::format("token renewal failed, retrying in 5s: {}", e.what());
      next = auth::Clock::now() + std::chrono::seconds(5);
    } catch (const std::exception& e) {
      said = fmt::format("token renewal failed, retrying in 5s: {}", e.what());
      next = auth::Clock::now() + std::chrono::seconds(5);
    }
    if (log_) log_(fmt::format("secret {}: {}", name_, said));
    lock.lock();
  }
}

}  // namespace krdc::exec::proxy
