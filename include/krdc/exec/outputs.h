#pragma once
// Reading a step's outputs: one JSON object, from the $KRDC_OUTPUTS file (process
// executor) or a Pod's termination message (kube executors). Same rules for both.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "krdc/exec/executor.h"
#include "krdc/workflow/app.h"

namespace krdc::exec {

// Parses outputs text. Empty text → {}. Sets `error` (and returns nullopt) when the text
// is not a JSON object. Exact values (workflow/scalar_text.h): an integer beyond 64 bits is kept
// as the string of its digits rather than rounded, so the result file records what the next
// step receives.
std::optional<nlohmann::json> parse_outputs(const std::string& text, std::string& error);

// The outputs `app` declares as required that `outputs` lacks, in declaration order. A declared
// output is required unless its descriptor says `required: false`.
std::vector<std::string> missing_outputs(const workflow::App& app, const nlohmann::json& outputs);

// Declared outputs are a contract: a success without a required one becomes a failure naming
// what is missing (exit code kept: the app did exit with it). Returns whether it did.
bool enforce_declared_outputs(const workflow::App& app, StepResult& result);

// The last `max_bytes` of a file (for log tails in result records), cut at a line start
// when possible and made valid UTF-8.
std::string read_tail(const std::string& path, size_t max_bytes);

}  // namespace krdc::exec
