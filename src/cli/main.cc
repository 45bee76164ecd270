// The CLI edge: parse the command line, run the chosen command, and map every error to one
// clear message and its documented exit code. Nothing below this file prints errors or exits.
#include <curl/curl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>

#include "krdc/cli/commands.h"
#include "krdc/cli/terminal.h"
#include "krdc/util/errors.h"
#include "krdc/util/interrupts.h"
#include "krdc/util/signals.h"

namespace {

// libcurl's global state is set up once here, at the edge, and torn down on the way out.
struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlGlobal() { curl_global_cleanup(); }
};

constexpr const char* kFooter = R"(Examples:
  krdc run workflows/hello.yaml            run a workflow, results in ./hello.results.jsonl
  krdc validate wf.yaml                    check a workflow without running anything
  krdc login                               sign in at your research data commons hub
  krdc run wf.yaml --resume                rerun, skipping steps that already succeeded

Exit status: 0 ok, 1 a step failed, 2 invalid input, 3 authentication/authorisation,
4 hub or cluster unreachable, 5 krdc could not go on (result file), 130 cancelled. See krdc(1).)";

}  // namespace

int main(int argc, char** argv) {
  // Before any thread exists, so every thread inherits the mask (see util/signals.h).
  krdc::util::block_termination_signals();
  // A file size limit (ulimit -f) must surface as EFBIG from write(), which stops a run cleanly
  // (exit 5, running steps cleaned up), not kill krdc mid-record. Children get the default back.
  std::signal(SIGXFSZ, SIG_IGN);
  // One watcher for the whole process: Ctrl-C cancels whatever any command is waiting on
  // (docs/architecture.md, "Signals"). Declared after `interrupts`, so it stops first.
  krdc::util::Interrupts interrupts;
  krdc::util::SignalWatcher watcher([&interrupts](int signo, int count) { interrupts.on_signal(signo, count); });
  CurlGlobal curl;

  CLI::App app{"krdc runs research workflows across research data commons clusters."};
  app.name("krdc");
  app.footer(kFooter);
  app.require_subcommand(1);
  app.fallthrough();  // global options work after the subcommand too

  krdc::cli::GlobalOptions global;
  global.interrupts = &interrupts;
  app.add_option("-o,--output", global.output, "Output format for commands that print data")
      ->check(CLI::IsMember({"text", "table", "json", "yaml", "markdown", "html"}));
  app.add_flag("--no-color", global.no_color, "No colors (also when NO_COLOR is set)");
  app.add_flag("--non-interactive", global.non_interactive,
               "Never prompt or start a device login (implied by CI=1 or no TTY on stdin)");
  app.add_option("--config", global.config_file, "Config file (default: $XDG_CONFIG_HOME/krdc/config.yaml)");
  app.add_option("--hub", global.hub, "Hub issuer URL (overrides KRDC_HUB, spec.hub and config)");
  app.add_option("--ca-file", global.ca_file, "Extra CA bundle (PEM) for the hub and clusters; TLS is always verified");
  app.add_flag("-v,--verbose", global.verbose, "More detail on stderr (repeatable)");

  krdc::cli::Action action;
  krdc::cli::add_workflow_commands(app, global, action);
  krdc::cli::add_app_commands(app, global, action);
  krdc::cli::add_misc_commands(app, global, action);
  krdc::cli::add_auth_commands(app, global, action);
  krdc::cli::add_proxy_commands(app, global, action);
  krdc::cli::add_results_commands(app, global, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "krdc: error: %s\n", e.what());
    std::fprintf(stderr, "  try: krdc --help, or krdc <command> --help\n");
    return static_cast<int>(krdc::ExitCode::kInvalid);
  }
  krdc::cli::apply_environment(global);

  try {
    return action ? action() : static_cast<int>(krdc::ExitCode::kInvalid);
  } catch (const krdc::Interrupted& e) {
    std::fprintf(stderr, "krdc: %s\n", e.what());  // the user asked for it: not an error
    return static_cast<int>(e.code());
  } catch (const krdc::Error& e) {
    std::fprintf(stderr, "krdc: error: %s\n", e.what());
    if (!e.hint().empty()) std::fprintf(stderr, "  hint: %s\n", e.hint().c_str());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "krdc: internal error: %s\n  please report this with the command you ran\n", e.what());
    return 70;
  }
}
