#pragma once
// JSON values as YAML text (dry-run manifests, `-o yaml`, generated descriptors).
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <string>

namespace krdc::workflow {

void emit_json(YAML::Emitter& out, const nlohmann::json& value);
std::string json_to_yaml(const nlohmann::json& value);

}  // namespace krdc::workflow
