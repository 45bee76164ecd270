#include "krdc/workflow/workflow.h"

namespace krdc::workflow {

int Workflow::step_index(const std::string& step_name) const {
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].name == step_name) return static_cast<int>(i);
  }
  return -1;
}

const Step* Workflow::find_step(const std::string& step_name) const {
  const int i = step_index(step_name);
  return i < 0 ? nullptr : &steps[static_cast<size_t>(i)];
}

}  // namespace krdc::workflow
