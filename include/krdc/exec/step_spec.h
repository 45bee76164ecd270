#pragma once
// A step attempt as a self-contained value that another process can run: what `krdc proxy`
// reads (docs/architecture.md, "Remote steps"). It carries what the Job needs — image, command,
// argv, env, resources, timeout, names for labels — and nothing that only means something on
// the driver's machine (log paths, app directories) and never a credential.
#include <nlohmann/json.hpp>

#include "krdc/exec/executor.h"

namespace krdc::exec {

inline constexpr const char* kStepSpecVersion = "krdc.dev/step-spec/v1";

// The request as JSON (kStepSpecVersion). Deadlines become the step's timeout in ms.
nlohmann::json step_spec(const StepRequest& request);

// The request a spec describes. Throws InvalidInput naming the field that is missing or of the
// wrong type. The deadline is counted from now; log_file/step_dir are left for the caller.
StepRequest parse_step_spec(const nlohmann::json& spec);

}  // namespace krdc::exec
