#pragma once
// Reads app descriptors (krdc-app.yaml) and inline app definitions in a workflow.
#include <yaml-cpp/yaml.h>

#include <string>

#include "krdc/workflow/app.h"
#include "krdc/workflow/yaml_reader.h"

namespace krdc::workflow {

inline constexpr const char* kAppDescriptorName = "krdc-app.yaml";

// `path` is a directory holding krdc-app.yaml, or the descriptor file itself.
// `referenced_at` is where the workflow named it, for "does not exist" errors.
App load_app_descriptor(const std::string& path, const SourceMark& referenced_at);
// Same, naming what uses it (`step "fetch"`) in every error, also those inside the descriptor.
App load_app_descriptor(const std::string& path, const SourceMark& referenced_at, const std::string& used_by);

// The body shared by descriptor files (under `spec:`) and inline apps:
// image, command, params (list), outputs (list); `dir` only for inline apps.
App parse_app_spec(const YamlReader& reader, const YAML::Node& spec, const std::string& what,
                   const std::string& base_dir, bool inline_app);

}  // namespace krdc::workflow
