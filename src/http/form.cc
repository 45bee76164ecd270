#include "krdc/http/form.h"

namespace krdc::http {

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string form_encode(const Form& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    out += url_encode(name);
    out.push_back('=');
    out += url_encode(value);
  }
  return out;
}

std::string with_query(std::string url, const Form& params) {
  if (params.empty()) return url;
  url.push_back(url.find('?') == std::string::npos ? '?' : '&');
  url += form_encode(params);
  return url;
}

std::string redact_url(std::string_view url) {
  std::string_view cut = url.substr(0, url.find_first_of("?#"));
  // Drop "user:password@" if someone put credentials into a URL.
  auto scheme = cut.find("://");
  std::string_view rest = scheme == std::string_view::npos ? cut : cut.substr(scheme + 3);
  auto slash = rest.find('/');
  auto at = rest.substr(0, slash).rfind('@');
  if (at == std::string_view::npos) return std::string(cut);
  std::string out(cut.substr(0, scheme == std::string_view::npos ? 0 : scheme + 3));
  out += rest.substr(at + 1);
  return out;
}

}  // namespace krdc::http
