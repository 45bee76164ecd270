#pragma once
// Reading a step's outputs: one JSON object, from the $KRDC_OUTPUTS file (process
// executor) or a Pod's termination message (kube executors). Same rules for both.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace krdc::exec {

// Parses outputs text. Empty text → {}. Sets `error` (and returns nullopt) when the text
// is not a JSON object.
std::optional<nlohmann::json> parse_outputs(const std::string& text, std::string& error);

// The last `max_bytes` of a file (for log tails in result records), cut at a line start
// when possible and made valid UTF-8.
std::string read_tail(const std::string& path, size_t max_bytes);

}  // namespace krdc::exec
