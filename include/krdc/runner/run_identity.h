#pragma once
// Names that identify a run and a step's inputs in the result file: the run id, and the digest
// --resume and attach compare to decide whether a step already ran with these inputs
// (docs/architecture.md, "Reattach").
#include <string>
#include <vector>

#include "krdc/workflow/workflow.h"

namespace krdc::runner {

// A new run id: UTC time plus randomness, e.g. 20261125-073105-5f3a9c. Sorts by time.
std::string new_run_id();

// A step's identity for --resume: digest of what it would run (app, argv, env, cluster) and,
// for a step run from the app's directory (no cluster), of the app's content: its descriptor
// and the files its command names there (`python3 main.py` → main.py). A cluster step's image
// reference stands for its content.
std::string inputs_digest(const workflow::Step& step, const std::vector<std::string>& args);

}  // namespace krdc::runner
