#include "krdc/config/env.h"

#include <unistd.h>

#include <cstdlib>

namespace krdc::config {

Env process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v || !*v) return std::nullopt;
    return std::string(v);
  };
}

Env fixed_env(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
}

bool non_interactive(bool flag, const Env& env) {
  if (flag) return true;
  if (auto ci = env("CI"); ci && *ci != "false" && *ci != "0") return true;
  return !::isatty(STDIN_FILENO);
}

}  // namespace krdc::config
