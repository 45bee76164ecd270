#include "krdc/workflow/validator.h"

#include <fmt/format.h>

#include <set>
#include <stdexcept>
#include <unordered_map>

#include "krdc/util/errors.h"
#include "krdc/workflow/condition.h"
#include "krdc/workflow/params.h"
#include "krdc/workflow/scatter.h"
#include "krdc/workflow/template.h"

namespace krdc::workflow {

namespace {

using Index = std::unordered_map<std::string, size_t>;

void check_names_and_needs(const Workflow& wf, Index& index) {
  for (size_t i = 0; i < wf.steps.size(); ++i) {
    const auto& s = wf.steps[i];
    auto [it, inserted] = index.emplace(s.name, i);
    if (!inserted) {
      throw invalid_at(s.mark, fmt::format("step \"{}\" is defined twice (first at {})", s.name,
                                           wf.steps[it->second].mark.str()),
                       "step names must be unique");
    }
  }
  for (const auto& s : wf.steps) {
    std::set<std::string> seen;
    for (size_t k = 0; k < s.needs.size(); ++k) {
      const auto& need = s.needs[k];
      const SourceMark& m = k < s.needs_marks.size() ? s.needs_marks[k] : s.mark;
      if (!index.count(need)) {
        throw invalid_at(m, fmt::format("step \"{}\" needs \"{}\", which is not a step of this workflow", s.name, need));
      }
      if (need == s.name) throw invalid_at(m, fmt::format("step \"{}\" needs itself", s.name));
      if (!seen.insert(need).second) throw invalid_at(m, fmt::format("step \"{}\" lists \"{}\" twice in needs", s.name, need));
    }
  }
}

// Iterative DFS (deep chains of 1000s of steps must not blow the stack). On a back edge the
// path on the stack from the target to here is the cycle, reported as a -> b -> a.
void check_acyclic(const Workflow& wf, const Index& index) {
  enum Color : char { kWhite, kGrey, kBlack };
  std::vector<Color> color(wf.steps.size(), kWhite);
  std::vector<std::pair<size_t, size_t>> stack;  // (step, next need to visit)
  for (size_t root = 0; root < wf.steps.size(); ++root) {
    if (color[root] != kWhite) continue;
    stack.push_back({root, 0});
    color[root] = kGrey;
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      const auto& needs = wf.steps[node].needs;
      if (next == needs.size()) {
        color[node] = kBlack;
        stack.pop_back();
        continue;
      }
      const size_t dep = index.at(needs[next++]);
      if (color[dep] == kGrey) {
        std::string cycle;
        size_t start = 0;
        while (stack[start].first != dep) ++start;
        for (size_t k = start; k < stack.size(); ++k) cycle += wf.steps[stack[k].first].name + " -> ";
        cycle += wf.steps[dep].name;
        throw invalid_at(wf.steps[dep].mark, fmt::format("dependency cycle: {}", cycle),
                         "remove one of these needs so the steps can run in order");
      }
      if (color[dep] == kWhite) {
        color[dep] = kGrey;
        stack.push_back({dep, 0});
      }
    }
  }
}

bool is_upstream(const Workflow& wf, const Index& index, size_t step, size_t candidate) {
  std::vector<char> seen(wf.steps.size(), 0);
  std::vector<size_t> todo{step};
  while (!todo.empty()) {
    const size_t cur = todo.back();
    todo.pop_back();
    for (const auto& need : wf.steps[cur].needs) {
      const size_t n = index.at(need);
      if (n == candidate) return true;
      if (!seen[n]) {
        seen[n] = 1;
        todo.push_back(n);
      }
    }
  }
  return false;
}

// `${{ item }}` needs a scattered step; `${{ item.F }}` of a matrix needs an axis F (a forEach
// item's fields are checked per item when the list is known: check_instances).
void check_item_reference(const Step& s, const Reference& ref, const SourceMark& m, const std::string& where) {
  if (!s.scatter.active()) {
    throw invalid_at(m, fmt::format("step \"{}\" {}: {} has no value: the step has no forEach or matrix", s.name,
                                    where, ref.text),
                     "add forEach: [ ... ] to run the step once per item");
  }
  if (s.scatter.kind != Scatter::Kind::kMatrix || ref.key.empty()) return;
  std::string axes;
  for (const auto& [axis, list] : s.scatter.matrix) {
    if (axis == ref.key) return;
    axes += (axes.empty() ? "" : ", ") + axis;
  }
  throw invalid_at(m, fmt::format("step \"{}\" {}: {} names no matrix axis", s.name, where, ref.text),
                   "the axes are: " + axes);
}

// One ${{ }} reference of step `i`, written at `m` in `where` (e.g. `param "x"`, `forEach`).
void check_reference(const Workflow& wf, const Index& index, size_t i, const Reference& ref, const SourceMark& m,
                     const std::string& where) {
  const auto& s = wf.steps[i];
  if (ref.kind == Reference::Kind::kParam) {
    if (!wf.params.contains(ref.key)) {
      throw invalid_at(m, fmt::format("step \"{}\" {}: {} is not a workflow param", s.name, where, ref.text),
                       "declare it under spec.params");
    }
    return;
  }
  if (ref.kind == Reference::Kind::kItem) {
    check_item_reference(s, ref, m, where);
    return;
  }
  auto dep = index.find(ref.step);
  if (dep == index.end()) {
    throw invalid_at(m, fmt::format("step \"{}\" {}: {} names no step of this workflow", s.name, where, ref.text));
  }
  if (!is_upstream(wf, index, i, dep->second)) {
    throw invalid_at(m, fmt::format("step \"{}\" {}: {} refers to step \"{}\", which is not upstream", s.name, where,
                                    ref.text, ref.step),
                     fmt::format("add \"{}\" to the needs of \"{}\"", ref.step, s.name));
  }
  const App& producer = wf.steps[dep->second].app;
  if (!producer.outputs.empty() && !producer.declares_output(ref.key)) {
    std::string declared;
    for (const auto& o : producer.outputs) declared += (declared.empty() ? "" : ", ") + o.name;
    throw invalid_at(m, fmt::format("step \"{}\" {}: step \"{}\" has no output \"{}\"", s.name, where, ref.step,
                                    ref.key),
                     "its app declares: " + declared);
  }
}

std::vector<Reference> references_at(const Step& s, const nlohmann::json& value, const SourceMark& m,
                                      const std::string& where) {
  try {
    return find_references(value);
  } catch (const std::invalid_argument& e) {
    throw invalid_at(m, fmt::format("step \"{}\" {}: {}", s.name, where, e.what()));
  }
}

void check_references(const Workflow& wf, const Index& index, size_t i) {
  const auto& s = wf.steps[i];
  for (auto it = s.params.begin(); it != s.params.end(); ++it) {
    const SourceMark& m = s.param_marks.count(it.key()) ? s.param_marks.at(it.key()) : s.mark;
    const std::string where = fmt::format("param \"{}\"", it.key());
    for (const auto& ref : references_at(s, it.value(), m, where)) check_reference(wf, index, i, ref, m, where);
  }
}

// The lists a step scatters over: references to params or upstream outputs, never to items.
void check_scatter_sources(const Workflow& wf, const Index& index, size_t i) {
  const auto& s = wf.steps[i];
  auto check = [&](const nlohmann::json& source, const SourceMark& m, const std::string& where) {
    for (const auto& ref : references_at(s, source, m, where)) {
      if (ref.kind == Reference::Kind::kItem) {
        throw invalid_at(m, fmt::format("step \"{}\" {}: {} has no value here: items come from this list", s.name,
                                        where, ref.text));
      }
      check_reference(wf, index, i, ref, m, where);
    }
  };
  if (s.scatter.kind == Scatter::Kind::kForEach) check(s.scatter.for_each, s.scatter.mark, "forEach");
  for (size_t a = 0; a < s.scatter.matrix.size(); ++a) {
    check(s.scatter.matrix[a].second, s.scatter.axis_marks[a], "matrix." + s.scatter.matrix[a].first);
  }
}

void check_condition(const Workflow& wf, const Index& index, size_t i) {
  const auto& s = wf.steps[i];
  if (s.when.empty()) return;
  Condition condition;
  try {
    condition = Condition::parse(s.when);
  } catch (const std::invalid_argument& e) {
    throw invalid_at(s.when_mark, fmt::format("step \"{}\" when: {}", s.name, e.what()),
                     "e.g. when: ${{ steps.check.outputs.ok && params.region != 'eu' }}");
  }
  for (const auto& ref : condition.references()) check_reference(wf, index, i, ref, s.when_mark, "when");
}

// Whether a param puts anything on the command line: a switch set to false, a count of 0 and
// null leave argparse's default, which no exclusive group minds.
bool gives(const ParamSpec& spec, const nlohmann::json& params) {
  if (!params.contains(spec.name)) return false;
  const auto& v = params.at(spec.name);
  if (v.is_null() || (v.is_boolean() && !v.get<bool>())) return false;
  if (spec.count && ((v.is_number_integer() && v.get<long long>() == 0) || v == "0")) return false;
  return true;
}

// argparse's mutually exclusive groups: it would stop the app with "not allowed with
// argument"; krdc says so before anything runs.
void check_exclusive_groups(const Step& s) {
  for (const auto& group : s.app.exclusive) {
    std::vector<std::string> given;
    for (const auto& name : group.params) {
      const ParamSpec* spec = s.app.find_param(name);
      if (spec && gives(*spec, s.params)) given.push_back(name);
    }
    std::string members;
    for (const auto& name : group.params) members += (members.empty() ? "" : ", ") + name;
    if (given.size() > 1) {
      const SourceMark& m = s.param_marks.count(given[1]) ? s.param_marks.at(given[1]) : s.mark;
      throw invalid_at(m, fmt::format("step \"{}\": params \"{}\" and \"{}\" of app \"{}\" cannot be given together",
                                      s.name, given[0], given[1], s.app.name),
                       fmt::format("the app takes at most one of: {} (argparse mutually exclusive group)", members));
    }
    if (given.empty() && group.required) {
      throw invalid_at(s.mark, fmt::format("step \"{}\": app \"{}\" needs one of the params {}", s.name, s.app.name,
                                           members));
    }
  }
}

// The resolver validation can offer: workflow params, and the item of one known instance.
Resolver known_values(const Workflow& wf, const nlohmann::json* item) { return value_resolver(wf.params, item); }

// Checks one param value against its spec once everything known is substituted. Values that
// need an upstream output (or an item only known at run time) are checked when resolved.
// `spec` is null for an app without a declared interface: only the substitution is checked.
void check_param_value(const Workflow& wf, const Step& s, const std::string& name, const ParamSpec* spec,
                       const nlohmann::json& value, const SourceMark& m, const Instance* instance) {
  bool known = true;
  for (const auto& ref : find_references(value)) {
    known &= ref.kind == Reference::Kind::kParam || (ref.kind == Reference::Kind::kItem && instance);
  }
  if (!known) return;
  const std::string who = fmt::format("step \"{}\"", instance ? instance->name : s.name);
  nlohmann::json resolved;
  try {
    resolved = substitute(value, known_values(wf, instance ? &instance->item : nullptr));
  } catch (const std::invalid_argument& e) {
    throw invalid_at(m, fmt::format("{} param \"{}\": {}", who, name, e.what()),
                     instance ? "each item must have the fields the params use" : "");
  }
  if (!spec) return;
  if (auto err = check_param(*spec, resolved)) {
    throw invalid_at(m, fmt::format("{} param \"{}\": {}", who, name, *err));
  }
}

void check_params_against_app(const Workflow& wf, const Step& s, const std::vector<Instance>& instances) {
  const App& app = s.app;
  for (auto it = s.params.begin(); it != s.params.end(); ++it) {
    const SourceMark& m = s.param_marks.count(it.key()) ? s.param_marks.at(it.key()) : s.mark;
    const ParamSpec* spec = app.has_interface ? app.find_param(it.key()) : nullptr;
    if (app.has_interface && !spec) {
      std::string accepted;
      for (const auto& p : app.params) accepted += (accepted.empty() ? "" : ", ") + p.name;
      std::string hint = accepted.empty() ? "the app takes no params" : "it accepts: " + accepted;
      if (!app.interface_digest.empty()) hint += " (read from its argparse; `inspect: false` on the app turns this off)";
      throw invalid_at(m, fmt::format("step \"{}\": app \"{}\" has no param \"{}\"", s.name, app.name, it.key()), hint);
    }
    if (instances.empty()) {
      check_param_value(wf, s, it.key(), spec, it.value(), m, nullptr);
      continue;
    }
    for (const auto& instance : instances) check_param_value(wf, s, it.key(), spec, it.value(), m, &instance);
  }
  if (!app.has_interface) return;
  const auto missing = missing_required(app, s.params);
  if (!missing.empty()) {
    std::string list;
    for (const auto& name : missing) list += (list.empty() ? "" : ", ") + name;
    throw invalid_at(s.mark, fmt::format("step \"{}\": missing required param{} {} of app \"{}\"", s.name,
                                         missing.size() > 1 ? "s" : "", list, app.name));
  }
  check_exclusive_groups(s);
}

// The instances of a step whose lists are known now (written out or params); none otherwise.
std::vector<Instance> known_instances(const Workflow& wf, const Step& s) {
  if (!s.scatter.active() || !items_known_before_run(s)) return {};
  try {
    return expand(s, resolve_items(s, known_values(wf, nullptr)));
  } catch (const InvalidInput& e) {
    throw invalid_at(s.scatter.mark, e.what(), e.hint());
  }
}

void check_cluster(const Workflow& wf, const Step& s) {
  if (s.cluster.empty()) {
    if (s.app.command.empty()) {
      throw invalid_at(s.mark, fmt::format("step \"{}\": app \"{}\" has only an image, so it needs a cluster", s.name, s.app.name),
                       "set `cluster:` on the step or in spec.defaults");
    }
    return;
  }
  if (s.app.image.empty()) {
    throw invalid_at(s.mark, fmt::format("step \"{}\" runs on cluster \"{}\" but app \"{}\" has no image", s.name,
                                         s.cluster, s.app.name));
  }
  (void)wf;  // cluster names may also come from the user's config; the cluster registry checks them
}

}  // namespace

void validate_workflow(const Workflow& wf) {
  Index index;
  check_names_and_needs(wf, index);
  check_acyclic(wf, index);
  for (size_t i = 0; i < wf.steps.size(); ++i) {
    check_references(wf, index, i);
    check_scatter_sources(wf, index, i);
    check_condition(wf, index, i);
    check_params_against_app(wf, wf.steps[i], known_instances(wf, wf.steps[i]));
    check_cluster(wf, wf.steps[i]);
  }
}

}  // namespace krdc::workflow
