#include "krdc/http/retry.h"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <string>

namespace krdc::http {

bool is_retryable_status(long status) { return status == 429 || (status >= 500 && status <= 599); }

std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds base,
                                        std::chrono::milliseconds max, std::mt19937_64& rng) {
  using std::chrono::milliseconds;
  long long d = base.count();
  for (int i = 0; i < attempt && d < max.count(); ++i) d *= 2;
  d = std::min<long long>(d, max.count());
  if (d <= 1) return milliseconds(d);
  std::uniform_int_distribution<long long> dist(d / 2, d);
  return milliseconds(dist(rng));
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r'))
    value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  long long seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && end == value.data() + value.size()) {
    return std::chrono::milliseconds(std::max(0LL, seconds) * 1000);
  }
  // HTTP-date: libcurl's parser handles the three formats RFC 9110 allows.
  std::string copy(value);
  time_t when = curl_getdate(copy.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  auto delta = std::chrono::system_clock::from_time_t(when) - now;
  return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(delta));
}

}  // namespace krdc::http
