// The CLI edge: parse the command line, run the chosen command, and map every error to one
// clear message and its documented exit code. Nothing below this file prints errors or exits.
#include <curl/curl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "krdc/cli/app.h"
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

}  // namespace

int main(int argc, char** argv) {
  // Before any thread exists, so every thread inherits the mask (see util/signals.h).
  krdc::util::block_termination_signals();
  // A file size limit (ulimit -f) must surface as EFBIG from write(), which stops a run cleanly
  // (exit 5, running steps cleaned up), not kill krdc mid-record. Children get the default back.
  std::signal(SIGXFSZ, SIG_IGN);
  krdc::util::Interrupts interrupts;

  // Parsing comes before the signal watcher and libcurl: `--version`, `--help` and usage
  // errors answer at once, and none of them reads a config file or touches the network.
  CLI::App app;
  krdc::cli::GlobalOptions global;
  global.interrupts = &interrupts;
  krdc::cli::Action action;
  krdc::cli::build_cli(app, global, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    std::fprintf(stderr, "krdc: error: %s\n", krdc::cli::usage_message(app, e, args).c_str());
    const std::string command = krdc::cli::command_path(app, args);
    if (command == "krdc") {
      std::fprintf(stderr, "  try: krdc --help, or krdc <command> --help\n");
    } else {
      std::fprintf(stderr, "  try: %s --help\n", command.c_str());
    }
    return static_cast<int>(krdc::ExitCode::kInvalid);
  }

  // One watcher for the whole process: Ctrl-C cancels whatever any command is waiting on
  // (docs/architecture.md, "Signals"). Declared after `interrupts`, so it stops first.
  krdc::util::SignalWatcher watcher([&interrupts](int signo, int count) { interrupts.on_signal(signo, count); });
  CurlGlobal curl;
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
