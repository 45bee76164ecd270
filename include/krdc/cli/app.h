#pragma once
// The whole command tree in one place: main parses with it, and the tests walk it to check
// that completions and the man page name every command and flag (tests/unit/test_cli_docs.cc).
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "krdc/cli/commands.h"

namespace krdc::cli {

// Global options, every subcommand group, help footer and --version on `app`.
void build_cli(CLI::App& app, GlobalOptions& global, Action& action);

// A parse error as a plain sentence for people, with a "did you mean" for a mistyped command.
// `args` are the words after the program name.
std::string usage_message(const CLI::App& app, const CLI::ParseError& error, const std::vector<std::string>& args);

// The command `args` name, as far as they name one: "krdc", "krdc run", "krdc app inspect".
std::string command_path(const CLI::App& app, const std::vector<std::string>& args);

// The command word in `args` that is not a command of the app it was given to ("valdate"),
// with the closest real command, if any; empty `word` when every command word is known.
struct UnknownCommand {
  std::string word;
  std::string parent;      // "krdc" or "krdc app"
  std::string suggestion;  // closest command name, empty when nothing is close
};
UnknownCommand find_unknown_command(const CLI::App& app, const std::vector<std::string>& args);

}  // namespace krdc::cli
