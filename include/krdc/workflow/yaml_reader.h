#pragma once
// Strict reading of YAML mappings: every key must be known, every value of the right shape,
// and every complaint carries file:line:column. Shared by the workflow and app-descriptor
// loaders so both reject bad input the same way.
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "krdc/workflow/source_mark.h"

namespace krdc::workflow {

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  // Parses a whole file (or text, for tests); syntax errors become InvalidInput with position.
  YAML::Node parse_file() const;
  YAML::Node parse_text(const std::string& text) const;

  const std::string& file() const { return file_; }
  SourceMark mark(const YAML::Node& node) const;

  // `what` names the thing for messages, e.g. `step "fetch"`.
  void require_map(const YAML::Node& node, const std::string& what) const;
  void check_keys(const YAML::Node& map, std::initializer_list<const char*> allowed,
                  const std::string& what) const;

  std::string get_string(const YAML::Node& node, const std::string& what) const;
  std::vector<std::string> get_string_list(const YAML::Node& node, const std::string& what) const;
  int get_int(const YAML::Node& node, const std::string& what, int min, int max) const;
  bool get_bool(const YAML::Node& node, const std::string& what) const;
  // Durations: 90 (seconds), "90s", "5m", "1h30m", "250ms" (whole numbers). Returns milliseconds.
  long long get_duration_ms(const YAML::Node& node, const std::string& what) const;

  // Converts a scalar/sequence/map to JSON, keeping YAML's typing (1 → int, 0.5 → float,
  // true → bool, quoted "1" → string) and every scalar's text: a number that would not print
  // back as written (3.10, 0777, 1e5, 20 digits) stays the string of its text (scalar_text.h).
  // Used for param values and defaults.
  nlohmann::json to_json(const YAML::Node& node) const;

 private:
  std::string file_;
};

// What YAML 1.2's core schema makes of a node. Plain scalars only are typed: true/false (also
// True, TRUE, ...) → bool, null/~ → null, [-+]?[0-9]+ → int, decimal or exponent numbers → float
// (.inf, .nan and 0x1F stay strings: Python's int()/float() would not read them back); anything
// else, and every quoted scalar, is a string.
enum class YamlType { kNull, kBool, kInt, kFloat, kString, kList, kMap };
YamlType yaml_type(const YAML::Node& node);
const char* to_string(YamlType type);  // "str", "int", "float", "bool", "list", "mapping", "null"

// The longest duration krdc accepts (366 days), so sums of units never overflow.
inline constexpr long long kMaxDurationMs = 366LL * 86'400'000;

// Parses "1h30m", "90s", "250ms", "2m", "1d" or a bare whole number of seconds, in whole numbers
// only, up to kMaxDurationMs; nullopt if malformed or too long.
std::optional<long long> parse_duration_ms(const std::string& text);

}  // namespace krdc::workflow
