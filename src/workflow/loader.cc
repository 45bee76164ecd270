#include "krdc/workflow/loader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "krdc/util/digest.h"
#include "krdc/workflow/app_loader.h"
#include "krdc/workflow/names.h"
#include "krdc/workflow/param_overrides.h"
#include "krdc/workflow/validator.h"
#include "krdc/workflow/yaml_guard.h"
#include "krdc/workflow/yaml_reader.h"

namespace krdc::workflow {

namespace fs = std::filesystem;

namespace {

struct Defaults {
  std::string cluster;
  long long timeout_ms = 0;
  int retries = 0;
  long long retry_backoff_ms = 1000;
};

bool valid_step_name(const std::string& s) {
  // Step names end up in Job names, label values and file names: keep them DNS-label-ish.
  if (s.empty() || s.size() > 63) return false;
  if (!std::isalnum(static_cast<unsigned char>(s.front())) || !std::isalnum(static_cast<unsigned char>(s.back()))) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

ClusterRef parse_cluster(const YamlReader& r, const std::string& name, const YAML::Node& node) {
  const std::string what = fmt::format("cluster \"{}\"", name);
  r.check_keys(node, {"server", "audience", "namespace", "caFile"}, what);
  ClusterRef c;
  c.name = name;
  c.mark = r.mark(node);
  if (node["server"]) c.server = r.get_string(node["server"], what + " server");
  if (node["audience"]) c.audience = r.get_string(node["audience"], what + " audience");
  if (node["namespace"]) c.namespace_ = r.get_string(node["namespace"], what + " namespace");
  if (node["caFile"]) c.ca_file = r.get_string(node["caFile"], what + " caFile");
  if (!c.server.empty() && c.server.rfind("https://", 0) != 0) {
    throw invalid_at(r.mark(node["server"]), what + ": server must be an https:// URL (TLS is always verified)");
  }
  return c;
}

Defaults parse_defaults(const YamlReader& r, const YAML::Node& node) {
  r.check_keys(node, {"cluster", "timeout", "retries", "retryBackoff"}, "defaults");
  Defaults d;
  if (node["cluster"]) d.cluster = r.get_string(node["cluster"], "defaults.cluster");
  if (node["timeout"]) d.timeout_ms = r.get_duration_ms(node["timeout"], "defaults.timeout");
  if (node["retries"]) d.retries = r.get_int(node["retries"], "defaults.retries", 0, 100);
  if (node["retryBackoff"]) d.retry_backoff_ms = r.get_duration_ms(node["retryBackoff"], "defaults.retryBackoff");
  return d;
}

// `{secretKeyRef: {name: SECRET, key: KEY}}`: a value a cluster step reads from a Secret in its
// namespace, never seen by krdc. A process step has no Secrets to read from: refused here,
// before anything runs.
SecretKeyRef parse_secret_env(const YamlReader& r, const YAML::Node& value, const std::string& what,
                              bool on_cluster) {
  r.check_keys(value, {"secretKeyRef"}, what);
  const YAML::Node ref = value["secretKeyRef"];
  if (!ref) throw invalid_at(r.mark(value), what + ": an env value is a string or {secretKeyRef: {name, key}}");
  r.require_map(ref, what + " secretKeyRef");
  r.check_keys(ref, {"name", "key"}, what + " secretKeyRef");
  SecretKeyRef out;
  out.mark = r.mark(ref);
  if (!ref["name"] || !ref["key"]) throw invalid_at(out.mark, what + ": secretKeyRef needs a name and a key");
  out.name = r.get_string(ref["name"], what + " secretKeyRef name");
  out.key = r.get_string(ref["key"], what + " secretKeyRef key");
  // A DNS-1123 subdomain for the Secret, [-._a-zA-Z0-9]+ for the key, as the API server wants them.
  auto alnum = [](unsigned char c) { return c < 0x80 && std::isalnum(c); };
  const bool name_ok = !out.name.empty() && out.name.size() <= 253 && alnum(out.name.front()) && alnum(out.name.back()) &&
                       std::all_of(out.name.begin(), out.name.end(), [&](unsigned char c) {
                         return (alnum(c) && !std::isupper(c)) || c == '-' || c == '.';
                       });
  if (!name_ok) {
    throw invalid_at(r.mark(ref["name"]), fmt::format("{}: secretKeyRef name \"{}\" is not a Secret name", what, out.name),
                     "lower-case letters, digits, '-' and '.', starting and ending with a letter or digit");
  }
  const bool key_ok = !out.key.empty() && out.key.size() <= 253 &&
                      std::all_of(out.key.begin(), out.key.end(),
                                  [&](unsigned char c) { return alnum(c) || c == '-' || c == '.' || c == '_'; });
  if (!key_ok) {
    throw invalid_at(r.mark(ref["key"]), fmt::format("{}: secretKeyRef key \"{}\" is not a Secret key", what, out.key),
                     "letters, digits, '-', '_' and '.'");
  }
  if (!on_cluster) {
    throw invalid_at(out.mark, what + ": secretKeyRef needs a cluster step (a local process has no Secrets to read)",
                     "set cluster: on the step (or spec.defaults.cluster), or pass the value another way");
  }
  return out;
}

// A list to scatter over: written out, or one ${{ }} reference to a list.
nlohmann::json parse_item_list(const YamlReader& r, const YAML::Node& node, const std::string& what) {
  if (node.IsSequence()) return r.to_json(node);
  if (node.IsScalar() && node.Scalar().find("${{") != std::string::npos) return node.Scalar();
  throw invalid_at(r.mark(node), what + " must be a list or one ${{ }} reference to a list",
                   "e.g. [2021, 2022], ${{ params.years }} or ${{ steps.list.outputs.files }}");
}

// forEach / matrix (docs/architecture.md, "Scatter, gather and conditions").
void parse_scatter(const YamlReader& r, const YAML::Node& node, const std::string& what, Step& s) {
  if (node["forEach"] && node["matrix"]) {
    throw invalid_at(r.mark(node["matrix"]), what + ": forEach and matrix cannot both be set",
                     "a matrix already runs every combination; put the forEach list in it as another axis");
  }
  if (node["forEach"]) {
    s.scatter.kind = Scatter::Kind::kForEach;
    s.scatter.mark = r.mark(node["forEach"]);
    s.scatter.for_each = parse_item_list(r, node["forEach"], what + " forEach");
  } else if (node["matrix"]) {
    r.require_map(node["matrix"], what + " matrix");
    s.scatter.kind = Scatter::Kind::kMatrix;
    s.scatter.mark = r.mark(node["matrix"]);
    for (const auto& kv : node["matrix"]) {
      const std::string axis = kv.first.as<std::string>();
      if (!is_param_name(axis)) {
        throw invalid_at(r.mark(kv.first), fmt::format("{} matrix: axis name \"{}\" is not valid", what, axis),
                         kParamNameHint);
      }
      s.scatter.matrix.emplace_back(axis, parse_item_list(r, kv.second, fmt::format("{} matrix.{}", what, axis)));
      s.scatter.axis_marks.push_back(r.mark(kv.first));
    }
    if (s.scatter.matrix.empty()) throw invalid_at(s.scatter.mark, what + ": matrix has no axes");
  }
}

// when / onSkipped. The expression itself is parsed by the validator (which knows the steps).
void parse_condition(const YamlReader& r, const YAML::Node& node, const std::string& what, Step& s) {
  if (node["when"]) {
    s.when_mark = r.mark(node["when"]);
    s.when = r.get_string(node["when"], what + " when");
    if (s.when.find_first_not_of(" \t") == std::string::npos) throw invalid_at(s.when_mark, what + ": when is empty");
  }
  if (node["onSkipped"]) {
    const std::string v = r.get_string(node["onSkipped"], what + " onSkipped");
    if (v != "run" && v != "skip") {
      throw invalid_at(r.mark(node["onSkipped"]), fmt::format("{}: onSkipped must be run or skip, found \"{}\"", what, v),
                       "onSkipped: run runs this step even when a step it needs was skipped by its condition");
    }
    s.run_if_upstream_skipped = v == "run";
  }
}

// Descriptors already read in this load, by path: large workflows reuse a few apps many times.
using AppCache = std::map<std::string, App>;

Step parse_step(const YamlReader& r, const YAML::Node& node, const Defaults& d, const std::string& base_dir,
                AppCache& apps) {
  // Name the step in every complaint, even about its other keys.
  const std::string label =
      node.IsMap() && node["name"] && node["name"].IsScalar() ? fmt::format("step \"{}\"", node["name"].Scalar()) : "step";
  r.check_keys(node, {"name", "app", "params", "needs", "cluster", "pull", "timeout", "retries", "retryBackoff",
                      "env", "resources", "forEach", "matrix", "when", "onSkipped"},
               label);
  Step s;
  s.mark = r.mark(node);
  if (!node["name"]) throw invalid_at(s.mark, "step: missing field \"name\"");
  s.name = r.get_string(node["name"], "step name");
  if (!valid_step_name(s.name)) {
    throw invalid_at(r.mark(node["name"]), fmt::format("step name \"{}\" is not valid", s.name),
                     "use 1-63 letters, digits, '-' or '_', starting and ending with a letter or digit");
  }
  const std::string what = fmt::format("step \"{}\"", s.name);
  if (!node["app"]) throw invalid_at(s.mark, what + ": missing field \"app\"");
  const YAML::Node app = node["app"];
  if (app.IsScalar()) {
    fs::path p = app.Scalar();
    if (p.is_relative()) p = fs::path(base_dir) / p;
    auto cached = apps.find(p.string());
    if (cached == apps.end()) {
      cached = apps.emplace(p.string(), load_app_descriptor(p.string(), r.mark(app), what)).first;
    }
    s.app = cached->second;
  } else if (app.IsMap()) {
    s.app = parse_app_spec(r, app, what + " app", base_dir, true);
    if (s.app.name.empty()) s.app.name = s.name;
  } else {
    throw invalid_at(r.mark(app), what + ": app must be a path to an app directory or an inline {image, command}");
  }
  if (node["params"]) {
    r.require_map(node["params"], what + " params");
    for (const auto& kv : node["params"]) {
      const std::string key = kv.first.as<std::string>();
      if (!is_param_name(key)) {
        throw invalid_at(r.mark(kv.first), fmt::format("{}: param name \"{}\" is not valid", what, key), kParamNameHint);
      }
      s.params[key] = r.to_json(kv.second);
      s.param_marks[key] = r.mark(kv.first);
    }
  }
  if (node["needs"]) {
    s.needs = r.get_string_list(node["needs"], what + " needs");
    if (node["needs"].IsSequence()) {
      for (const auto& n : node["needs"]) s.needs_marks.push_back(r.mark(n));
    } else {
      s.needs_marks.push_back(r.mark(node["needs"]));
    }
  }
  s.cluster = node["cluster"] ? r.get_string(node["cluster"], what + " cluster") : d.cluster;
  if (node["pull"]) {
    s.pull = r.get_string(node["pull"], what + " pull");
    if (s.pull != "shared") {
      throw invalid_at(r.mark(node["pull"]), fmt::format("{}: pull must be \"shared\", found \"{}\"", what, s.pull),
                       "pull: shared runs an image from shared storage on your local cluster");
    }
  }
  s.timeout_ms = node["timeout"] ? r.get_duration_ms(node["timeout"], what + " timeout") : d.timeout_ms;
  s.retries = node["retries"] ? r.get_int(node["retries"], what + " retries", 0, 100) : d.retries;
  s.retry_backoff_ms =
      node["retryBackoff"] ? r.get_duration_ms(node["retryBackoff"], what + " retryBackoff") : d.retry_backoff_ms;
  if (node["env"]) {
    r.require_map(node["env"], what + " env");
    for (const auto& kv : node["env"]) {
      const std::string key = kv.first.as<std::string>();
      if (!is_env_name(key)) {
        throw invalid_at(r.mark(kv.first), fmt::format("{}: env name \"{}\" is not valid", what, key),
                         "use a letter or '_', then letters, digits or '_'");
      }
      if (kv.second.IsMap()) {
        s.secret_env[key] = parse_secret_env(r, kv.second, fmt::format("{} env {}", what, key),
                                          !s.cluster.empty() || !s.pull.empty());
        continue;
      }
      const std::string value = r.get_string(kv.second, fmt::format("{} env {}", what, key));
      // ${{ }} is substituted in params only; an env value is passed as written (docs/architecture.md,
      // "Input limits"), so a reference here would reach the app literally.
      if (value.find("${{") != std::string::npos) {
        throw invalid_at(r.mark(kv.second),
                         fmt::format("{} env {}: ${{{{ }}}} is not substituted in env values", what, key),
                         "pass the value as a param instead (params take ${{ params.X }} and ${{ steps.S.outputs.K }})");
      }
      s.env[key] = value;
    }
  }
  if (node["resources"]) {
    r.require_map(node["resources"], what + " resources");
    s.resources = r.to_json(node["resources"]);
  }
  parse_scatter(r, node, what, s);
  parse_condition(r, node, what, s);
  return s;
}

// Recorded values (attach), then --params-file, then -p: the last one given wins.
void apply_overrides(nlohmann::json& params, const DeclaredTypes& declared, const LoadOptions& options) {
  for (const auto& [key, value] : options.values.items()) {
    require_declared("recorded param", key, declared);
    if (auto err = check_declared_type(declared.at(key), value)) {
      throw InvalidInput(fmt::format("recorded param {}: {}", key, *err),
                         "the workflow changed since the run; start a new run with krdc run");
    }
    params[key] = value;
  }
  if (!options.params_file.empty()) {
    const nlohmann::json from_file = read_params_file(options.params_file, declared);
    for (const auto& [key, value] : from_file.items()) params[key] = value;
  }
  for (const auto& [key, text] : options.params) params[key] = param_from_text(key, text, declared);
}

}  // namespace

Workflow load_workflow_text(const std::string& text, const std::string& file, const LoadOptions& options) {
  YamlReader r(file);
  const YAML::Node root = r.parse_text(text);
  if (!root.IsMap()) throw invalid_at(r.mark(root), "a workflow must be a mapping with apiVersion, kind, metadata, spec");
  r.check_keys(root, {"apiVersion", "kind", "metadata", "spec"}, "workflow");
  if (!root["apiVersion"] || r.get_string(root["apiVersion"], "apiVersion") != "krdc/v1") {
    throw invalid_at(r.mark(root["apiVersion"] ? root["apiVersion"] : root), "apiVersion must be krdc/v1");
  }
  if (!root["kind"] || r.get_string(root["kind"], "kind") != "Workflow") {
    throw invalid_at(r.mark(root["kind"] ? root["kind"] : root), "kind must be Workflow");
  }
  Workflow wf;
  wf.file = file;
  std::error_code ec;
  // The same directory however the file was named ("wf.yaml" from its directory, or an absolute
  // path from elsewhere, as `krdc attach` does): app directories, hence inputs digests, hang on it.
  wf.dir = fs::weakly_canonical(fs::absolute(fs::path(file), ec).parent_path(), ec).string();
  wf.digest = util::sha256_digest(text);
  if (root["metadata"]) {
    r.check_keys(root["metadata"], {"name", "description", "labels"}, "metadata");
    if (root["metadata"]["name"]) {
      wf.name = r.get_string(root["metadata"]["name"], "metadata.name");
      // The default result file is NAME.results.jsonl and the krdc/workflow label is NAME.
      if (!is_label_like(wf.name)) {
        throw invalid_at(r.mark(root["metadata"]["name"]),
                         fmt::format("metadata.name \"{}\" is not valid: it names the result file and the "
                                     "krdc/workflow label", wf.name),
                         kLabelLikeHint);
      }
    }
  }
  if (wf.name.empty()) wf.name = fs::path(file).stem().string();

  const YAML::Node spec = root["spec"];
  if (!spec) throw invalid_at(r.mark(root), "workflow: missing field \"spec\"");
  r.check_keys(spec, {"hub", "clusters", "params", "defaults", "steps"}, "spec");
  if (spec["hub"]) wf.hub = r.get_string(spec["hub"], "spec.hub");
  if (spec["clusters"]) {
    r.require_map(spec["clusters"], "spec.clusters");
    for (const auto& kv : spec["clusters"]) {
      const std::string name = kv.first.as<std::string>();
      wf.clusters[name] = parse_cluster(r, name, kv.second);
    }
  }
  DeclaredTypes declared;  // the type of each param's default types its overrides
  if (spec["params"]) {
    r.require_map(spec["params"], "spec.params");
    for (const auto& kv : spec["params"]) {
      const std::string key = kv.first.as<std::string>();
      if (!is_param_name(key)) {
        throw invalid_at(r.mark(kv.first), fmt::format("spec.params: param name \"{}\" is not valid", key),
                         kParamNameHint);
      }
      wf.params[key] = r.to_json(kv.second);
      wf.param_marks[key] = r.mark(kv.first);
      declared[key] = yaml_type(kv.second);
    }
  }
  apply_overrides(wf.params, declared, options);
  for (auto it = wf.params.begin(); it != wf.params.end(); ++it) {
    if (it.value().is_null()) {
      throw invalid_at(wf.param_marks[it.key()], fmt::format("workflow param \"{}\" is required", it.key()),
                       fmt::format("give it on the command line: -p {}=VALUE", it.key()));
    }
  }
  Defaults defaults;
  if (spec["defaults"]) defaults = parse_defaults(r, spec["defaults"]);
  if (!spec["steps"] || !spec["steps"].IsSequence() || spec["steps"].size() == 0) {
    throw invalid_at(r.mark(spec["steps"] ? spec["steps"] : spec), "spec.steps must be a non-empty list of steps");
  }
  wf.steps.reserve(spec["steps"].size());
  AppCache apps;
  for (const auto& node : spec["steps"]) wf.steps.push_back(parse_step(r, node, defaults, wf.dir, apps));
  inspect_inline_apps(wf.steps, options.inspect);  // before validation: it checks params against them
  validate_workflow(wf);
  return wf;
}

Workflow load_workflow(const std::string& path, const LoadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InvalidInput(fmt::format("{}: cannot read workflow: {}", path, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  return load_workflow_text(text.str(), path, options);
}

Workflow load_workflow(const std::string& path) {
  const LoadOptions defaults;
  return load_workflow(path, defaults);
}

Workflow load_workflow_text(const std::string& text, const std::string& file) {
  const LoadOptions defaults;
  return load_workflow_text(text, file, defaults);
}

}  // namespace krdc::workflow
