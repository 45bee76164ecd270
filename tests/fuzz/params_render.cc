// Params → argv: an app's parameter list, parsed by the descriptor parser (parse_app_spec),
// and param values, through check_param, missing_required and render_args, the way a step's
// params reach its argv. Values are tried as written and again as strings (values from `-p`
// and step outputs arrive as strings).
//
// Input: YAML, e.g.
//   spec: {command: [python3, main.py], params: [{name: n, type: int, nargs: "+"}]}
//   params: {n: [1, 2]}
#include <yaml-cpp/yaml.h>

#include "fuzz_support.h"
#include "krdc/workflow/app_loader.h"
#include "krdc/workflow/params.h"
#include "krdc/workflow/yaml_reader.h"

using nlohmann::json;
using namespace krdc::workflow;

namespace {
json as_strings(const json& v) {
  if (v.is_array()) {
    json out = json::array();
    for (const auto& e : v) out.push_back(as_strings(e));
    return out;
  }
  if (v.is_string() || v.is_object() || v.is_null()) return v;
  return v.dump();
}

void check_and_render(const App& app, const json& params) {
  for (const auto& [key, value] : params.items()) {
    const ParamSpec* spec = app.find_param(key);
    if (app.has_interface && !spec) return;  // the loader refuses unknown params
    if (spec && check_param(*spec, value)) return;  // refused, with a reason
  }
  (void)missing_required(app, params);
  (void)render_args(app, params);  // may refuse with InvalidInput only
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = krdc::fuzz::text(data, size);
  krdc::fuzz::refused_or_ok([&] {
    const YamlReader r("app.yaml");
    const YAML::Node root = r.parse_text(text);
    r.require_map(root, "input");
    r.check_keys(root, {"spec", "params"}, "input");
    if (!root["spec"]) return;
    const App app = parse_app_spec(r, root["spec"], "app", "/nonexistent", false);
    json params = json::object();
    if (root["params"]) {
      r.require_map(root["params"], "params");
      for (const auto& kv : root["params"]) params[r.get_string(kv.first, "param name")] = r.to_json(kv.second);
    }
    check_and_render(app, params);
    json strings = json::object();
    for (const auto& [key, value] : params.items()) strings[key] = as_strings(value);
    check_and_render(app, strings);
  });
  return 0;
}
