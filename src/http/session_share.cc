#include "krdc/http/session_share.h"

#include <array>
#include <mutex>

#include "curl_handles.h"
#include "krdc/util/errors.h"

namespace krdc::http {

using detail::ShareHandle;

struct SessionShare::Impl {
  ShareHandle share{curl_share_init()};
  std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;

  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* self) {
    static_cast<Impl*>(self)->locks[static_cast<size_t>(data)].lock();
  }
  static void unlock(CURL*, curl_lock_data data, void* self) {
    static_cast<Impl*>(self)->locks[static_cast<size_t>(data)].unlock();
  }
};

SessionShare::SessionShare() : impl_(std::make_unique<Impl>()) {
  CURLSH* sh = impl_->share.get();
  if (!sh) throw UnreachableError("could not initialise libcurl (share)");
  curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, &Impl::lock);
  curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, &Impl::unlock);
  curl_share_setopt(sh, CURLSHOPT_USERDATA, impl_.get());
  curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
}

SessionShare::~SessionShare() = default;

void* SessionShare::handle() const { return impl_->share.get(); }

}  // namespace krdc::http
