// The Provenance Run Crate mapping is documented in include/krdc/report/ro_crate.h.
#include "krdc/report/ro_crate.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <vector>

#include "krdc/report/step_attempts.h"

namespace krdc::report {

namespace {

using nlohmann::json;

constexpr const char* kRoCrate = "https://w3id.org/ro/crate/1.1";
constexpr const char* kWorkflowRoCrate = "https://w3id.org/workflowhub/workflow-ro-crate/1.0";
constexpr const char* kFormalParameter = "https://bioschemas.org/profiles/FormalParameter/1.0-RELEASE";
constexpr const char* kComputationalWorkflow = "https://bioschemas.org/profiles/ComputationalWorkflow/1.0-RELEASE";

struct Profile {
  const char* id;
  const char* name;
};
constexpr Profile kRunProfiles[] = {{"https://w3id.org/ro/wfrun/process/0.5", "Process Run Crate"},
                                    {"https://w3id.org/ro/wfrun/workflow/0.5", "Workflow Run Crate"},
                                    {"https://w3id.org/ro/wfrun/provenance/0.5", "Provenance Run Crate"}};

json id_ref(const std::string& id) { return {{"@id", id}}; }

// A name as part of a local "#..." identifier: RFC 3986 fragment characters stay, the rest is
// percent-encoded (step, app and param names are already restricted; cluster names are not).
std::string id_part(const std::string& s) {
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// Entities by @id, in the order first added; adding one twice keeps the first.
class Graph {
 public:
  void add(json entity) {
    if (ids_.insert(entity["@id"].get<std::string>()).second) entities_.push_back(std::move(entity));
  }
  json take() { return std::move(entities_); }

 private:
  std::set<std::string> ids_;
  json entities_ = json::array();
};

std::string action_status(const std::string& status, bool open) {
  if (open) return "http://schema.org/ActiveActionStatus";
  return status == "succeeded" ? "http://schema.org/CompletedActionStatus" : "http://schema.org/FailedActionStatus";
}

// What kind of value a param carries (Workflow Run Crate's additionalType for FormalParameter).
std::string additional_type(const json& value) {
  if (value.is_boolean()) return "Boolean";
  if (value.is_number_integer()) return "Integer";
  if (value.is_number()) return "Float";
  return "Text";
}

// schema:value takes text, numbers and booleans; lists and objects go as their JSON text.
json property_value(const json& value) {
  if (value.is_string() || value.is_number() || value.is_boolean()) return value;
  return value.dump();
}

class CrateBuilder {
 public:
  explicit CrateBuilder(const CrateSources& src) : src_(src) {
    run_ = src.run.empty() ? latest_run(*src.file, src.results_path) : src.run;
    for (const auto& r : src.file->records) {
      if (r.value("run", "") != run_ || r.value("type", "") != "run") continue;
      if (r.value("event", "") == "start") header_ = r;
      if (r.value("event", "") == "end") footer_ = r;
    }
    steps_ = run_attempts(*src.file, src.results_path, run_);
    workflow_id_ = src.workflow_file.empty() ? "#workflow" : src.workflow_file;
  }

  json build() {
    add_descriptor_and_root();
    add_agents();
    json workflow = workflow_entity();
    json controls = json::array();
    json run_results = json::array();
    int position = 0;
    for (const auto& step : ordered_steps()) {
      // A step that never ran (skipped, or not reached) has no action, and the profile wants
      // every tool and step to be an action's: the crate describes what ran.
      if (step.attempts.empty()) continue;
      const std::string tool = tool_of(step.step);
      const std::string how_to = "#step-" + id_part(step.step);
      graph_.add({{"@id", how_to}, {"@type", "HowToStep"}, {"name", step.step}, {"position", std::to_string(position++)},
                  {"workExample", id_ref(tool)}});
      workflow["step"].push_back(id_ref(how_to));
      json executions = json::array();
      for (size_t k = 0; k < step.attempts.size(); ++k) {
        const std::string id = fmt::format("#attempt-{}-{}-{}", id_part(run_), id_part(step.step), k + 1);
        executions.push_back(id_ref(id));
        add_step_action(id, step, step.attempts[k], tool, run_results);
      }
      const std::string control = fmt::format("#control-{}-{}", id_part(run_), id_part(step.step));
      graph_.add({{"@id", control},
                  {"@type", "ControlAction"},
                  {"name", fmt::format("orchestrate {}", step.step)},
                  {"instrument", id_ref(how_to)},
                  {"object", executions},
                  {"actionStatus", action_status(step.status, step.status.empty())}});
      controls.push_back(id_ref(control));
    }
    for (const auto& [id, _] : tool_entities_) workflow["hasPart"].push_back(id_ref(id));
    graph_.add(std::move(workflow));
    add_run_actions(controls, run_results);
    return {{"@context", json::array({"https://w3id.org/ro/crate/1.1/context",
                                      "https://w3id.org/ro/terms/workflow-run/context"})},
            {"@graph", graph_.take()}};
  }

 private:
  std::string run_name() const { return fmt::format("krdc run {} of {}", run_, header_.value("workflow", "a workflow")); }

  void add_descriptor_and_root() {
    graph_.add({{"@id", "ro-crate-metadata.json"},
                {"@type", "CreativeWork"},
                {"about", id_ref("./")},
                {"conformsTo", json::array({id_ref(kRoCrate), id_ref(kWorkflowRoCrate)})}});
    json conforms = json::array();
    for (const auto& p : kRunProfiles) conforms.push_back(id_ref(p.id));
    conforms.push_back(id_ref(kWorkflowRoCrate));
    json parts = json::array();
    if (!src_.workflow_file.empty()) parts.push_back(id_ref(src_.workflow_file));
    for (const auto& [app, path] : src_.descriptors) parts.push_back(id_ref(path));
    graph_.add({{"@id", "./"},
                {"@type", "Dataset"},
                {"name", run_name()},
                {"description", fmt::format("Provenance of {}, exported by krdc from {}", run_name(),
                                            std::filesystem::path(src_.results_path).filename().string())},
                {"datePublished", src_.published},
                {"license", src_.license.empty() ? json("not specified (krdc export --license)") : license_value()},
                {"conformsTo", conforms},
                {"mainEntity", id_ref(workflow_id_)},
                {"mentions", json::array({id_ref(run_action_id())})},
                {"hasPart", parts}});
    for (const auto& p : kRunProfiles) {
      graph_.add({{"@id", p.id}, {"@type", "CreativeWork"}, {"name", p.name}, {"version", "0.5"}});
    }
    graph_.add({{"@id", kWorkflowRoCrate}, {"@type", "CreativeWork"}, {"name", "Workflow RO-Crate"}, {"version", "1.0"}});
  }

  // Who ran it and with what: the user the run header names (a login name, never a credential)
  // and this krdc.
  void add_agents() {
    graph_.add({{"@id", agent_id()}, {"@type", "Person"}, {"name", header_.value("user", "unknown")}});
    graph_.add({{"@id", "#krdc"},
                {"@type", "SoftwareApplication"},
                {"name", "krdc"},
                {"version", header_.value("krdc", "")},
                {"description", "krdc runs research workflows across research data commons clusters"}});
    graph_.add({{"@id", "#krdc-workflow-language"},
                {"@type", "ComputerLanguage"},
                {"name", "krdc workflow (apiVersion krdc/v1)"},
                {"identifier", "krdc/v1"}});
  }

  // A URL (e.g. https://spdx.org/licenses/CC-BY-4.0) as a reference; anything else as text.
  json license_value() const {
    if (src_.license.rfind("https://", 0) == 0 || src_.license.rfind("http://", 0) == 0) return id_ref(src_.license);
    return src_.license;
  }

  std::string agent_id() const { return "#agent-" + id_part(header_.value("user", "unknown")); }
  std::string run_action_id() const { return "#run-" + id_part(run_); }

  json workflow_entity() {
    json types = json::array({"SoftwareSourceCode", "ComputationalWorkflow", "HowTo"});
    if (!src_.workflow_file.empty()) types.insert(types.begin(), "File");
    json inputs = json::array();
    const json params = header_.value("params", json::object());
    for (auto it = params.begin(); it != params.end(); ++it) {
      const std::string id = "#param-workflow-" + id_part(it.key());
      add_formal_parameter(id, it.key(), it.value());
      inputs.push_back(id_ref(id));
    }
    json wf = {{"@id", workflow_id_},
               {"@type", types},
               {"name", header_.value("workflow", "")},
               {"programmingLanguage", id_ref("#krdc-workflow-language")},
               {"conformsTo", id_ref(kComputationalWorkflow)},
               {"input", inputs},
               {"output", json::array()},
               {"hasPart", json::array()},
               {"step", json::array()}};
    if (header_.contains("digest")) wf["sha256"] = header_.value("digest", "").substr(header_.value("digest", "").find(':') + 1);
    return wf;
  }

  void add_formal_parameter(const std::string& id, const std::string& name, const json& value) {
    if (formal_parameters_.count(id)) return;
    formal_parameters_[id] = {{"@id", id},
                              {"@type", "FormalParameter"},
                              {"name", name},
                              {"additionalType", additional_type(value)},
                              {"conformsTo", id_ref(kFormalParameter)},
                              {"workExample", json::array()}};
  }

  // A value given for (or produced as) a formal parameter: linked both ways.
  json add_property_value(const std::string& id, const std::string& name, const json& value,
                          const std::string& parameter) {
    graph_.add({{"@id", id},
                {"@type", "PropertyValue"},
                {"name", name},
                {"value", property_value(value)},
                {"exampleOfWork", id_ref(parameter)}});
    formal_parameters_[parameter]["workExample"].push_back(id_ref(id));
    return id_ref(id);
  }

  // Steps in the workflow's order when it is at hand (a skipped step has records too), else in
  // the order their records appear.
  std::vector<StepAttempts> ordered_steps() const {
    if (!src_.workflow) return steps_;
    std::vector<StepAttempts> out;
    for (const auto& s : src_.workflow->steps) {
      auto it = std::find_if(steps_.begin(), steps_.end(), [&](const StepAttempts& a) { return a.step == s.name; });
      out.push_back(it != steps_.end() ? *it : StepAttempts{run_, s.name, {}, ""});
      // A scattered step ran as instances NAME[k] (docs/architecture.md, "Scatter, gather and
      // conditions"): each is an execution of its own.
      for (const auto& a : steps_) {
        if (a.step.rfind(s.name + "[", 0) == 0) out.push_back(a);
      }
    }
    return out;
  }

  // The app a step runs, as a SoftwareApplication: its copied krdc-app.yaml when there is one.
  std::string tool_of(const std::string& step) {
    const workflow::Step* s = src_.workflow ? src_.workflow->find_step(step.substr(0, step.find('['))) : nullptr;
    const std::string app = s && !s->app.name.empty() ? s->app.name : step;  // an inline app may have no name
    std::string id = "#app-" + id_part(app);
    if (auto d = src_.descriptors.find(app); d != src_.descriptors.end()) id = d->second;
    if (tool_entities_.count(id)) return id;
    json tool = {{"@id", id}, {"@type", id.front() == '#' ? json("SoftwareApplication")
                                                          : json::array({"File", "SoftwareApplication"})},
                 {"name", app}, {"input", json::array()}, {"output", json::array()}};
    if (s && !s->app.image.empty()) tool["softwareRequirements"] = id_ref(image_entity(s->app.image));
    tool_entities_[id] = std::move(tool);
    return id;
  }

  std::string image_entity(const std::string& image) {
    const std::string id = "#image-" + id_part(image);
    graph_.add({{"@id", id},
                {"@type", "ContainerImage"},
                {"name", image},
                {"additionalType", id_ref("https://w3id.org/ro/terms/workflow-run#DockerImage")}});
    return id;
  }

  // A tool's formal parameter named `name` (input or output), added to the tool once.
  std::string tool_parameter(const std::string& tool, const char* direction, const std::string& name,
                             const json& value) {
    const std::string id = fmt::format("#param-{}-{}-{}", id_part(tool_entities_[tool].value("name", "")), direction,
                                       id_part(name));
    auto& list = tool_entities_[tool][direction];
    if (std::none_of(list.begin(), list.end(), [&](const json& r) { return r.value("@id", "") == id; })) {
      list.push_back(id_ref(id));
      add_formal_parameter(id, name, value);
    }
    return id;
  }

  json property_values(const std::string& action, const std::string& tool, const char* direction, const json& values) {
    json out = json::array();
    if (!values.is_object()) return out;
    for (auto it = values.begin(); it != values.end(); ++it) {
      const std::string id = fmt::format("{}-{}-{}", action, direction, id_part(it.key()));
      out.push_back(add_property_value(id, it.key(), it.value(), tool_parameter(tool, direction, it.key(), it.value())));
    }
    return out;
  }

  void add_step_action(const std::string& id, const StepAttempts& step, const AttemptDetail& a, const std::string& tool,
                       json& run_results) {
    // Params as given (null in files older than params in start records: then its argv).
    json params = a.params.is_object() ? a.params : json{{"argv", a.args}};
    json action = {{"@id", id},
                   {"@type", "CreateAction"},
                   {"name", fmt::format("{} (attempt {}) of {}", step.step, a.attempt, run_name())},
                   {"instrument", id_ref(tool)},
                   {"agent", id_ref(agent_id())},
                   {"object", property_values(id, tool, "input", params)},
                   {"result", property_values(id, tool, "output", a.outputs)},
                   {"actionStatus", action_status(a.status, !a.closed)}};
    if (!a.start_time.empty()) action["startTime"] = a.start_time;
    if (!a.end_time.empty()) action["endTime"] = a.end_time;
    if (a.closed && a.status != "succeeded" && !a.reason.empty()) action["error"] = a.reason;
    if (a.status == "succeeded") {
      for (const auto& r : action["result"]) run_results.push_back(r);
    }
    if (!a.cluster.empty()) action["location"] = id_ref(cluster_entity(a));
    if (const std::string where = where_it_ran(a); !where.empty()) action["identifier"] = where;
    const workflow::Step* s = src_.workflow ? src_.workflow->find_step(step.step) : nullptr;
    if (s && a.executor != "process" && !s->app.image.empty()) action["containerImage"] = id_ref(image_entity(s->app.image));
    graph_.add(std::move(action));
  }

  std::string cluster_entity(const AttemptDetail& a) {
    const std::string id = "#cluster-" + id_part(a.cluster);
    json place = {{"@id", id}, {"@type", "VirtualLocation"}, {"name", a.cluster},
                  {"description", fmt::format("Kubernetes cluster {}", a.cluster)}};
    graph_.add(std::move(place));
    return id;
  }

  // The executor's own name for the attempt: the Job (namespace/name, uid) or the process id.
  static std::string where_it_ran(const AttemptDetail& a) {
    const json& d = a.submitted;
    if (!d.is_object()) return "";
    if (d.contains("job") && d["job"].is_string()) {
      return fmt::format("{} job {}/{}{}", a.executor, d.value("namespace", ""), d.value("job", ""),
                         d.contains("uid") && d["uid"].is_string() ? " uid " + d.value("uid", "") : "");
    }
    if (d.contains("pid") && d["pid"].is_number_integer()) return fmt::format("process pid {}", d.value("pid", 0));
    return "";
  }

  void add_run_actions(const json& controls, const json& results) {
    const std::string status = footer_.value("status", "");
    const bool open = footer_.is_null() || status == "detached";
    json run = {{"@id", run_action_id()},
                {"@type", "CreateAction"},
                {"name", run_name()},
                {"instrument", id_ref(workflow_id_)},
                {"agent", id_ref(agent_id())},
                {"object", json::array()},
                {"result", results},
                {"actionStatus", action_status(status, open)}};
    const json params = header_.value("params", json::object());
    for (auto it = params.begin(); it != params.end(); ++it) {
      const std::string id = fmt::format("#run-param-{}-{}", id_part(run_), id_part(it.key()));
      run["object"].push_back(add_property_value(id, it.key(), it.value(), "#param-workflow-" + id_part(it.key())));
    }
    json organize = {{"@id", "#organize-" + id_part(run_)},
                     {"@type", "OrganizeAction"},
                     {"name", fmt::format("krdc orchestrating {}", run_name())},
                     {"instrument", id_ref("#krdc")},
                     {"agent", id_ref(agent_id())},
                     {"object", controls},
                     {"result", id_ref(run_action_id())},
                     {"actionStatus", action_status(status, open)}};
    for (json* action : {&run, &organize}) {
      if (header_.contains("time")) (*action)["startTime"] = header_.value("time", "");
      if (!open && footer_.contains("time")) (*action)["endTime"] = footer_.value("time", "");
    }
    graph_.add(std::move(run));
    graph_.add(std::move(organize));
    for (auto& [id, tool] : tool_entities_) graph_.add(std::move(tool));
    for (auto& [id, parameter] : formal_parameters_) graph_.add(std::move(parameter));
  }

  const CrateSources& src_;
  std::string run_;
  json header_ = json::object();
  json footer_;
  std::vector<StepAttempts> steps_;
  std::string workflow_id_;
  std::map<std::string, json> tool_entities_;
  std::map<std::string, json> formal_parameters_;  // by @id
  Graph graph_;
};

}  // namespace

json build_ro_crate(const CrateSources& sources) { return CrateBuilder(sources).build(); }

}  // namespace krdc::report
