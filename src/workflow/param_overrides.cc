#include "krdc/workflow/param_overrides.h"

#include <fmt/format.h>

#include "krdc/workflow/scalar_text.h"
#include "krdc/workflow/yaml_guard.h"

namespace krdc::workflow {

namespace {

std::string shown(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// What a value of `declared` type looks like, and a sample of one.
std::pair<std::string, std::string> expected(YamlType declared) {
  switch (declared) {
    case YamlType::kBool: return {"true or false", "true"};
    case YamlType::kInt: return {"a whole number", "2024"};
    case YamlType::kFloat: return {"a number", "0.25"};
    case YamlType::kList: return {"a list in brackets", "[2021, 2022]"};
    case YamlType::kMap: return {"a mapping in braces", "{a: 1}"};
    default: return {"a value", "text"};
  }
}

std::string declared_hint(const DeclaredTypes& declared) {
  std::string list;
  for (const auto& [name, type] : declared) list += (list.empty() ? "" : ", ") + name;
  return list.empty() ? "declare it under spec.params" : "declared params: " + list;
}

}  // namespace

std::optional<std::string> check_declared_type(YamlType declared, const nlohmann::json& value) {
  bool ok = false;
  switch (declared) {
    case YamlType::kNull: ok = !value.is_null(); break;
    case YamlType::kString: ok = value.is_string() || value.is_number(); break;  // numbers: their text as written
    case YamlType::kInt:
      ok = value.is_number_integer() || (value.is_string() && is_int_text(value.get_ref<const std::string&>()));
      break;
    case YamlType::kFloat:
      ok = value.is_number() || (value.is_string() && is_float_text(value.get_ref<const std::string&>()));
      break;
    case YamlType::kBool: ok = value.is_boolean(); break;
    case YamlType::kList: ok = value.is_array(); break;
    case YamlType::kMap: ok = value.is_object(); break;
  }
  if (ok) return std::nullopt;
  if (value.is_null()) return std::string("has no value");
  return fmt::format("expects {} (the type of its default), got {}", to_string(declared), shown(value));
}

void require_declared(const std::string& source, const std::string& key, const DeclaredTypes& declared) {
  if (declared.count(key)) return;
  throw InvalidInput(fmt::format("{} {}: the workflow declares no param \"{}\"", source, key, key),
                     declared_hint(declared));
}

nlohmann::json param_from_text(const std::string& key, const std::string& text, const DeclaredTypes& declared) {
  if (invalid_utf8_at(key)) throw InvalidInput("-p: a param name is not valid UTF-8", "give it in UTF-8");
  require_declared("-p", key, declared);
  // Values from the command line reach argv, logs and the result file, which must stay valid JSON.
  if (auto bad = invalid_utf8_at(text)) {
    throw InvalidInput(fmt::format("-p {}: the value is not valid UTF-8 (byte {} of it)", key, *bad + 1),
                       "give the value in UTF-8");
  }
  const YamlType type = declared.at(key);
  if (type == YamlType::kString) return text;  // verbatim: no quoting needed for a string
  const auto [what, sample] = expected(type);
  const std::string hint = fmt::format("give {}, e.g. -p '{}={}'", what, key, sample);
  const YamlReader reader("-p " + key);
  nlohmann::json value;
  try {
    value = reader.to_json(reader.parse_text(text));
  } catch (const InvalidInput& e) {
    throw InvalidInput(fmt::format("-p {}: \"{}\" is not a YAML value ({})", key, text, e.what()), hint);
  }
  if (auto err = check_declared_type(type, value)) throw InvalidInput(fmt::format("-p {}: {}", key, *err), hint);
  return value;
}

nlohmann::json read_params_file(const std::string& path, const DeclaredTypes& declared) {
  const YamlReader reader(path);
  const YAML::Node root = reader.parse_file();
  nlohmann::json out = nlohmann::json::object();
  if (root.IsNull()) return out;  // an empty file sets nothing
  reader.require_map(root, "a params file");
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    if (!declared.count(key)) {
      throw invalid_at(reader.mark(kv.first), fmt::format("params file: the workflow declares no param \"{}\"", key),
                       declared_hint(declared));
    }
    nlohmann::json value = reader.to_json(kv.second);
    if (auto err = check_declared_type(declared.at(key), value)) {
      const auto [what, sample] = expected(declared.at(key));
      throw invalid_at(reader.mark(kv.second), fmt::format("param \"{}\": {}", key, *err),
                       fmt::format("give {}, e.g. {}: {}", what, key, sample));
    }
    out[key] = std::move(value);
  }
  return out;
}

}  // namespace krdc::workflow
