#pragma once
// `krdc run`: options and the function that wires loader → plan → runner → result file.
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "krdc/cli/options.h"
#include "krdc/workflow/inline_inspect.h"
#include "krdc/workflow/loader.h"

namespace krdc::cli {

struct RunArgs {
  std::string file;
  std::vector<std::string> params;  // -p KEY=VALUE, typed by each param's default
  std::string params_file;          // --params-file FILE.yaml (-p wins over it)
  // The params a run recorded in its header (attach): applied as they are, typed already.
  nlohmann::json recorded_params = nlohmann::json::object();
  int jobs = 0;  // 0: number of cores
  std::string results;
  std::string run_dir;
  std::string resume;
  bool resume_given = false;
  bool fail_fast = false;
  bool dry_run = false;
  bool check_only = false;
  bool follow = false;
  std::string kill_grace = "5s";
  std::string kubeconfig;  // --kubeconfig: reach the local cluster through this kubeconfig
  std::string context;     // --context: that kubeconfig context (default: current-context)
  bool detach = false;     // --detach: start what is ready on the clusters, then exit
  bool no_inspect = false; // --no-inspect: inline Python apps keep the unchecked --key=value rendering
};

int run_workflow(const RunArgs& args, const GlobalOptions& global);

// `krdc attach RESULTS`: the run recorded last in RESULTS, resumed from its own workflow file
// and params: adopts what it left running and runs the rest (docs/architecture.md, "Reattach").
// `base` carries the run options that are not the run's own (-j, --follow, kubeconfig).
int attach_run(const std::string& results, RunArgs base, const GlobalOptions& global);

// How `run`, `validate` and `attach` load inline Python apps: inspected (cached under
// $XDG_CACHE_HOME/krdc/apps), unless --no-inspect; Ctrl-C stops an inspection.
workflow::InlineInspection inline_inspection(const GlobalOptions& global, bool no_inspect);

// "-p KEY=VALUE" items → map; throws InvalidInput on a malformed item.
std::map<std::string, std::string> parse_param_overrides(const std::vector<std::string>& items);

// -p items and --params-file as the loader takes them.
workflow::LoadOptions load_options(const std::vector<std::string>& params, const std::string& params_file);

}  // namespace krdc::cli
