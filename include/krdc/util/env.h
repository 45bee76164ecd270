#pragma once
// The environment handed to apps: krdc's own, minus every credential krdc may hold.
#include <map>
#include <string>
#include <vector>

namespace krdc::util {

// True for variables that carry krdc credentials (KRDC_TOKEN, KRDC_CLIENT_SECRET, ...):
// they are for krdc, never for the apps it runs.
bool is_secret_env(const std::string& name);

// Current environment without secrets, with `extra` set on top, as "KEY=VALUE" strings.
std::vector<std::string> child_environment(const std::map<std::string, std::string>& extra);

}  // namespace krdc::util
