#include "krdc/exec/step_spec.h"

#include <fmt/format.h>

#include "krdc/util/errors.h"

namespace krdc::exec {

using nlohmann::json;

json step_spec(const StepRequest& req) {
  const auto& step = req.step;
  // References only (Secret name and key in the remote namespace), never a value.
  json secret_env = json::object();
  for (const auto& [k, ref] : step.secret_env) secret_env[k] = {{"name", ref.name}, {"key", ref.key}};
  return {{"version", kStepSpecVersion},
          {"runId", req.run_id},
          {"workflow", req.workflow_name},
          {"step", step.name},
          {"attempt", req.attempt},
          {"app", step.app.name},
          {"image", step.app.image},
          {"command", step.app.command},
          {"args", req.args},
          {"params", req.params},
          {"env", step.env},
          {"secretEnv", secret_env},
          {"resources", step.resources},
          {"timeoutMs", step.timeout_ms},
          {"killGraceMs", req.kill_grace_ms}};
}

namespace {

// spec[key] as T, or InvalidInput naming the key.
template <class T>
T field(const json& spec, const char* key, bool required = true, T fallback = T{}) {
  if (!spec.contains(key) || spec[key].is_null()) {
    if (required) throw InvalidInput(fmt::format("step spec: \"{}\" is missing", key));
    return fallback;
  }
  try {
    return spec[key].get<T>();
  } catch (const json::exception&) {
    throw InvalidInput(fmt::format("step spec: \"{}\" has the wrong type ({})", key, spec[key].type_name()));
  }
}

}  // namespace

StepRequest parse_step_spec(const json& spec) {
  if (!spec.is_object()) throw InvalidInput("step spec: not a JSON object");
  if (const auto v = field<std::string>(spec, "version"); v != kStepSpecVersion) {
    throw InvalidInput(fmt::format("step spec: version \"{}\" is not {}", v, kStepSpecVersion),
                       "the driver and the proxy image run different krdc versions: align proxyImage with krdc");
  }
  StepRequest req;
  workflow::Step& step = req.step;
  step.name = field<std::string>(spec, "step");
  step.app.name = field<std::string>(spec, "app", false, step.name);
  step.app.image = field<std::string>(spec, "image");
  step.app.command = field<std::vector<std::string>>(spec, "command", false);
  step.env = field<std::map<std::string, std::string>>(spec, "env", false);
  for (const auto& [k, ref] : field<std::map<std::string, std::map<std::string, std::string>>>(spec, "secretEnv", false)) {
    if (!ref.count("name") || !ref.count("key")) throw InvalidInput(fmt::format("step spec: secretEnv {} lacks name or key", k));
    step.secret_env[k] = workflow::SecretKeyRef{ref.at("name"), ref.at("key"), {}};
  }
  step.resources = spec.value("resources", json());
  step.timeout_ms = field<long long>(spec, "timeoutMs", false, 0);
  if (step.app.image.empty()) throw InvalidInput("step spec: \"image\" is empty");

  req.run_id = field<std::string>(spec, "runId");
  req.workflow_name = field<std::string>(spec, "workflow");
  req.attempt = field<int>(spec, "attempt");
  req.args = field<std::vector<std::string>>(spec, "args", false);
  req.params = spec.value("params", json::object());
  req.kill_grace_ms = field<long long>(spec, "killGraceMs", false, 5000);
  if (req.attempt < 1) throw InvalidInput("step spec: \"attempt\" must be 1 or more");
  if (step.timeout_ms > 0) {
    req.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(step.timeout_ms);
  }
  return req;
}

}  // namespace krdc::exec
