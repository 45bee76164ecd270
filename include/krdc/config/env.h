#pragma once
// Environment lookup as a value, so precedence rules (flag > env > workflow > config) are
// testable without mutating the process environment.
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace krdc::config {

// Returns the variable's value; unset and empty both count as "not set".
using Env = std::function<std::optional<std::string>(const std::string& name)>;

Env process_env();
Env fixed_env(std::map<std::string, std::string> values);  // for tests

// True when krdc must never prompt: --non-interactive, CI set (and not "false"/"0"), or stdin
// not a terminal.
bool non_interactive(bool flag, const Env& env);

}  // namespace krdc::config
