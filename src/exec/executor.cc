#include "krdc/exec/executor.h"

#include <fmt/format.h>

namespace krdc::exec {

const char* to_string(StepStatus status) {
  switch (status) {
    case StepStatus::kSucceeded: return "succeeded";
    case StepStatus::kFailed: return "failed";
    case StepStatus::kTimedOut: return "timed_out";
    case StepStatus::kCancelled: return "cancelled";
    case StepStatus::kLost: return "lost";
    case StepStatus::kDetached: return "detached";
  }
  return "failed";
}

ErrorKind error_kind(const Error& error) {
  switch (error.code()) {
    case ExitCode::kUnreachable: return ErrorKind::kUnreachable;
    case ExitCode::kAuth: return ErrorKind::kAuth;
    default: return ErrorKind::kNone;
  }
}

ExitCode exit_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUnreachable: return ExitCode::kUnreachable;
    case ErrorKind::kAuth: return ExitCode::kAuth;
    case ErrorKind::kNone: break;
  }
  return ExitCode::kStepFailed;
}

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUnreachable: return "unreachable";
    case ErrorKind::kAuth: return "refused";
    case ErrorKind::kNone: break;
  }
  return "";
}

ErrorKind error_kind_named(std::string_view name) {
  for (ErrorKind kind : {ErrorKind::kUnreachable, ErrorKind::kAuth}) {
    if (name == to_string(kind)) return kind;
  }
  return ErrorKind::kNone;
}

std::optional<StepResult> missing_image(const workflow::Step& step) {
  if (!step.app.image.empty()) return std::nullopt;
  StepResult result;
  result.reason = fmt::format("app \"{}\" has no image: a step on a cluster runs the app's image", step.app.name);
  return result;
}

}  // namespace krdc::exec
