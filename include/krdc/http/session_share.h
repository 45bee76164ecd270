#pragma once
// TLS sessions and DNS answers shared by the Clients of one server (RAII over a libcurl share).
#include <memory>

namespace krdc::http {

// What Clients talking to the same server may share across threads: TLS sessions (a new
// connection resumes one instead of a full handshake with certificate verification) and DNS
// answers. Connections themselves are not shared (libcurl does not support that across
// threads); each Client keeps its own.
class SessionShare {
 public:
  SessionShare();
  ~SessionShare();
  SessionShare(const SessionShare&) = delete;
  SessionShare& operator=(const SessionShare&) = delete;
  void* handle() const;  // the CURLSH*

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace krdc::http
