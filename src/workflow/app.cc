#include "krdc/workflow/app.h"

namespace krdc::workflow {

const char* to_string(ParamType type) {
  switch (type) {
    case ParamType::kString: return "str";
    case ParamType::kInt: return "int";
    case ParamType::kFloat: return "float";
    case ParamType::kBool: return "bool";
    case ParamType::kPath: return "path";
  }
  return "str";
}

std::optional<ParamType> param_type_from_string(const std::string& text) {
  if (text == "str" || text == "string") return ParamType::kString;
  if (text == "int" || text == "integer") return ParamType::kInt;
  if (text == "float" || text == "number") return ParamType::kFloat;
  if (text == "bool" || text == "boolean") return ParamType::kBool;
  if (text == "path") return ParamType::kPath;
  return std::nullopt;
}

const ParamSpec* App::find_param(const std::string& param_name) const {
  for (const auto& p : params) {
    if (p.name == param_name) return &p;
  }
  return nullptr;
}

bool App::declares_output(const std::string& output_name) const {
  for (const auto& o : outputs) {
    if (o.name == output_name) return true;
  }
  return false;
}

}  // namespace krdc::workflow
