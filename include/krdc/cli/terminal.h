#pragma once
// What the terminal and environment say about how to talk to the user.
#include "krdc/cli/options.h"

namespace krdc::cli {

// NO_COLOR → no_color; CI or stdin not a TTY → non_interactive.
void apply_environment(GlobalOptions& global);
// A live, redrawn status line: stderr is a TTY, TERM is not dumb, not in CI.
bool live_progress(const GlobalOptions& global);
bool use_color(const GlobalOptions& global);

}  // namespace krdc::cli
