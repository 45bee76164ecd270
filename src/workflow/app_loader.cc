#include "krdc/workflow/app_loader.h"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <set>

#include "krdc/workflow/names.h"
#include "krdc/workflow/scalar_text.h"

namespace krdc::workflow {

namespace fs = std::filesystem;

namespace {

bool json_matches_type(const nlohmann::json& value, ParamType type) {
  switch (type) {
    case ParamType::kString:
    case ParamType::kPath: return value.is_string();
    // Exact numbers such as 0.10 are kept as their text (scalar_text.h).
    case ParamType::kInt: return value.is_number_integer() || (value.is_string() && is_int_text(value.get<std::string>()));
    case ParamType::kFloat: return value.is_number() || (value.is_string() && is_float_text(value.get<std::string>()));
    case ParamType::kBool: return value.is_boolean();
  }
  return false;
}

// The largest nargs count accepted: argv stays small, and the count fits every integer type
// that later reads it back (check_param).
constexpr int kMaxNargs = 1000;

std::string validate_nargs(const YamlReader& r, const YAML::Node& node, const std::string& what) {
  const std::string nargs = r.get_string(node, what);
  if (nargs == "?" || nargs == "*" || nargs == "+") return nargs;
  int count = 0;
  auto [ptr, ec] = std::from_chars(nargs.data(), nargs.data() + nargs.size(), count);
  if (!nargs.empty() && nargs[0] != '-' && ec == std::errc() && ptr == nargs.data() + nargs.size() && count >= 1 &&
      count <= kMaxNargs) {
    return count == 1 ? std::string() : std::to_string(count);
  }
  throw invalid_at(r.mark(node), fmt::format("{} must be ?, *, + or a count from 1 to {}, found \"{}\"", what,
                                             kMaxNargs, nargs));
}

// A flag as argparse declares it: "-x" or "--some-name", nothing that argv could split.
bool valid_flag(const std::string& flag) {
  const size_t dashes = flag.rfind("--", 0) == 0 ? 2 : 1;
  if (flag.size() <= dashes || flag[0] != '-') return false;
  for (size_t i = dashes; i < flag.size(); ++i) {
    const char c = flag[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return flag[dashes] != '-';
}

ParamSpec parse_param(const YamlReader& r, const YAML::Node& node, const std::string& app_what) {
  r.check_keys(node, {"name", "flag", "type", "required", "default", "choices", "nargs", "action", "help"},
               app_what + " param");
  ParamSpec p;
  if (!node["name"]) throw invalid_at(r.mark(node), app_what + " param: missing field \"name\"");
  p.name = r.get_string(node["name"], app_what + " param name");
  if (!is_param_name(p.name)) {
    throw invalid_at(r.mark(node["name"]), fmt::format("{} param name \"{}\" is not valid", app_what, p.name),
                     kParamNameHint);
  }
  const std::string what = fmt::format("{} param \"{}\"", app_what, p.name);
  if (node["flag"]) {
    p.flag = r.get_string(node["flag"], what + " flag");
    if (!p.flag.empty() && p.flag[0] != '-') {
      throw invalid_at(r.mark(node["flag"]), what + ": flag must start with '-' (leave it out for a positional)");
    }
    if (!p.flag.empty() && !valid_flag(p.flag)) {
      throw invalid_at(r.mark(node["flag"]), fmt::format("{}: flag \"{}\" is not valid", what, p.flag),
                       "write it as argparse declares it: -x or --some-name");
    }
  } else {
    p.flag = "--" + p.name;
  }
  if (node["type"]) {
    const std::string t = r.get_string(node["type"], what + " type");
    auto type = param_type_from_string(t);
    if (!type) {
      throw invalid_at(r.mark(node["type"]), fmt::format("{}: unknown type \"{}\"", what, t),
                       "use one of: str, int, float, bool, path");
    }
    p.type = *type;
  }
  if (node["required"]) p.required = r.get_bool(node["required"], what + " required");
  if (node["nargs"]) p.nargs = validate_nargs(r, node["nargs"], what + " nargs");
  if (node["action"]) {
    const std::string action = r.get_string(node["action"], what + " action");
    if (action == "append") {
      p.append = true;
    } else if (action == "store_true" || action == "store_false" || action == "store_const" ||
               action == "append_const") {
      p.type = ParamType::kBool;  // a switch: true passes the flag
    } else if (action == "count") {
      if (node["type"] && p.type != ParamType::kInt) {
        throw invalid_at(r.mark(node["type"]), what + ": action count takes an int (how many times the flag is given)");
      }
      p.type = ParamType::kInt;
      p.count = true;
    } else if (action != "store") {
      throw invalid_at(r.mark(node["action"]), fmt::format("{}: unsupported action \"{}\"", what, action),
                       "supported: store, store_true, store_false, store_const, append, append_const, count");
    }
  }
  if (p.count && (p.flag.empty() || !p.nargs.empty() || node["choices"])) {
    throw invalid_at(r.mark(node), what + ": action count needs a flag and takes no nargs or choices");
  }
  if (node["choices"]) {
    if (!node["choices"].IsSequence()) throw invalid_at(r.mark(node["choices"]), what + ": choices must be a list");
    for (const auto& c : node["choices"]) {
      auto value = r.to_json(c);
      if (!json_matches_type(value, p.type)) {
        throw invalid_at(r.mark(c), fmt::format("{}: choice {} is not of type {}", what, value.dump(), to_string(p.type)));
      }
      p.choices.push_back(value);
    }
  }
  if (node["default"]) p.default_value = r.to_json(node["default"]);
  if (node["help"]) p.help = r.get_string(node["help"], what + " help");
  if (p.flag.empty() && p.type == ParamType::kBool) {
    throw invalid_at(r.mark(node), what + ": a bool param needs a flag (argparse store_true)");
  }
  return p;
}

// `exclusive: [{params: [a, b], required: true}]`: argparse's mutually exclusive groups,
// checked against each step's params at validation.
std::vector<ExclusiveGroup> parse_exclusive(const YamlReader& r, const YAML::Node& node, const App& app,
                                            const std::string& what) {
  if (!node.IsSequence()) throw invalid_at(r.mark(node), what + ": exclusive must be a list of {params: [...]}");
  std::vector<ExclusiveGroup> groups;
  std::set<std::string> grouped;
  for (const auto& g : node) {
    r.require_map(g, what + " exclusive group");
    r.check_keys(g, {"params", "required"}, what + " exclusive group");
    if (!g["params"]) throw invalid_at(r.mark(g), what + " exclusive group: missing field \"params\"");
    ExclusiveGroup group;
    group.params = r.get_string_list(g["params"], what + " exclusive group params");
    if (g["required"]) group.required = r.get_bool(g["required"], what + " exclusive group required");
    if (group.params.size() < 2 && !group.required) {
      throw invalid_at(r.mark(g["params"]), what + ": an exclusive group names at least two params");
    }
    for (const auto& name : group.params) {
      if (!app.find_param(name)) {
        throw invalid_at(r.mark(g["params"]), fmt::format("{}: exclusive group names \"{}\", which is not a param of "
                                                          "the app", what, name));
      }
      if (!grouped.insert(name).second) {
        throw invalid_at(r.mark(g["params"]), fmt::format("{}: param \"{}\" is in two exclusive groups", what, name));
      }
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

}  // namespace

App parse_app_spec(const YamlReader& r, const YAML::Node& spec, const std::string& what,
                   const std::string& base_dir, bool inline_app) {
  if (inline_app) {
    r.check_keys(spec, {"name", "image", "command", "dir", "params", "exclusive", "outputs", "inspect"}, what);
  } else {
    r.check_keys(spec, {"image", "command", "params", "exclusive", "outputs"}, what);
  }
  App app;
  app.is_inline = inline_app;
  if (inline_app && spec["inspect"]) app.inspect = r.get_bool(spec["inspect"], what + " inspect");
  app.mark = r.mark(spec);
  app.dir = base_dir;
  if (spec["name"]) app.name = r.get_string(spec["name"], what + " name");
  if (spec["image"]) app.image = r.get_string(spec["image"], what + " image");
  if (spec["command"]) {
    app.command = r.get_string_list(spec["command"], what + " command");
    if (!app.command.empty() && app.command[0].empty()) {
      throw invalid_at(r.mark(spec["command"]), what + ": command starts with an empty program name",
                       "give the program to run first, e.g. [python3, main.py]");
    }
  }
  // ${{ }} is substituted in step params only (docs/architecture.md, "Input limits"): here it
  // would reach the program or the image reference as written.
  for (const char* field : {"image", "command"}) {
    if (!spec[field]) continue;
    const YAML::Node node = spec[field];
    std::vector<YAML::Node> items;
    if (node.IsSequence()) {
      for (const auto& item : node) items.push_back(item);
    } else {
      items.push_back(node);
    }
    for (const auto& item : items) {
      if (item.IsScalar() && item.Scalar().find("${{") != std::string::npos) {
        throw invalid_at(r.mark(item), fmt::format("{} {}: ${{{{ }}}} is not substituted here", what, field),
                         "only step params take ${{ params.X }} and ${{ steps.S.outputs.K }}; pass the value as a param");
      }
    }
  }
  if (app.command.empty() && app.image.empty()) {
    throw invalid_at(r.mark(spec), what + ": needs a command (to run as a process) or an image (to run on a cluster)");
  }
  if (inline_app && spec["dir"]) {
    fs::path dir = r.get_string(spec["dir"], what + " dir");
    if (dir.is_relative()) dir = fs::path(base_dir) / dir;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      throw invalid_at(r.mark(spec["dir"]), fmt::format("{}: directory {} does not exist", what, dir.string()));
    }
    app.dir = fs::weakly_canonical(dir).string();
  }
  if (spec["params"]) {
    if (!spec["params"].IsSequence()) {
      throw invalid_at(r.mark(spec["params"]), what + ": params must be a list of {name, type, ...}");
    }
    app.has_interface = true;
    for (const auto& node : spec["params"]) {
      ParamSpec p = parse_param(r, node, what);
      if (app.find_param(p.name)) {
        throw invalid_at(r.mark(node), fmt::format("{}: param \"{}\" is declared twice", what, p.name));
      }
      app.params.push_back(std::move(p));
    }
  }
  if (spec["exclusive"]) app.exclusive = parse_exclusive(r, spec["exclusive"], app, what);
  if (spec["outputs"]) {
    if (!spec["outputs"].IsSequence()) throw invalid_at(r.mark(spec["outputs"]), what + ": outputs must be a list");
    for (const auto& node : spec["outputs"]) {
      OutputSpec o;
      if (node.IsScalar()) {
        o.name = node.Scalar();
        if (!is_param_name(o.name)) {
          throw invalid_at(r.mark(node), fmt::format("{}: output name \"{}\" is not valid", what, o.name), kParamNameHint);
        }
      } else {
        r.check_keys(node, {"name", "type", "help", "required"}, what + " output");
        if (!node["name"]) throw invalid_at(r.mark(node), what + " output: missing field \"name\"");
        o.name = r.get_string(node["name"], what + " output name");
        if (!is_param_name(o.name)) {
          throw invalid_at(r.mark(node["name"]), fmt::format("{}: output name \"{}\" is not valid", what, o.name),
                           kParamNameHint);
        }
        if (node["help"]) o.help = r.get_string(node["help"], what + " output help");
        if (node["required"]) o.required = r.get_bool(node["required"], fmt::format("{} output \"{}\" required", what, o.name));
      }
      app.outputs.push_back(std::move(o));
    }
  }
  return app;
}

App load_app_descriptor(const std::string& path, const SourceMark& referenced_at, const std::string& used_by) {
  try {
    return load_app_descriptor(path, referenced_at);
  } catch (const InvalidInput& e) {
    if (used_by.empty()) throw;
    const std::string message = e.what();
    // "wf.yaml:9:10: app ./x does not exist" → "wf.yaml:9:10: step "a": app ./x does not exist";
    // a complaint inside the descriptor keeps its position and says which step uses it.
    const std::string prefix = referenced_at.str() + ": ";
    if (message.rfind(prefix, 0) == 0) {
      throw InvalidInput(prefix + used_by + ": " + message.substr(prefix.size()), e.hint());
    }
    throw InvalidInput(fmt::format("{} (the app of {}, {})", message, used_by, referenced_at.str()), e.hint());
  }
}

App load_app_descriptor(const std::string& path, const SourceMark& referenced_at) {
  std::error_code ec;
  fs::path p(path);
  fs::path file = fs::is_directory(p, ec) ? p / kAppDescriptorName : p;
  if (!fs::is_regular_file(file, ec)) {
    throw invalid_at(referenced_at,
                     fs::exists(p, ec) ? fmt::format("app {} has no {}", path, kAppDescriptorName)
                                       : fmt::format("app {} does not exist", path),
                     "give a directory holding krdc-app.yaml (see `krdc app inspect`) or an inline {image, command}");
  }
  YamlReader r(file.string());
  YAML::Node root = r.parse_file();
  r.check_keys(root, {"apiVersion", "kind", "metadata", "spec"}, "app descriptor");
  if (!root["apiVersion"] || r.get_string(root["apiVersion"], "apiVersion") != "krdc/v1") {
    throw invalid_at(r.mark(root["apiVersion"] ? root["apiVersion"] : root), "app descriptor: apiVersion must be krdc/v1");
  }
  if (!root["kind"] || r.get_string(root["kind"], "kind") != "App") {
    throw invalid_at(r.mark(root["kind"] ? root["kind"] : root), "app descriptor: kind must be App");
  }
  if (!root["spec"]) throw invalid_at(r.mark(root), "app descriptor: missing field \"spec\"");
  App app = parse_app_spec(r, root["spec"], "app", fs::weakly_canonical(file.parent_path()).string(), false);
  if (root["metadata"]) {
    r.check_keys(root["metadata"], {"name", "description"}, "app metadata");
    if (root["metadata"]["name"]) app.name = r.get_string(root["metadata"]["name"], "app name");
  }
  if (app.name.empty()) app.name = file.parent_path().filename().string();
  return app;
}

}  // namespace krdc::workflow
