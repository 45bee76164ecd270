#pragma once
// load_workflow: file → checked Workflow. Parsing (shapes, unknown fields, types) and the
// semantic checks (names, needs, cycles, references, params against the app) all happen
// here, so `krdc validate` and `krdc run` reject exactly the same inputs before anything runs.
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "krdc/workflow/inline_inspect.h"
#include "krdc/workflow/workflow.h"

namespace krdc::workflow {

// Workflow params from outside the file, typed by each param's default (param_overrides.h).
// Applied in this order, so the later wins: values, params_file, params.
struct LoadOptions {
  // `-p key=text` from the command line; each key must be declared in spec.params.
  std::map<std::string, std::string> params;
  // Asking inline Python apps' argparse for their interface (off unless the caller turns it on).
  InlineInspection inspect;
  // --params-file: a YAML mapping of param → value.
  std::string params_file;
  // Already typed values, e.g. the params a run recorded in its header (`krdc attach`).
  nlohmann::json values = nlohmann::json::object();
};

Workflow load_workflow(const std::string& path, const LoadOptions& options);
// With default options. An overload rather than `= {}`: a default-argument temporary holding
// std::function members trips GCC 12's -Wmaybe-uninitialized where it is inlined (-Werror).
Workflow load_workflow(const std::string& path);

// Same, from text already in memory (tests, stdin); `file` is used for messages and paths.
Workflow load_workflow_text(const std::string& text, const std::string& file, const LoadOptions& options);
Workflow load_workflow_text(const std::string& text, const std::string& file);

}  // namespace krdc::workflow
