#pragma once
// An app: what to run (image for clusters, command for the process executor) and its
// argparse interface, so a workflow's params are checked before a single job starts.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "krdc/workflow/source_mark.h"

namespace krdc::workflow {

enum class ParamType { kString, kInt, kFloat, kBool, kPath };

const char* to_string(ParamType type);
std::optional<ParamType> param_type_from_string(const std::string& text);

// One argparse argument.
struct ParamSpec {
  std::string name;             // the workflow key, e.g. "resolution"
  std::string flag;             // e.g. "--resolution"; empty for a positional argument
  ParamType type = ParamType::kString;
  bool required = false;
  nlohmann::json default_value;  // null when none
  std::vector<nlohmann::json> choices;
  // argparse nargs: "" (one value), "?", "*", "+", or a count such as "2".
  std::string nargs;
  bool append = false;           // action="append": lists render as a repeated flag
  // action="count" (-v -v): an int N ≥ 0 renders the flag N times.
  bool count = false;
  std::string help;

  bool takes_list() const { return !nargs.empty() && nargs != "?"; }
};

// argparse's add_mutually_exclusive_group: at most one member given (exactly one if required).
struct ExclusiveGroup {
  std::vector<std::string> params;  // param names
  bool required = false;
};

struct OutputSpec {
  std::string name;
  std::string help;
  // A declared output is a promise: a step whose app exits 0 without writing it fails
  // (exec::enforce_declared_outputs). `required: false` in the descriptor makes it optional.
  bool required = true;
};

struct App {
  std::string name;
  std::string dir;                   // absolute directory the process executor runs in
  std::string image;                 // container image for the kube executors
  std::vector<std::string> command;  // argv prefix, e.g. ["python3", "main.py"]
  // False for an inline app without a parameter list: params are then rendered as
  // --key=value without checks (the app's interface is unknown to krdc).
  bool has_interface = false;
  std::vector<ParamSpec> params;
  std::vector<ExclusiveGroup> exclusive;
  std::vector<OutputSpec> outputs;
  // Defined in the workflow (`app: {command: ...}`), not in a krdc-app.yaml.
  bool is_inline = false;
  // An inline app's `inspect:` switch: false keeps krdc from asking its argparse.
  bool inspect = true;
  // Set when the interface was derived by inspecting the app's Python file: the cache key
  // (script bytes + shim), part of a step's inputs digest (docs/architecture.md, "App interfaces").
  std::string interface_digest;
  SourceMark mark;                   // where the app was defined (descriptor or inline)

  const ParamSpec* find_param(const std::string& name) const;
  bool declares_output(const std::string& name) const;
};

}  // namespace krdc::workflow
