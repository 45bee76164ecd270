#pragma once
#include <string_view>
#include <string>

namespace krdc::util {

// "sha256:<lowercase hex>" of the bytes, via OpenSSL.
std::string sha256_digest(std::string_view bytes);

}  // namespace krdc::util
