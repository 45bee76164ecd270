#include "krdc/plan/plan.h"

#include <algorithm>
#include <unordered_map>

namespace krdc::plan {

const char* to_string(StepState state) {
  switch (state) {
    case StepState::kWaiting: return "waiting";
    case StepState::kReady: return "ready";
    case StepState::kRunning: return "running";
    case StepState::kSucceeded: return "succeeded";
    case StepState::kFailed: return "failed";
    case StepState::kSkipped: return "skipped";
  }
  return "unknown";
}

Plan::Plan(const workflow::Workflow& wf)
    : states_(wf.steps.size(), StepState::kWaiting),
      needs_(wf.steps.size()),
      dependents_(wf.steps.size()),
      pending_needs_(wf.steps.size(), 0),
      unfinished_(wf.steps.size()) {
  for (const auto& step : wf.steps) runs_if_upstream_skipped_.push_back(step.run_if_upstream_skipped ? 1 : 0);
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < wf.steps.size(); ++i) index[wf.steps[i].name] = i;
  for (size_t i = 0; i < wf.steps.size(); ++i) {
    for (const auto& need : wf.steps[i].needs) {
      const size_t n = index.at(need);  // the validator guarantees it exists
      needs_[i].push_back(n);
      dependents_[n].push_back(i);
    }
    pending_needs_[i] = needs_[i].size();
  }
  for (size_t i = 0; i < states_.size(); ++i) mark_ready_if_possible(i);
}

void Plan::mark_ready_if_possible(size_t step) {
  if (states_[step] == StepState::kWaiting && pending_needs_[step] == 0) {
    states_[step] = StepState::kReady;
    ready_.push_back(step);
  }
}

void Plan::need_met(size_t step) {
  --pending_needs_[step];
  mark_ready_if_possible(step);
}

std::vector<size_t> Plan::take_ready() {
  std::vector<size_t> out;
  out.swap(ready_);
  std::sort(out.begin(), out.end());
  for (size_t s : out) states_[s] = StepState::kRunning;
  return out;
}

std::vector<size_t> Plan::finish(size_t step, bool succeeded) {
  std::vector<size_t> skipped;
  states_[step] = succeeded ? StepState::kSucceeded : StepState::kFailed;
  --unfinished_;
  if (succeeded) {
    for (size_t d : dependents_[step]) need_met(d);
    return skipped;
  }
  std::vector<size_t> todo(dependents_[step].begin(), dependents_[step].end());
  while (!todo.empty()) {
    const size_t d = todo.back();
    todo.pop_back();
    if (states_[d] != StepState::kWaiting && states_[d] != StepState::kReady) continue;
    states_[d] = StepState::kSkipped;
    --unfinished_;
    skipped.push_back(d);
    todo.insert(todo.end(), dependents_[d].begin(), dependents_[d].end());
  }
  ready_.erase(std::remove_if(ready_.begin(), ready_.end(),
                              [&](size_t s) { return states_[s] != StepState::kReady; }),
               ready_.end());
  std::sort(skipped.begin(), skipped.end());
  return skipped;
}

std::vector<size_t> Plan::skip(size_t step) {
  std::vector<size_t> skipped;
  states_[step] = StepState::kSkipped;
  --unfinished_;
  std::vector<size_t> todo{step};
  while (!todo.empty()) {
    const size_t s = todo.back();
    todo.pop_back();
    for (size_t d : dependents_[s]) {
      if (states_[d] != StepState::kWaiting) continue;  // already skipped through another need
      if (runs_if_upstream_skipped_[d]) {
        need_met(d);
        continue;
      }
      states_[d] = StepState::kSkipped;
      --unfinished_;
      skipped.push_back(d);
      todo.push_back(d);
    }
  }
  std::sort(skipped.begin(), skipped.end());
  return skipped;
}

std::vector<size_t> Plan::skip_remaining() {
  std::vector<size_t> skipped;
  for (size_t i = 0; i < states_.size(); ++i) {
    if (states_[i] == StepState::kWaiting || states_[i] == StepState::kReady) {
      states_[i] = StepState::kSkipped;
      --unfinished_;
      skipped.push_back(i);
    }
  }
  ready_.clear();
  return skipped;
}

size_t Plan::count(StepState state) const {
  return static_cast<size_t>(std::count(states_.begin(), states_.end(), state));
}

}  // namespace krdc::plan
