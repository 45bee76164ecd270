#pragma once
// The embedded default: a step with no cluster runs as a host process in its app directory.
// argv = app.command + rendered params (never a shell); stdout+stderr go straight to the
// attempt's log file; the app writes its outputs as one JSON object to $KRDC_OUTPUTS. The app
// dies with krdc (parent-death signal); on resume, what it left is swept, never adopted.
#include <mutex>
#include <set>

#include "krdc/exec/executor.h"

namespace krdc::exec {

class ProcessExecutor : public Executor {
 public:
  // `follow` (--follow): the app's output also goes to the observer (on_log) as it is written.
  explicit ProcessExecutor(bool follow = false) : follow_(follow) {}
  std::string name() const override { return "process"; }
  StepResult run(const StepRequest& request, StepObserver& observer, const CancelToken& cancel) override;
  std::vector<std::string> emergency_stop() override;
  nlohmann::json describe(const StepRequest& request) const override;

 private:
  StepResult adopt(const StepRequest& request);

  bool follow_;
  std::mutex mu_;
  std::set<int> live_groups_;  // process groups of running steps (for emergency_stop)
};

}  // namespace krdc::exec
