#include "krdc/workflow/yaml_writer.h"

#include <cstdlib>

namespace krdc::workflow {

namespace {
bool looks_typed(const std::string& s) {
  if (s.empty()) return true;
  static const char* kWords[] = {"true", "false", "True", "False", "TRUE", "FALSE", "yes", "no", "Yes", "No",
                                 "YES", "NO", "on", "off", "On", "Off", "ON", "OFF", "null", "Null", "NULL", "~",
                                 "y", "n", "Y", "N"};
  for (const char* w : kWords) {
    if (s == w) return true;
  }
  char* end = nullptr;
  std::strtod(s.c_str(), &end);  // numbers in any form YAML 1.1/1.2 readers accept
  return end != s.c_str() && *end == '\0';
}
}  // namespace

void emit_json(YAML::Emitter& out, const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::object:
      out << YAML::BeginMap;
      for (auto it = v.begin(); it != v.end(); ++it) {
        out << YAML::Key << it.key() << YAML::Value;
        emit_json(out, it.value());
      }
      out << YAML::EndMap;
      break;
    case nlohmann::json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& item : v) emit_json(out, item);
      out << YAML::EndSeq;
      break;
    case nlohmann::json::value_t::string: {
      // A string that a YAML reader would take for a number, bool or null ("1", "true",
      // "~", "") must be quoted, or `kubectl apply` reads a label value "1" as an integer.
      const auto& text = v.get_ref<const std::string&>();
      if (looks_typed(text)) out << YAML::DoubleQuoted;
      out << text;
      break;
    }
    case nlohmann::json::value_t::boolean:
      out << v.get<bool>();
      break;
    case nlohmann::json::value_t::number_integer:
      out << v.get<long long>();
      break;
    case nlohmann::json::value_t::number_unsigned:
      out << v.get<unsigned long long>();
      break;
    case nlohmann::json::value_t::number_float:
      out << v.get<double>();
      break;
    default:
      out << YAML::Null;
  }
}

std::string json_to_yaml(const nlohmann::json& value) {
  YAML::Emitter out;
  emit_json(out, value);
  return std::string(out.c_str()) + "\n";
}

}  // namespace krdc::workflow
