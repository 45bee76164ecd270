#pragma once
// `krdc app inspect main.py`: derive an app descriptor from a real Python argparse program
// by asking argparse itself. A small shim replaces ArgumentParser.parse_known_args, runs the
// program with runpy up to its parse call, and dumps the parser's actions as JSON.
// (The program's top level runs up to that point: imports happen as in a real run.)
#include <string>
#include <vector>

#include "krdc/util/cancel.h"
#include "krdc/workflow/app.h"

namespace krdc::workflow {

struct InspectOptions {
  std::string python = "python3";
  std::string name;                  // default: the script's directory name
  std::string image;                 // recorded as spec.image when given
  std::vector<std::string> outputs;  // declared outputs (argparse cannot know them)
  // The program gets this long to reach parse_args before it is killed and refused.
  long long timeout_ms = 60'000;
  // Stops the inspection early (the program is killed; Interrupted is thrown). Not owned.
  const util::CancelToken* cancel = nullptr;
};

// Runs the shim: the program's argparse interface as JSON text (what the cache keeps).
// Throws InvalidInput when the program cannot be asked (syntax error, no parse_args, timeout).
std::string describe_python_program(const std::string& script, const InspectOptions& options);

// That JSON → an app whose params are the parser's arguments. Throws InvalidInput for an
// argument krdc cannot render (subparsers, nargs=REMAINDER, custom actions), naming it.
App app_from_description(const std::string& description, const std::string& script, const InspectOptions& options);

// Both: what `krdc app inspect` prints.
App inspect_python_app(const std::string& script, const InspectOptions& options);

// Changes whenever the shim does: part of every inspection cache key.
std::string inspect_shim_digest();

// The descriptor YAML for an app (what `krdc app inspect` prints and krdc-app.yaml holds).
std::string app_to_yaml(const App& app);

}  // namespace krdc::workflow
