#pragma once
// Inline apps that run a Python file (`app: {command: [python3, main.py]}`) get their interface
// from the program's own argparse at load time, as if they had a krdc-app.yaml: unknown params
// are refused, values checked, lists rendered the way argparse reads them
// (docs/architecture.md, "App interfaces"). Derived interfaces are cached by the program's
// digest, so a cache hit spawns no interpreter.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "krdc/util/cancel.h"
#include "krdc/workflow/workflow.h"

namespace krdc::workflow {

struct InlineInspection {
  bool enabled = false;        // the CLI turns it on; --no-inspect (and library callers) leave it off
  std::string cache_dir;       // empty: nothing is kept between loads
  std::string python;          // empty: the interpreter the app's command names
  long long timeout_ms = 10'000;
  const util::CancelToken* cancel = nullptr;  // Ctrl-C stops a running inspection (not owned)
  bool verbose = false;        // -v: also say why a cluster step's app was not inspected
  // Where the one-line notices go ("step \"x\": ..."); empty: stderr.
  std::function<void(const std::string&)> notice;
};

// The Python program a command runs: [python3, -u, main.py] → "main.py". nullopt, with the
// reason in `why_not`, for anything else ([sh, -c, ...], [python3, -m, pkg]).
std::optional<std::string> python_script_of(const std::vector<std::string>& command, std::string& why_not);

// Gives every inline app without a params list that runs a Python file the interface its
// argparse declares. An app that cannot be inspected keeps the plain --key=value rendering,
// with a notice; only an interruption (Ctrl-C) is thrown.
void inspect_inline_apps(std::vector<Step>& steps, const InlineInspection& options);

}  // namespace krdc::workflow
