#include "krdc/auth/open_session.h"

#include "krdc/auth/token_cache.h"

namespace krdc::auth {

std::shared_ptr<Hub> make_hub(const config::HubSettings& settings, http::ClientOptions options) {
  return std::make_shared<Hub>(settings, std::move(options));
}

std::shared_ptr<HubSession> open_session(const config::HubSettings& settings, const config::Env& env,
                                         http::ClientOptions options) {
  return HubSession::open(make_hub(settings, std::move(options)), TokenCache(TokenCache::default_dir(env)));
}

}  // namespace krdc::auth
