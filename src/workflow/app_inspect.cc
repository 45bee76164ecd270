#include "krdc/workflow/app_inspect.h"

#include <stdlib.h>
#include <unistd.h>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "krdc/util/child_process.h"
#include "krdc/util/env.h"
#include "krdc/util/errors.h"
#include "krdc/workflow/yaml_writer.h"

namespace krdc::workflow {

namespace fs = std::filesystem;

namespace {

// Runs in the app's own interpreter. Exits right after describing the first parser that is
// asked to parse, so the program's real work never starts.
constexpr const char* kShim = R"PY(
import argparse, json, os, runpy, sys
script, out = sys.argv[1], sys.argv[2]
def kind(a):
    if isinstance(a, (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse._StoreConstAction)): return "flag"
    if isinstance(a, argparse._AppendAction): return "append"
    if isinstance(a, argparse._StoreAction): return "store"
    return type(a).__name__
def plain(v):
    try:
        json.dumps(v); return v
    except Exception:
        return str(v)
def describe(parser, *args, **kwargs):
    acts = []
    for a in parser._actions:
        if isinstance(a, (argparse._HelpAction, argparse._VersionAction)): continue
        t = a.type
        tname = None if t is None else getattr(t, "__name__", str(t))
        acts.append({"dest": a.dest, "options": list(a.option_strings), "kind": kind(a), "type": tname,
                     "required": bool(a.required), "nargs": a.nargs if a.nargs is None or isinstance(a.nargs, int) else str(a.nargs),
                     "default": None if a.default is argparse.SUPPRESS else plain(a.default),
                     "choices": None if a.choices is None else [plain(c) for c in a.choices],
                     "help": a.help, "store_false": isinstance(a, argparse._StoreFalseAction)})
    with open(out, "w") as f:
        json.dump({"prog": parser.prog, "description": parser.description, "actions": acts}, f)
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
  if (action.value("kind", "") == "flag") return ParamType::kBool;
  const std::string t = action["type"].is_string() ? action["type"].get<std::string>() : "";
  if (t == "int") return ParamType::kInt;
  if (t == "float") return ParamType::kFloat;
  if (t == "Path" || t == "PosixPath" || t == "FileType") return ParamType::kPath;
  return ParamType::kString;
}

}  // namespace

App inspect_python_app(const std::string& script, const InspectOptions& options) {
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
  child.wait(60'000, options.cancel ? options.cancel->fd() : -1);
  if (!child.exited() && options.cancel && options.cancel->cancelled()) {
    throw Interrupted(fmt::format("{}: inspection cancelled", script));
  }
  if (!child.exited()) throw InvalidInput(fmt::format("{}: inspecting took over 60 s (does it block before parse_args?)", script));
  const std::string text = slurp(out.path);
  if (child.exit_code() != 0 || text.empty()) {
    std::string err = slurp(log.path);
    if (err.size() > 2000) err = err.substr(err.size() - 2000);
    throw InvalidInput(fmt::format("{}: could not read its argparse interface (exit {}):\n{}", script, child.exit_code(), err),
                       "the program must build an argparse.ArgumentParser and call parse_args()");
  }
  const auto described = nlohmann::json::parse(text);
  App app;
  app.name = options.name.empty() ? abs.parent_path().filename().string() : options.name;
  app.dir = abs.parent_path().string();
  app.image = options.image;
  app.command = {"python3", abs.filename().string()};
  app.has_interface = true;
  for (const auto& a : described["actions"]) {
    ParamSpec p;
    const auto opts = a["options"].get<std::vector<std::string>>();
    for (const auto& o : opts) {
      if (o.rfind("--", 0) == 0 && (p.flag.empty() || p.flag.rfind("--", 0) != 0)) p.flag = o;
    }
    if (p.flag.empty() && !opts.empty()) p.flag = opts.front();
    p.name = a["dest"].get<std::string>();
    if (a.value("store_false", false)) {
      // `--no-cache` (dest "cache"): the workflow says no-cache: true to pass the flag.
      p.name = p.flag.substr(p.flag.find_first_not_of('-'));
    }
    p.type = type_from_python(a);
    p.required = a.value("required", false);
    if (!a["nargs"].is_null() && a.value("kind", "") != "flag") {
      p.nargs = a["nargs"].is_number() ? std::to_string(a["nargs"].get<int>()) : a["nargs"].get<std::string>();
      if (p.nargs == "1") p.nargs.clear();
      if (p.nargs == "?" || p.nargs == "*") p.required = false;
    }
    p.append = a.value("kind", "") == "append";
    if (p.type != ParamType::kBool && !a["default"].is_null()) p.default_value = a["default"];
    if (a["choices"].is_array()) {
      for (const auto& c : a["choices"]) p.choices.push_back(c);
    }
    if (a["help"].is_string()) p.help = a["help"].get<std::string>();
    app.params.push_back(std::move(p));
  }
  for (const auto& o : options.outputs) app.outputs.push_back({o, ""});
  return app;
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
    if (!p.choices.empty()) {
      y << YAML::Key << "choices" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const auto& c : p.choices) emit_json(c);
      y << YAML::EndSeq;
    }
    if (!p.help.empty()) y << YAML::Key << "help" << YAML::Value << p.help;
    y << YAML::EndMap;
  }
  y << YAML::EndSeq;
  if (!app.outputs.empty()) {
    y << YAML::Key << "outputs" << YAML::Value << YAML::BeginSeq;
    for (const auto& o : app.outputs) y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << o.name << YAML::EndMap;
    y << YAML::EndSeq;
  }
  y << YAML::EndMap << YAML::EndMap;
  return std::string(y.c_str()) + "\n";
}

}  // namespace krdc::workflow
