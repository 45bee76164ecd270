#include "krdc/workflow/yaml_writer.h"

namespace krdc::workflow {

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
    case nlohmann::json::value_t::string:
      out << v.get<std::string>();
      break;
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
