#pragma once
// Semantic checks on a parsed workflow (called by the loader): unique names, known needs,
// no cycles (the cycle is named), ${{ }} references only to upstream steps and declared
// params, params accepted by the app with the right types, required params present.
#include "krdc/workflow/workflow.h"

namespace krdc::workflow {

void validate_workflow(const Workflow& wf);

}  // namespace krdc::workflow
