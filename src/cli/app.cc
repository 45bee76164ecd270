// The command tree (global options + every group) and the plain-sentence form of parse errors.
#include "krdc/cli/app.h"

#include <fmt/format.h>

#include <algorithm>

#include "krdc/version.h"

namespace krdc::cli {

namespace {

constexpr const char* kFooter = R"(Examples:
  krdc run workflows/hello.yaml            run a workflow, results in ./hello.results.jsonl
  krdc validate wf.yaml                    check a workflow without running anything
  krdc login                               sign in at your research data commons hub
  krdc run wf.yaml --resume                rerun, skipping steps that already succeeded

Exit status: 0 ok, 1 a step failed, 2 invalid input, 3 authentication/authorisation,
4 hub or cluster unreachable, 5 krdc could not go on (result file), 130 cancelled. See krdc(1).)";

// Levenshtein distance: how many single-letter edits turn `a` into `b`.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The closest command name, if it is close enough to be what the user meant: one edit, or up
// to a third of the word, away ("valdate", "rn"); or the word starts that command ("vali").
std::string closest_command(const CLI::App& parent, const std::string& word) {
  std::string best;
  size_t best_distance = std::max<size_t>(1, word.size() / 3) + 1;  // must be below this
  for (const CLI::App* sub : parent.get_subcommands([](const CLI::App*) { return true; })) {
    const std::string& name = sub->get_name();
    const bool starts = word.size() >= 2 && name.rfind(word, 0) == 0;
    const size_t d = starts ? 1 : edit_distance(word, name);
    if (d < best_distance) {
      best = name;
      best_distance = d;
    }
  }
  return best;
}

// Does option word `arg` (e.g. "--hub", "-j") consume the next word as its value?
bool takes_value(const CLI::App& app, const std::string& arg) {
  if (arg.find('=') != std::string::npos) return false;
  const std::string name = arg.rfind("--", 0) == 0 ? arg : arg.substr(0, 2);
  if (arg.rfind("--", 0) != 0 && arg.size() > 2) return false;  // -j4: value attached
  for (const CLI::App* at = &app; at; at = at->get_parent()) {
    if (const CLI::Option* o = at->get_option_no_throw(name)) return o->get_items_expected_min() > 0;
  }
  return false;
}

std::string strip_prefix(std::string text, const std::string& prefix) {
  if (text.rfind(prefix, 0) == 0) text.erase(0, prefix.size());
  return text;
}

}  // namespace

namespace {

// The command the words name ("krdc app", "krdc run"), as far as they name one, and where the
// walk stopped: at a positional, or at a word that is not a command of `reached`.
struct Walk {
  const CLI::App* reached = nullptr;
  std::string path;
  std::string unknown;
};

Walk walk_commands(const CLI::App& app, const std::vector<std::string>& args) {
  Walk walk{&app, app.get_name(), {}};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") break;
    if (arg.size() > 1 && arg[0] == '-') {
      if (takes_value(*walk.reached, arg)) ++i;
      continue;
    }
    if (walk.reached->get_subcommands([](const CLI::App*) { return true; }).empty()) break;  // a positional
    try {
      walk.reached = walk.reached->get_subcommand(arg);
    } catch (const CLI::OptionNotFound&) {
      walk.unknown = arg;
      break;
    }
    walk.path += " " + arg;
  }
  return walk;
}

}  // namespace

std::string command_path(const CLI::App& app, const std::vector<std::string>& args) {
  return walk_commands(app, args).path;
}

UnknownCommand find_unknown_command(const CLI::App& app, const std::vector<std::string>& args) {
  const Walk walk = walk_commands(app, args);
  if (walk.unknown.empty()) return {};
  return {walk.unknown, walk.path, closest_command(*walk.reached, walk.unknown)};
}

