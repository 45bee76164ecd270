#pragma once
// Scatter: a step with `forEach` or `matrix` becomes one instance per item
// (docs/architecture.md, "Scatter, gather and conditions"). Pure: the runner resolves the item
// lists (a workflow param now, an upstream output once that step is done) and calls expand();
// validation and --dry-run call it too when the lists are already known. It lives with the
// workflow model, not the plan, because the validator checks known instances before any plan.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "krdc/workflow/template.h"
#include "krdc/workflow/workflow.h"

namespace krdc::workflow {

// More instances than this is a mistake (a list output of the wrong step), not a workflow.
inline constexpr size_t kMaxInstances = 10000;

struct Instance {
  std::string name;     // "NAME[k]"
  nlohmann::json item;  // the forEach item, or {axis: value} for a matrix
};

std::string instance_name(const std::string& step, size_t index);

// The step's item lists with their references substituted: a list (forEach) or an object of
// lists (matrix, axes in written order as [[axis, list], …]). Throws InvalidInput naming the
// step when a reference has no value or a value is not a list.
nlohmann::json resolve_items(const Step& step, const Resolver& resolve);

// One instance per item; a matrix is the cross product, the last axis varying fastest.
// Throws InvalidInput naming the step past kMaxInstances.
std::vector<Instance> expand(const Step& step, const nlohmann::json& resolved_items);

// True when every list the step scatters over is written out or a workflow param, so the
// instances are known before anything runs (validation, --dry-run).
bool items_known_before_run(const Step& step);

// The lists a step scatters over, as written, for people: "forEach ${{ steps.a.outputs.f }}".
std::string scatter_sources(const Step& step);

}  // namespace krdc::workflow
