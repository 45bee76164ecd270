#pragma once
// Options shared by every subcommand, filled by CLI11 in src/cli/main.cc and passed down
// explicitly (no global state). Subcommands add their own options in their add_* function.
#include <string>

#include "krdc/http/client.h"
#include "krdc/util/interrupts.h"

namespace krdc::cli {

struct GlobalOptions {
  std::string output = "text";     // -o text|json|yaml (cli/output.h: json and yaml wherever data is printed)
  bool no_color = false;           // --no-color or NO_COLOR set
  bool non_interactive = false;    // --non-interactive, CI set, or stdin not a TTY
  std::string config_file;         // --config; default $XDG_CONFIG_HOME/krdc/config.yaml
  std::string hub;                 // --hub (issuer URL) overrides config and KRDC_HUB
  std::string ca_file;             // --ca-file: extra CA bundle for hub and clusters
  int verbose = 0;                 // -v, repeatable
  // The process's SIGINT/SIGTERM handling (util/interrupts.h), owned by main and set before
  // any command runs: every blocking wait a command starts honours its tokens.
  util::Interrupts* interrupts = nullptr;
};

// Options for the HTTP clients a command builds: they give up at an interrupt (abort(): exit
// 130) and log each request on stderr from -v × `log_level` on.
http::ClientOptions http_options(const GlobalOptions& global, int log_level = 1);

}  // namespace krdc::cli
