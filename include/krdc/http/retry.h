#pragma once
// Retry policy pieces, separate from the transfer code so they can be unit-tested directly.
#include <chrono>
#include <optional>
#include <random>
#include <string_view>

namespace krdc::http {

// Statuses worth retrying: 429 (rate limited) and every 5xx. Never other 4xx: the request
// itself is wrong, repeating it cannot help.
bool is_retryable_status(long status);

// Jittered exponential backoff for retry number `attempt` (0 = first retry): a uniform draw in
// [d/2, d] with d = min(max, base * 2^attempt), so concurrent clients spread out but a retry
// never comes "immediately".
std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds base,
                                        std::chrono::milliseconds max, std::mt19937_64& rng);

// Retry-After is either delta-seconds or an HTTP-date (RFC 9110 §10.2.3). Returns the wait
// relative to `now`, clamped at zero; nullopt when absent or unparsable.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace krdc::http
