#pragma once
// Typed errors. Every layer throws one of these; the CLI edge (src/cli/main.cc) catches
// them once and turns each into one clear message and its documented exit code.
#include <stdexcept>
#include <string>

namespace krdc {

// Exit codes are part of the interface (man/krdc.1, EXIT STATUS). Never renumber.
enum class ExitCode : int {
  kOk = 0,
  kStepFailed = 1,      // the workflow ran and at least one step failed
  kInvalid = 2,         // invalid workflow, app descriptor or command-line usage
  kAuth = 3,            // not logged in, session expired, or not allowed (authorisation)
  kUnreachable = 4,     // hub or cluster unreachable / protocol error talking to it
  kRunStopped = 5,      // krdc itself could not go on (e.g. the result file could not be written)
  kInterrupted = 130,   // cancelled by SIGINT/SIGTERM
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message, std::string hint = {})
      : std::runtime_error(message), code_(code), hint_(std::move(hint)) {}
  ExitCode code() const { return code_; }
  // A short "what to do" line printed after the message; may be empty.
  const std::string& hint() const { return hint_; }

 private:
  ExitCode code_;
  std::string hint_;
};

// Bad input: workflow, descriptor, params, command line. Carries the position when known.
class InvalidInput : public Error {
 public:
  explicit InvalidInput(const std::string& message, std::string hint = {})
      : Error(ExitCode::kInvalid, message, std::move(hint)) {}
};

// Identity problems: login required, token rejected, right missing.
class AuthError : public Error {
 public:
  explicit AuthError(const std::string& message, std::string hint = {})
      : Error(ExitCode::kAuth, message, std::move(hint)) {}
};

// Network / server problems after retries were exhausted.
class UnreachableError : public Error {
 public:
  explicit UnreachableError(const std::string& message, std::string hint = {})
      : Error(ExitCode::kUnreachable, message, std::move(hint)) {}
};

// krdc itself could not go on with a run (its result file cannot be written): the steps were
// stopped and cleaned up; not a step's failure.
class RunStopped : public Error {
 public:
  explicit RunStopped(const std::string& message, std::string hint = {})
      : Error(ExitCode::kRunStopped, message, std::move(hint)) {}
};

// Cancelled by SIGINT/SIGTERM (util/interrupts.h) while waiting on the network, a credential
// plugin or a child process: exit 130, like a run that was cancelled.
class Interrupted : public Error {
 public:
  explicit Interrupted(const std::string& message, std::string hint = {})
      : Error(ExitCode::kInterrupted, message, std::move(hint)) {}
};

}  // namespace krdc
