#pragma once
// Each group of subcommands registers itself on the root app. A registration stores the work
// to do in `action`; main runs it after parsing, inside the one place that maps errors to
// exit codes. Adding a command group means one new src/cli/*_commands.cc and one line in main.
#include <CLI/CLI.hpp>
#include <functional>

#include "krdc/cli/options.h"

namespace krdc::cli {

// What a parsed subcommand will do; returns the process exit code.
using Action = std::function<int()>;

void add_workflow_commands(CLI::App& app, GlobalOptions& global, Action& action);  // run, validate, report
void add_app_commands(CLI::App& app, GlobalOptions& global, Action& action);       // app inspect
void add_misc_commands(CLI::App& app, GlobalOptions& global, Action& action);      // version, completion
void add_auth_commands(CLI::App& app, GlobalOptions& global, Action& action);      // login, logout, whoami, token, auth check
void add_proxy_commands(CLI::App& app, GlobalOptions& global, Action& action);     // proxy (in-cluster half of a remote step)
void add_results_commands(CLI::App& app, GlobalOptions& global, Action& action);   // status, logs, export

}  // namespace krdc::cli
