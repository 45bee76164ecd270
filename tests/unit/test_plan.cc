// DAG scheduling rules, without running anything.
#include <doctest/doctest.h>

#include "krdc/plan/plan.h"
#include "krdc/workflow/loader.h"

using krdc::plan::Plan;
using krdc::plan::StepState;

namespace {
krdc::workflow::Workflow diamond() {
  return krdc::workflow::load_workflow_text(
      "apiVersion: krdc/v1\nkind: Workflow\nspec:\n  steps:\n"
      "    - {name: a, app: {command: [x]}}\n"
      "    - {name: b, needs: [a], app: {command: [x]}}\n"
      "    - {name: c, needs: [a], app: {command: [x]}}\n"
      "    - {name: d, needs: [b, c], app: {command: [x]}}\n"
      "    - {name: e, app: {command: [x]}}\n",
      "wf.yaml");
}
}  // namespace

TEST_CASE("roots are ready first, in workflow order; dependents follow when all needs succeed") {
  const auto wf = diamond();
  Plan p(wf);
  CHECK(p.take_ready() == std::vector<size_t>{0, 4});
  CHECK(p.take_ready().empty());
  p.finish(0, true);
  CHECK(p.take_ready() == std::vector<size_t>{1, 2});  // b and c can run in parallel
  p.finish(1, true);
  CHECK(p.take_ready().empty());  // d still waits for c
  p.finish(2, true);
  CHECK(p.take_ready() == std::vector<size_t>{3});
  p.finish(3, true);
  CHECK_FALSE(p.done());
  p.finish(4, true);
  CHECK(p.done());
}

TEST_CASE("a failure skips every transitive dependent but not independent branches") {
  const auto wf = diamond();
  Plan p(wf);
  p.take_ready();
  const auto skipped = p.finish(0, false);
  CHECK(skipped == std::vector<size_t>{1, 2, 3});
  CHECK(p.state(4) == StepState::kRunning);
  CHECK_FALSE(p.done());
  p.finish(4, true);
  CHECK(p.done());
  CHECK(p.count(StepState::kSkipped) == 3);
}

TEST_CASE("skip_remaining stops scheduling (fail-fast, cancel)") {
  const auto wf = diamond();
  Plan p(wf);
  p.take_ready();
  CHECK(p.skip_remaining() == std::vector<size_t>{1, 2, 3});
  p.finish(0, true);
  CHECK(p.take_ready().empty());
  p.finish(4, true);
  CHECK(p.done());
}
