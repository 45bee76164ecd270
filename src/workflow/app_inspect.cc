#include "krdc/workflow/app_inspect.h"

#include <stdlib.h>
#include <unistd.h>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "krdc/util/child_process.h"
#include "krdc/util/digest.h"
#include "krdc/util/env.h"
#include "krdc/util/errors.h"
#include "krdc/workflow/yaml_writer.h"

namespace krdc::workflow {

namespace fs = std::filesystem;

namespace {

// Runs in the app's own interpreter. Exits right after describing the first parser that is
// asked to parse, so the program's real work never starts. Each action is reported with the
// argparse action class it is (subclasses first: store_true is a store_const), and each
// mutually exclusive group by the indices of its actions.
constexpr const char* kShim = R"PY(
import argparse, json, os, runpy, sys
script, out = sys.argv[1], sys.argv[2]
KINDS = [(argparse._StoreTrueAction, "store_true"), (argparse._StoreFalseAction, "store_false"),
         (argparse._StoreConstAction, "store_const"), (argparse._AppendConstAction, "append_const"),
         (argparse._CountAction, "count"), (getattr(argparse, "_ExtendAction", ()), "extend"),
         (argparse._AppendAction, "append"), (argparse._SubParsersAction, "subparsers"),
         (getattr(argparse, "BooleanOptionalAction", ()), "boolean_optional"), (argparse._StoreAction, "store")]
def kind(a):
    for cls, name in KINDS:
        if cls and type(a) is cls: return name
    return "custom:" + type(a).__name__
def plain(v):
    try:
        json.dumps(v); return v
    except Exception:
        return str(v)
def describe(parser, *args, **kwargs):
    acts, index = [], {}
    for a in parser._actions:
        if isinstance(a, (argparse._HelpAction, argparse._VersionAction)): continue
        t = a.type
        tname = None if t is None else getattr(t, "__name__", str(t))
        index[id(a)] = len(acts)
        acts.append({"dest": a.dest, "options": list(a.option_strings), "kind": kind(a), "type": tname,
                     "required": bool(a.required), "nargs": a.nargs if a.nargs is None or isinstance(a.nargs, int) else str(a.nargs),
                     "default": None if a.default is argparse.SUPPRESS else plain(a.default),
                     "choices": None if a.choices is None else [plain(c) for c in a.choices],
                     "help": None if a.help is argparse.SUPPRESS else a.help})
    groups = [{"actions": [index[id(a)] for a in g._group_actions if id(a) in index], "required": bool(g.required)}
              for g in parser._mutually_exclusive_groups]
    with open(out, "w") as f:
        json.dump({"prog": parser.prog, "description": parser.description, "actions": acts, "groups": groups}, f)
    os._exit(0)
argparse.ArgumentParser.parse_known_args = describe
sys.argv = [script]
sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
runpy.run_path(script, run_name="__main__")
sys.stderr.write("krdc: the program finished without calling parse_args\n")
os._exit(3)
)PY";

// Removes a temporary file on every path out.
struct TempFile {
  std::string path;
  TempFile() {
    std::string tmpl = (fs::temp_directory_path() / "krdc-inspect-XXXXXX").string();
    const int fd = mkstemp(tmpl.data());
    if (fd < 0) throw Error(ExitCode::kInvalid, "cannot create a temporary file");
    close(fd);
    path = tmpl;
  }
  ~TempFile() { unlink(path.c_str()); }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

ParamType type_from_python(const nlohmann::json& action) {
  const std::string t = action["type"].is_string() ? action["type"].get<std::string>() : "";
  if (t == "int") return ParamType::kInt;
  if (t == "float") return ParamType::kFloat;
  if (t == "Path" || t == "PosixPath" || t == "FileType") return ParamType::kPath;
  return ParamType::kString;
}

std::string flag_of(const std::vector<std::string>& options) {
  std::string flag;
  for (const auto& o : options) {
    if (o.rfind("--", 0) == 0 && (flag.empty() || flag.rfind("--", 0) != 0)) flag = o;
  }
  if (flag.empty() && !options.empty()) flag = options.front();
  return flag;
}

// The workflow key of a flag: "--no-cache" → "no-cache".
std::string name_of_flag(const std::string& flag) { return flag.substr(flag.find_first_not_of('-')); }

// One argparse action → the params that stand for it (a --flag/--no-flag pair is two).
// Actions krdc cannot render are refused naming the argument, never approximated.
std::vector<ParamSpec> params_of(const nlohmann::json& a, const std::string& script) {
  const std::string kind = a.value("kind", "");
  const std::string dest = a["dest"].get<std::string>();
  const auto options = a["options"].get<std::vector<std::string>>();
  ParamSpec p;
  p.flag = flag_of(options);
  p.name = dest;
  p.required = a.value("required", false);
  if (a["help"].is_string()) p.help = a["help"].get<std::string>();
  if (kind == "store_true" || kind == "store_false" || kind == "store_const" || kind == "append_const") {
    // A switch: `name: true` passes the flag. Const actions often share one dest (--fast and
    // --slow both set "mode"), and store_false's dest reads backwards (--no-cache sets
    // "cache"), so these take the flag's name.
    p.type = ParamType::kBool;
    if (kind != "store_true") p.name = name_of_flag(p.flag);
    return {p};
  }
  if (kind == "boolean_optional") {
    // --x / --no-x: two switches; argparse takes the last one given.
    std::vector<ParamSpec> pair;
    for (const auto& o : options) {
      ParamSpec s = p;
      s.flag = o;
      s.name = name_of_flag(o);
      s.type = ParamType::kBool;
      s.required = false;
      pair.push_back(std::move(s));
    }
    return pair;
  }
  if (kind == "count") {
    p.type = ParamType::kInt;
    p.count = true;
    if (a["default"].is_number_integer()) p.default_value = a["default"];
    return {p};
  }
  if (kind == "subparsers") {
    std::string names;
    if (a["choices"].is_array()) {
      for (const auto& c : a["choices"]) names += (names.empty() ? "" : ", ") + c.get<std::string>();
    }
    throw InvalidInput(fmt::format("{}: argument \"{}\" is a sub-command (subparsers: {}), which krdc cannot describe",
                                   script, dest == "==SUPPRESS==" ? "command" : dest, names),
                       "give each sub-command its own app, or write krdc-app.yaml by hand for the one the workflow uses");
  }
  if (kind != "store" && kind != "append" && kind != "extend") {
    throw InvalidInput(fmt::format("{}: argument \"{}\" uses action {}, which krdc cannot describe", script,
                                   p.flag.empty() ? dest : p.flag, kind.rfind("custom:", 0) == 0 ? kind.substr(7) : kind),
                       "supported: store, store_true, store_false, store_const, append, append_const, extend, count");
  }
  p.type = type_from_python(a);
  if (!a["nargs"].is_null()) {
    p.nargs = a["nargs"].is_number() ? std::to_string(a["nargs"].get<int>()) : a["nargs"].get<std::string>();
    if (p.nargs == "1") p.nargs.clear();
    if (p.nargs == "?" || p.nargs == "*") p.required = false;
    if (p.nargs == "A..." || p.nargs == "...") {
      throw InvalidInput(fmt::format("{}: argument \"{}\" takes the rest of the command line (nargs=REMAINDER), which "
                                     "krdc cannot describe", script, dest));
    }
    if (p.nargs == "0") {
      throw InvalidInput(fmt::format("{}: argument \"{}\" takes no value (nargs=0)", script, dest),
                         "declare it with action=\"store_true\"");
    }
  }
  // extend: `--x a b --x c` gives [a, b, c]; one `--x a b` says the same.
  p.append = kind == "append" || (kind == "extend" && p.nargs.empty());
  if (!a["default"].is_null()) p.default_value = a["default"];
  if (a["choices"].is_array()) {
    for (const auto& c : a["choices"]) p.choices.push_back(c);
  }
  return {p};
}

void fill_groups(App& app, const nlohmann::json& described, const std::vector<std::vector<std::string>>& names_of) {
  if (!described.contains("groups")) return;
  for (const auto& g : described["groups"]) {
    ExclusiveGroup group;
    group.required = g.value("required", false);
    for (const auto& i : g["actions"]) {
      const auto k = i.get<size_t>();
      if (k < names_of.size()) group.params.insert(group.params.end(), names_of[k].begin(), names_of[k].end());
    }
    if (group.params.size() >= 2 || group.required) app.exclusive.push_back(std::move(group));
  }
}

}  // namespace

std::string inspect_shim_digest() { return util::sha256_digest(kShim); }

std::string describe_python_program(const std::string& script, const InspectOptions& options) {
  std::error_code ec;
  if (!fs::is_regular_file(script, ec)) throw InvalidInput(fmt::format("{}: no such Python file", script));
  const fs::path abs = fs::weakly_canonical(fs::absolute(script));
  TempFile out, log;
  util::SpawnSpec spec;
  spec.argv = {options.python, "-c", kShim, abs.string(), out.path};
  spec.env = util::child_environment({});
  spec.cwd = abs.parent_path().string();
  spec.output_file = log.path;
  util::ChildProcess child(spec);
  const long long limit = std::max(1LL, options.timeout_ms);
  child.wait(static_cast<int>(std::min<long long>(limit, 3'600'000)), options.cancel ? options.cancel->fd() : -1);
  if (!child.exited() && options.cancel && options.cancel->cancelled()) {
    throw Interrupted(fmt::format("{}: inspection cancelled", script));
  }
  if (!child.exited()) {
    throw InvalidInput(fmt::format("{}: inspecting took over {} s (does it block before parse_args?)", script,
                                   (limit + 999) / 1000));
  }
  std::string text = slurp(out.path);
  if (child.exit_code() != 0 || text.empty()) {
    std::string err = slurp(log.path);
    if (err.size() > 2000) err = err.substr(err.size() - 2000);
    throw InvalidInput(fmt::format("{}: could not read its argparse interface (exit {}):\n{}", script, child.exit_code(), err),
                       "the program must build an argparse.ArgumentParser and call parse_args()");
  }
  return text;
}

App app_from_description(const std::string& description, const std::string& script, const InspectOptions& options) {
  const fs::path abs = fs::weakly_canonical(fs::absolute(script));
  nlohmann::json described;
  try {
    described = nlohmann::json::parse(description);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidInput(fmt::format("{}: unreadable interface description: {}", script, e.what()));
  }
  App app;
  app.name = options.name.empty() ? abs.parent_path().filename().string() : options.name;
  app.dir = abs.parent_path().string();
  app.image = options.image;
  app.command = {"python3", abs.filename().string()};
  app.has_interface = true;
  std::vector<std::vector<std::string>> names_of;  // per action: the params it became
  try {
    for (const auto& a : described.at("actions")) {
      names_of.emplace_back();
      for (auto& p : params_of(a, script)) {
        if (app.find_param(p.name)) {
          throw InvalidInput(fmt::format("{}: two arguments both become param \"{}\"", script, p.name),
                             "give them distinct dest= or flags");
        }
        names_of.back().push_back(p.name);
        app.params.push_back(std::move(p));
      }
    }
    fill_groups(app, described, names_of);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidInput(fmt::format("{}: unreadable interface description: {}", script, e.what()));
  }
  for (const auto& o : options.outputs) app.outputs.push_back({o, ""});
  return app;
}

App inspect_python_app(const std::string& script, const InspectOptions& options) {
  return app_from_description(describe_python_program(script, options), script, options);
}

std::string app_to_yaml(const App& app) {
  YAML::Emitter y;
  y << YAML::BeginMap;
  y << YAML::Key << "apiVersion" << YAML::Value << "krdc/v1";
  y << YAML::Key << "kind" << YAML::Value << "App";
  y << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap << YAML::Key << "name" << YAML::Value << app.name
    << YAML::EndMap;
  y << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  if (!app.image.empty()) y << YAML::Key << "image" << YAML::Value << app.image;
  y << YAML::Key << "command" << YAML::Value << YAML::Flow << app.command;
  y << YAML::Key << "params" << YAML::Value << YAML::BeginSeq;
  auto emit_json = [&](const nlohmann::json& v) { workflow::emit_json(y, v); };
  for (const auto& p : app.params) {
    y << YAML::BeginMap;
    y << YAML::Key << "name" << YAML::Value << p.name;
    if (p.flag.empty() || p.flag != "--" + p.name) y << YAML::Key << "flag" << YAML::Value << p.flag;
    y << YAML::Key << "type" << YAML::Value << to_string(p.type);
    if (p.required) y << YAML::Key << "required" << YAML::Value << true;
    if (!p.default_value.is_null()) {
      y << YAML::Key << "default" << YAML::Value;
      emit_json(p.default_value);
    }
    if (!p.nargs.empty()) y << YAML::Key << "nargs" << YAML::Value << p.nargs;
    if (p.append) y << YAML::Key << "action" << YAML::Value << "append";
    if (p.count) y << YAML::Key << "action" << YAML::Value << "count";
    if (!p.choices.empty()) {
      y << YAML::Key << "choices" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const auto& c : p.choices) emit_json(c);
      y << YAML::EndSeq;
    }
    if (!p.help.empty()) y << YAML::Key << "help" << YAML::Value << p.help;
    y << YAML::EndMap;
  }
  y << YAML::EndSeq;
  if (!app.exclusive.empty()) {
    y << YAML::Key << "exclusive" << YAML::Value << YAML::BeginSeq;
    for (const auto& g : app.exclusive) {
      y << YAML::Flow << YAML::BeginMap << YAML::Key << "params" << YAML::Value << YAML::Flow << g.params;
      if (g.required) y << YAML::Key << "required" << YAML::Value << true;
      y << YAML::EndMap;
    }
    y << YAML::EndSeq;
  }
  if (!app.outputs.empty()) {
    y << YAML::Key << "outputs" << YAML::Value << YAML::BeginSeq;
    for (const auto& o : app.outputs) y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << o.name << YAML::EndMap;
    y << YAML::EndSeq;
  }
  y << YAML::EndMap << YAML::EndMap;
  return std::string(y.c_str()) + "\n";
}

}  // namespace krdc::workflow
