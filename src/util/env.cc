#include "krdc/util/env.h"

#include <unistd.h>

#include <array>
#include <cstring>

extern char** environ;

namespace krdc::util {

bool is_secret_env(const std::string& name) {
  static constexpr std::array<const char*, 5> kSecrets = {"KRDC_TOKEN", "KRDC_CLIENT_SECRET", "KRDC_REFRESH_TOKEN",
                                                          "KRDC_CLIENT_SECRET_FILE", "KRDC_TOKEN_FILE"};
  for (const char* s : kSecrets) {
    if (name == s) return true;
  }
  return false;
}

std::vector<std::string> child_environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (!eq) continue;
    const std::string name(*e, static_cast<size_t>(eq - *e));
    if (is_secret_env(name) || extra.count(name)) continue;
    env.emplace_back(*e);
  }
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

}  // namespace krdc::util