std::string usage_message(const CLI::App& app, const CLI::ParseError& error, const std::vector<std::string>& args) {
  if (const auto unknown = find_unknown_command(app, args); !unknown.word.empty()) {
    std::string text = fmt::format("\"{}\" is not a {} command", unknown.word, unknown.parent);
    if (!unknown.suggestion.empty()) text += fmt::format("; did you mean {} {}?", unknown.parent, unknown.suggestion);
    return text;
  }
  const std::string kind = error.get_name();
  const std::string what = error.what();
  const Walk walk = walk_commands(app, args);
  if (kind == "RequiredError") {
    if (what.find("subcommand") != std::string::npos) {
      std::vector<std::string> names;
      for (const CLI::App* sub : walk.reached->get_subcommands([](const CLI::App*) { return true; })) {
        names.push_back(sub->get_name());
      }
      return fmt::format("{} needs a command: {}", walk.path, fmt::join(names, ", "));
    }
    if (what.rfind(" is required") != std::string::npos) {
      return fmt::format("missing {}", strip_prefix(what.substr(0, what.rfind(" is required")), "--"));
    }
    return what;
  }
  if (kind == "ArgumentMismatch") {
    // "--output: At Most 1 required but received 2" and friends.
    const auto colon = what.find(':');
    const std::string option = colon == std::string::npos ? "an option" : what.substr(0, colon);
    if (what.find("At Most") != std::string::npos || what.find("Expected") != std::string::npos) {
      return fmt::format("{} was given too many values (or more than once); give it once", option);
    }
    if (what.find("requires") != std::string::npos || what.find("least") != std::string::npos) {
      return fmt::format("{} needs a value", option);
    }
    return what;
  }
  if (kind == "ValidationError" || kind == "ConversionError") {
    // "--jobs: Value abc not in range 1 to 10000", "-j: Could not convert: abc"...
    const auto colon = what.find(": ");
    const std::string option = colon == std::string::npos ? "a value" : what.substr(0, colon);
    const std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
    if (detail.find("not in range") != std::string::npos) {  // "Value 0 not in range 1 to 10000"
      return fmt::format("{} must be a number from {}", option, detail.substr(detail.find("not in range") + 13));
    }
    if (const auto at = detail.find(" could not be converted"); at != std::string::npos) {  // "Value abc could ..."
      return fmt::format("{} must be a number, not \"{}\"", option, strip_prefix(detail.substr(0, at), "Value "));
    }
    if (const auto at = detail.find("File does not exist: "); at != std::string::npos) {
      std::string path = detail.substr(at + 21);
      path = path.substr(0, path.find_first_of(")\n"));
      if (option.rfind('-', 0) == 0) return fmt::format("{}: no such file: {}", option, path);
      return fmt::format("no such {} file: {}", option, path);  // a positional: "workflow"
    }
    if (const auto set = detail.find(" not in {"); set != std::string::npos) {  // "xml not in {text,json,yaml}"
      std::string choices = detail.substr(set + 9);
      if (!choices.empty() && choices.back() == '}') choices.pop_back();
      for (auto& c : choices) c = c == ',' ? ' ' : c;
      return fmt::format("{} \"{}\" is not one of: {}", option, detail.substr(0, set), choices);
    }
    if (detail.find("convert") != std::string::npos || kind == "ConversionError") {
      return fmt::format("{}: not a valid value ({})", option, detail);
    }
    return what;
  }
  // "The following argument(s) was/were not expected: a b" (named after the app, not its kind,
  // when a subcommand throws it).
  if (kind == "ExtrasError" || what.rfind("The following argument", 0) == 0) {
    const auto colon = what.find(": ");
    std::vector<std::string> words = CLI::detail::split(colon == std::string::npos ? what : what.substr(colon + 2), ' ');
    // CLI11 may list them last first: show them in the order they were typed.
    auto typed_at = [&args](const std::string& w) { return std::find(args.begin(), args.end(), w) - args.begin(); };
    std::stable_sort(words.begin(), words.end(),
                     [&](const std::string& a, const std::string& b) { return typed_at(a) < typed_at(b); });
    return fmt::format("unexpected argument{} for {}: {}", words.size() == 1 ? "" : "s", walk.path,
                       fmt::join(words, " "));
  }
  if (kind == "ExcludesError") return fmt::format("these options cannot be used together: {}", what);
  return what;
}

void build_cli(CLI::App& app, GlobalOptions& global, Action& action) {
  app.name("krdc");
  app.description("krdc runs research workflows across research data commons clusters.");
  app.footer(kFooter);
  app.require_subcommand(1);
  app.fallthrough();  // global options work after the subcommand too
  app.set_version_flag("--version", std::string("krdc ") + KRDC_VERSION, "Print krdc's version and exit");

  app.add_option("-o,--output", global.output, "Output format for commands that print data")
      ->check(CLI::IsMember({"text", "table", "json", "yaml", "markdown", "html"}));
  app.add_flag("--no-color", global.no_color, "No colors (also when NO_COLOR is set)");
  app.add_flag("--non-interactive", global.non_interactive,
               "Never prompt or start a device login (implied by CI=1 or no TTY on stdin)");
  app.add_option("--config", global.config_file, "Config file (default: $XDG_CONFIG_HOME/krdc/config.yaml)");
  app.add_option("--hub", global.hub, "Hub issuer URL (overrides KRDC_HUB, spec.hub and config)");
  app.add_option("--ca-file", global.ca_file, "Extra CA bundle (PEM) for the hub and clusters; TLS is always verified");
  app.add_flag("-v,--verbose", global.verbose,
               "More detail on stderr: -v hub requests with timings, what a run loaded and runs where; "
               "-vv also Kubernetes API requests");

  add_workflow_commands(app, global, action);
  add_app_commands(app, global, action);
  add_misc_commands(app, global, action);
  add_auth_commands(app, global, action);
  add_proxy_commands(app, global, action);
  add_results_commands(app, global, action);
}

}  // namespace krdc::cli
