#pragma once
// application/x-www-form-urlencoded bodies and URL query strings (OAuth token requests,
// Kubernetes list/watch parameters). Percent-encoding per RFC 3986 unreserved set.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace krdc::http {

using Form = std::vector<std::pair<std::string, std::string>>;

std::string url_encode(std::string_view text);
std::string form_encode(const Form& fields);  // a=1&b=x%20y
// Appends "?k=v&..." (or "&k=v" if the URL already has a query).
std::string with_query(std::string url, const Form& params);
// The URL without query string or fragment, and without userinfo: safe for logs and errors.
std::string redact_url(std::string_view url);

}  // namespace krdc::http
