#include "krdc/auth/jwt_parts.h"

#include <array>

#include "krdc/util/errors.h"

namespace krdc::auth {

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

nlohmann::json part(std::string_view token, int index) {
  auto d1 = token.find('.');
  auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    throw AuthError("token is not a signed JWT (expected three dot-separated parts)");
  }
  std::string_view seg = index == 0 ? token.substr(0, d1) : token.substr(d1 + 1, d2 - d1 - 1);
  auto json = nlohmann::json::parse(base64url_decode(seg), nullptr, false);
  if (!json.is_object()) throw AuthError("token is not a JWT (a part is not a JSON object)");
  return json;
}
}  // namespace

std::string base64url_decode(std::string_view in) {
  std::array<int, 256> rev;
  rev.fill(-1);
  for (int i = 0; i < 64; ++i) rev[static_cast<unsigned char>(kAlphabet[i])] = i;
  rev['+'] = 62;  // tolerate standard base64 too
  rev['/'] = 63;
  std::string out;
  unsigned int acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int v = rev[static_cast<unsigned char>(c)];
    if (v < 0) throw AuthError("malformed base64url in token");
    acc = (acc << 6) | static_cast<unsigned int>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::string base64url_encode(std::string_view in) {
  std::string out;
  unsigned int acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3F]);
  return out;
}

nlohmann::json jwt_header_unverified(std::string_view token) { return part(token, 0); }
nlohmann::json jwt_payload_unverified(std::string_view token) { return part(token, 1); }

std::optional<long long> json_seconds(const nlohmann::json& value, long long max) {
  if (value.is_number_unsigned()) {
    const auto v = value.get<unsigned long long>();
    return v <= static_cast<unsigned long long>(max) ? std::optional<long long>(static_cast<long long>(v)) : std::nullopt;
  }
  if (!value.is_number_integer()) return std::nullopt;
  const auto v = value.get<long long>();
  return v >= 0 && v <= max ? std::optional<long long>(v) : std::nullopt;
}

bool compact_jws_charset(std::string_view token) {
  for (char c : token) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                    c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace krdc::auth
