#include "krdc/exec/executor.h"

#include <fmt/format.h>

namespace krdc::exec {

const char* to_string(StepStatus status) {
  switch (status) {
    case StepStatus::kSucceeded: return "succeeded";
    case StepStatus::kFailed: return "failed";
    case StepStatus::kTimedOut: return "timed_out";
    case StepStatus::kCancelled: return "cancelled";
  }
  return "failed";
}

std::optional<StepResult> missing_image(const workflow::Step& step) {
  if (!step.app.image.empty()) return std::nullopt;
  StepResult result;
  result.reason = fmt::format("app \"{}\" has no image: a step on a cluster runs the app's image", step.app.name);
  return result;
}

}  // namespace krdc::exec
