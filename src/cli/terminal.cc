#include "krdc/cli/terminal.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace krdc::cli {

namespace {
bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v && *v;
}
}  // namespace

void apply_environment(GlobalOptions& global) {
  if (env_set("NO_COLOR")) global.no_color = true;
  if (env_set("CI") || !isatty(STDIN_FILENO)) global.non_interactive = true;
}

bool live_progress(const GlobalOptions&) {
  const char* term = std::getenv("TERM");
  return isatty(STDERR_FILENO) && !env_set("CI") && !(term && std::strcmp(term, "dumb") == 0);
}

bool use_color(const GlobalOptions& global) { return !global.no_color && live_progress(global); }

}  // namespace krdc::cli
