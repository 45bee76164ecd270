#pragma once
// Which names krdc accepts where a name becomes something else: a file name, a Kubernetes label,
// an argv flag, an environment variable (docs/architecture.md, "Input limits").
#include <string>

namespace krdc::workflow {

// 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit: a valid
// Kubernetes label value and a file name that stays in its directory ("../x" never is one).
// Workflow names (metadata.name) become the default result file name and the krdc/workflow label.
bool is_label_like(const std::string& name);
inline constexpr const char* kLabelLikeHint =
    "use 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";

// Param and output names: a letter or '_', then letters, digits, '_' or '-' (at most 64). They
// become --NAME flags and ${{ params.NAME }} / ${{ steps.S.outputs.NAME }} references.
bool is_param_name(const std::string& name);
inline constexpr const char* kParamNameHint =
    "use a letter or '_', then letters, digits, '_' or '-' (at most 64 characters)";

// Environment variable names: a letter or '_', then letters, digits or '_' (POSIX portable).
bool is_env_name(const std::string& name);

}  // namespace krdc::workflow
