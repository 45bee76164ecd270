#include "krdc/workflow/validator.h"

#include <fmt/format.h>

#include <set>
#include <stdexcept>
#include <unordered_map>

#include "krdc/workflow/params.h"
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

void check_references(const Workflow& wf, const Index& index, size_t i) {
  const auto& s = wf.steps[i];
  for (auto it = s.params.begin(); it != s.params.end(); ++it) {
    const SourceMark& m = s.param_marks.count(it.key()) ? s.param_marks.at(it.key()) : s.mark;
    std::vector<Reference> refs;
    try {
      refs = find_references(it.value());
    } catch (const std::invalid_argument& e) {
      throw invalid_at(m, fmt::format("step \"{}\" param \"{}\": {}", s.name, it.key(), e.what()));
    }
    for (const auto& ref : refs) {
      if (ref.kind == Reference::Kind::kParam) {
        if (!wf.params.contains(ref.key)) {
          throw invalid_at(m, fmt::format("step \"{}\" param \"{}\": {} is not a workflow param", s.name, it.key(), ref.text),
                           "declare it under spec.params");
        }
        continue;
      }
      auto dep = index.find(ref.step);
      if (dep == index.end()) {
        throw invalid_at(m, fmt::format("step \"{}\" param \"{}\": {} names no step of this workflow", s.name, it.key(), ref.text));
      }
      if (!is_upstream(wf, index, i, dep->second)) {
        throw invalid_at(m, fmt::format("step \"{}\" param \"{}\": {} refers to step \"{}\", which is not upstream", s.name,
                                        it.key(), ref.text, ref.step),
                         fmt::format("add \"{}\" to the needs of \"{}\"", ref.step, s.name));
      }
      const App& producer = wf.steps[dep->second].app;
      if (!producer.outputs.empty() && !producer.declares_output(ref.key)) {
        std::string declared;
        for (const auto& o : producer.outputs) declared += (declared.empty() ? "" : ", ") + o.name;
        throw invalid_at(m, fmt::format("step \"{}\" param \"{}\": step \"{}\" has no output \"{}\"", s.name, it.key(),
                                        ref.step, ref.key),
                         "its app declares: " + declared);
      }
    }
  }
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

void check_params_against_app(const Workflow& wf, const Step& s) {
  const App& app = s.app;
  if (!app.has_interface) return;
  for (auto it = s.params.begin(); it != s.params.end(); ++it) {
    const SourceMark& m = s.param_marks.count(it.key()) ? s.param_marks.at(it.key()) : s.mark;
    const ParamSpec* spec = app.find_param(it.key());
    if (!spec) {
      std::string accepted;
      for (const auto& p : app.params) accepted += (accepted.empty() ? "" : ", ") + p.name;
      std::string hint = accepted.empty() ? "the app takes no params" : "it accepts: " + accepted;
      if (!app.interface_digest.empty()) hint += " (read from its argparse; `inspect: false` on the app turns this off)";
      throw invalid_at(m, fmt::format("step \"{}\": app \"{}\" has no param \"{}\"", s.name, app.name, it.key()), hint);
    }
    // Values with ${{ }} are checked again once substituted; workflow params are known now.
    nlohmann::json value = it.value();
    bool has_step_refs = false;
    for (const auto& ref : find_references(value)) has_step_refs |= ref.kind == Reference::Kind::kStepOutput;
    if (has_step_refs) continue;
    value = substitute(value, [&](const Reference& r) -> std::optional<nlohmann::json> {
      if (wf.params.contains(r.key)) return wf.params.at(r.key);
      return std::nullopt;
    });
    if (auto err = check_param(*spec, value)) {
      throw invalid_at(m, fmt::format("step \"{}\" param \"{}\": {}", s.name, it.key(), *err));
    }
  }
  check_exclusive_groups(s);
  const auto missing = missing_required(app, s.params);
  if (!missing.empty()) {
    std::string list;
    for (const auto& name : missing) list += (list.empty() ? "" : ", ") + name;
    throw invalid_at(s.mark, fmt::format("step \"{}\": missing required param{} {} of app \"{}\"", s.name,
                                         missing.size() > 1 ? "s" : "", list, app.name));
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
    check_params_against_app(wf, wf.steps[i]);
    check_cluster(wf, wf.steps[i]);
  }
}

}  // namespace krdc::workflow
