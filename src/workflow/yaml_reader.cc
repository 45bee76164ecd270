#include "krdc/workflow/yaml_reader.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "krdc/workflow/scalar_text.h"
#include "krdc/workflow/yaml_guard.h"

namespace krdc::workflow {

namespace {

SourceMark from_yaml_mark(const std::string& file, const YAML::Mark& m) {
  if (m.line < 0) return {file, 0, 0};
  return {file, m.line + 1, m.column + 1};
}

std::string kind_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Scalar: return fmt::format("\"{}\"", node.Scalar());
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    default: return "an undefined value";
  }
}

// YAML 1.2 core schema booleans/nulls/numbers for *plain* (unquoted) scalars only.
bool is_plain(const YAML::Node& node) { return node.Tag() == "?" || node.Tag().empty(); }

}  // namespace

YAML::Node YamlReader::parse_text(const std::string& text) const {
  // Bounded and strict first (yaml_guard.h): no aliases, duplicate or non-string keys, extra
  // documents, invalid UTF-8 or deep nesting reach YAML::Load.
  guard_yaml(text, file_);
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw invalid_at(from_yaml_mark(file_, e.mark), fmt::format("YAML syntax error: {}", e.msg),
                     "check the indentation and quoting around that position");
  }
}

YAML::Node YamlReader::parse_file() const {
  std::ifstream in(file_, std::ios::binary);
  if (!in) {
    throw InvalidInput(fmt::format("{}: cannot read file: {}", file_, std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_text(text.str());
}

SourceMark YamlReader::mark(const YAML::Node& node) const {
  return from_yaml_mark(file_, node.Mark());
}

void YamlReader::require_map(const YAML::Node& node, const std::string& what) const {
  if (!node.IsMap()) {
    throw invalid_at(mark(node), fmt::format("{} must be a mapping, found {}", what, kind_name(node)));
  }
}

void YamlReader::check_keys(const YAML::Node& map, std::initializer_list<const char*> allowed,
                            const std::string& what) const {
  require_map(map, what);
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      throw invalid_at(mark(kv.first), fmt::format("{}: unknown field \"{}\"", what, key),
                       fmt::format("allowed fields: {}", list));
    }
  }
}

std::string YamlReader::get_string(const YAML::Node& node, const std::string& what) const {
  if (!node.IsScalar()) {
    throw invalid_at(mark(node), fmt::format("{} must be a string, found {}", what, kind_name(node)));
  }
  return node.Scalar();
}

std::vector<std::string> YamlReader::get_string_list(const YAML::Node& node,
                                                     const std::string& what) const {
  std::vector<std::string> out;
  if (node.IsScalar()) {  // a single string is accepted as a one-element list
    out.push_back(node.Scalar());
    return out;
  }
  if (!node.IsSequence()) {
    throw invalid_at(mark(node), fmt::format("{} must be a list of strings, found {}", what, kind_name(node)));
  }
  for (const auto& item : node) out.push_back(get_string(item, what + " item"));
  return out;
}

int YamlReader::get_int(const YAML::Node& node, const std::string& what, int min, int max) const {
  const std::string s = node.IsScalar() ? node.Scalar() : std::string();
  int value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (!node.IsScalar() || ec != std::errc() || ptr != s.data() + s.size() || value < min || value > max) {
    throw invalid_at(mark(node), fmt::format("{} must be an integer from {} to {}, found {}", what, min, max,
                                             kind_name(node)));
  }
  return value;
}

bool YamlReader::get_bool(const YAML::Node& node, const std::string& what) const {
  if (node.IsScalar() && is_plain(node)) {
    if (node.Scalar() == "true") return true;
    if (node.Scalar() == "false") return false;
  }
  throw invalid_at(mark(node), fmt::format("{} must be true or false, found {}", what, kind_name(node)));
}

// Whole numbers only: a fraction ("0.0001s" rounding to 0, which means "no timeout"), NaN or
// infinity ("nans", "infs") or an exponent ("1e300") has no place in a timeout, and every step of
// the sum is checked against kMaxDurationMs so nothing overflows.
std::optional<long long> parse_duration_ms(const std::string& text) {
  const size_t n = text.size();
  if (n == 0) return std::nullopt;
  auto digit = [&](size_t i) { return i < n && text[i] >= '0' && text[i] <= '9'; };
  long long total = 0;
  size_t i = 0;
  while (i < n) {
    if (!digit(i)) return std::nullopt;
    long long number = 0;
    while (digit(i)) {
      number = number * 10 + (text[i++] - '0');
      if (number > kMaxDurationMs) return std::nullopt;
    }
    long long unit_ms = 0;
    if (i == n && total == 0 && text.find_first_not_of("0123456789") == std::string::npos) unit_ms = 1000;  // bare: seconds
    else if (text.compare(i, 2, "ms") == 0) { unit_ms = 1; i += 2; }
    else if (i < n && text[i] == 's') { unit_ms = 1000; ++i; }
    else if (i < n && text[i] == 'm') { unit_ms = 60'000; ++i; }
    else if (i < n && text[i] == 'h') { unit_ms = 3'600'000; ++i; }
    else if (i < n && text[i] == 'd') { unit_ms = 86'400'000; ++i; }
    else return std::nullopt;
    if (number > (kMaxDurationMs - total) / unit_ms) return std::nullopt;
    total += number * unit_ms;
  }
  return total;
}

long long YamlReader::get_duration_ms(const YAML::Node& node, const std::string& what) const {
  if (node.IsScalar()) {
    if (auto ms = parse_duration_ms(node.Scalar())) return *ms;
  }
  throw invalid_at(mark(node),
                   fmt::format("{} must be a duration such as 90s, 5m, 1h30m or 250ms, found {}", what, kind_name(node)),
                   "whole numbers of d, h, m, s or ms (a bare number is seconds), at most 366d");
}

YamlType yaml_type(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return YamlType::kNull;
    case YAML::NodeType::Sequence: return YamlType::kList;
    case YAML::NodeType::Map: return YamlType::kMap;
    case YAML::NodeType::Scalar: break;
  }
  const std::string& s = node.Scalar();
  if (!is_plain(node)) return YamlType::kString;
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE") return YamlType::kBool;
  if (s == "null" || s == "~" || s == "Null" || s == "NULL") return YamlType::kNull;
  if (is_int_text(s)) return YamlType::kInt;
  if (is_float_text(s)) return YamlType::kFloat;
  return YamlType::kString;
}

const char* to_string(YamlType type) {
  switch (type) {
    case YamlType::kNull: return "null";
    case YamlType::kBool: return "bool";
    case YamlType::kInt: return "int";
    case YamlType::kFloat: return "float";
    case YamlType::kString: return "str";
    case YamlType::kList: return "list";
    case YamlType::kMap: return "mapping";
  }
  return "str";
}

nlohmann::json YamlReader::to_json(const YAML::Node& node) const {
  switch (yaml_type(node)) {
    case YamlType::kNull: return nullptr;
    case YamlType::kList: {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& item : node) arr.push_back(to_json(item));
      return arr;
    }
    case YamlType::kMap: {
      nlohmann::json obj = nlohmann::json::object();
      for (const auto& kv : node) obj[kv.first.as<std::string>()] = to_json(kv.second);
      return obj;
    }
    case YamlType::kBool: return node.Scalar()[0] == 't' || node.Scalar()[0] == 'T';
    case YamlType::kInt: return number_value(node.Scalar(), NumberKind::kInt);
    case YamlType::kFloat: return number_value(node.Scalar(), NumberKind::kFloat);
    case YamlType::kString: break;
  }
  return node.Scalar();
}

}  // namespace krdc::workflow
