#pragma once
// The DAG of steps and its scheduling state (ninja's Plan, for workflow steps): which steps
// are ready, which wait, and which can no longer run because something upstream failed.
// Pure bookkeeping, no I/O, so the scheduling rules are unit-testable on their own.
#include <cstddef>
#include <string>
#include <vector>

#include "krdc/workflow/workflow.h"

namespace krdc::plan {

enum class StepState { kWaiting, kReady, kRunning, kSucceeded, kFailed, kSkipped };

const char* to_string(StepState state);

class Plan {
 public:
  explicit Plan(const workflow::Workflow& wf);

  size_t size() const { return states_.size(); }
  StepState state(size_t step) const { return states_[step]; }
  const std::vector<size_t>& needs(size_t step) const { return needs_[step]; }
  const std::vector<size_t>& dependents(size_t step) const { return dependents_[step]; }

  // Steps ready to start, in workflow order (stable, so runs are reproducible).
  std::vector<size_t> take_ready();
  // Record an outcome. A failure marks every transitive dependent kSkipped and returns them.
  std::vector<size_t> finish(size_t step, bool succeeded);
  // A step whose `when` condition is false (docs/architecture.md, "Scatter, gather and
  // conditions"): it is kSkipped, and so is every dependent that does not opt in with
  // `onSkipped: run` (transitively); those that opt in count the need as met. Returns the
  // dependents skipped, in order.
  std::vector<size_t> skip(size_t step);
  // Stop scheduling anything new (fail-fast or cancel): every waiting/ready step is skipped.
  std::vector<size_t> skip_remaining();

  bool done() const { return unfinished_ == 0; }
  size_t count(StepState state) const;

 private:
  void mark_ready_if_possible(size_t step);
  void need_met(size_t step);

  std::vector<char> runs_if_upstream_skipped_;
  std::vector<StepState> states_;
  std::vector<std::vector<size_t>> needs_;
  std::vector<std::vector<size_t>> dependents_;
  std::vector<size_t> pending_needs_;  // unfinished needs per step
  std::vector<size_t> ready_;
  size_t unfinished_ = 0;
};

}  // namespace krdc::plan
