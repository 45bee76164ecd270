#include "krdc/exec/executor.h"

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

}  // namespace krdc::exec
