#pragma once
// Params → argparse argv. Checking and rendering live together because they must agree:
// whatever check_param accepts, render_args turns into argv that argparse parses back to
// the same value. Never through a shell: the result is an argv array.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "krdc/workflow/app.h"

namespace krdc::workflow {

// Why `value` is not acceptable for `spec` (already substituted, no ${{ }} left), or nullopt.
// Strings that parse as the declared type are accepted (values from -p and step outputs
// arrive as strings).
std::optional<std::string> check_param(const ParamSpec& spec, const nlohmann::json& value);

// Which required params are missing from `params` (no value and no default).
std::vector<std::string> missing_required(const App& app, const nlohmann::json& params);

// The arguments after the app's command, e.g. {"--resolution=0.25", "--verbose", "in.nc"}.
// For apps without a declared interface every key renders as --key=value (sorted by key).
// Throws InvalidInput if a value cannot be rendered safely.
std::vector<std::string> render_args(const App& app, const nlohmann::json& params);

}  // namespace krdc::workflow
