#pragma once
// The bounded pre-pass every YAML file krdc reads goes through before YAML::Load builds a tree
// (docs/architecture.md, "Input limits"). YAML::Load resolves aliases and lets a repeated key
// silently win or lose, so the guard reads the text first, as events, and refuses with
// file:line:column: text that is not UTF-8 (or holds control characters), files above a size,
// more than one document, aliases (a billion-laughs file expands them), duplicate keys, keys that
// are not plain strings, and nesting beyond a depth. What passes is a tree YAML::Load builds in
// memory proportional to the file, whose keys all convert to strings.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace krdc::workflow {

struct YamlLimits {
  size_t max_bytes = 8u << 20;  // a 2000-step workflow is ~200 KiB
  int max_depth = 32;           // a workflow needs ~8 (spec.steps[i].params.x[j] ...)
};

// Throws InvalidInput ("file:line:col: ...") for the first problem found; also for YAML syntax
// errors, so callers may parse the text with YAML::Load afterwards.
void guard_yaml(const std::string& text, const std::string& file, const YamlLimits& limits = {});

// Offset of the first byte that does not belong to well-formed UTF-8 (no overlong forms, no
// surrogates, nothing above U+10FFFF), or nullopt when `text` is valid.
std::optional<size_t> invalid_utf8_at(std::string_view text);

}  // namespace krdc::workflow
