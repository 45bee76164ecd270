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
  // Stops the inspection early (the program is killed; Interrupted is thrown). Not owned.
  const util::CancelToken* cancel = nullptr;
};

App inspect_python_app(const std::string& script, const InspectOptions& options);

// The descriptor YAML for an app (what `krdc app inspect` prints and krdc-app.yaml holds).
std::string app_to_yaml(const App& app);

}  // namespace krdc::workflow
