#include "krdc/workflow/inline_inspect.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "krdc/util/errors.h"
#include "krdc/workflow/app_inspect.h"
#include "krdc/workflow/inspect_cache.h"

namespace krdc::workflow {

namespace fs = std::filesystem;

namespace {

bool is_python_interpreter(const std::string& program) {
  static const std::regex kPython(R"(python[0-9]*(\.[0-9]+)*)");
  return std::regex_match(fs::path(program).filename().string(), kPython);
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// "x.py: could not read its argparse interface (exit 1):\n...\nSyntaxError: bad" → one line,
// the first and the last thing said, so a notice stays a single line.
std::string one_line(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) lines.push_back(line);
  }
  if (lines.empty()) return text;
  if (lines.size() == 1) return lines.front();
  std::string first = lines.front();
  if (!first.empty() && first.back() == ':') first.pop_back();
  const std::string& last = lines.back();
  return first + ": " + last.substr(last.find_first_not_of(" \t"));
}

// What one program's inspection gave: its interface, or why there is none.
struct Derived {
  std::optional<App> app;
  std::string key;
  std::string failure;
};

class Inspector {
 public:
  explicit Inspector(const InlineInspection& options) : options_(options), cache_(options.cache_dir) {}

  void run(Step& step) {
    App& app = step.app;
    if (!app.is_inline || app.has_interface || !app.inspect) return;
    const bool on_cluster = !step.cluster.empty() || !step.pull.empty();
    std::string why_not;
    const auto script = python_script_of(app.command, why_not);
    if (!script) {
      // Nothing goes unchecked when the step passes no params.
      if (!step.params.empty() && (!on_cluster || options_.verbose)) notice(step, why_not);
      return;
    }
    fs::path path = fs::path(*script).is_absolute() ? fs::path(*script) : fs::path(app.dir) / *script;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      // A cluster step's program is in its image; only a copy next to the workflow can be asked.
      if (!on_cluster || options_.verbose) {
        notice(step, fmt::format("{} is not in {}, so its argparse cannot be asked", *script, app.dir));
      }
      return;
    }
    const Derived& derived = derive(path, interpreter_of(app.command));
    if (!derived.app) {
      notice(step, derived.failure);
      return;
    }
    app.params = derived.app->params;
    app.exclusive = derived.app->exclusive;
    app.has_interface = true;
    app.interface_digest = derived.key;
  }

 private:
  std::string interpreter_of(const std::vector<std::string>& command) const {
    if (!options_.python.empty()) return options_.python;
    for (const auto& word : command) {
      if (is_python_interpreter(word)) return word;
    }
    return "python3";
  }

  // Once per program and load (steps often share an app), through the cache.
  const Derived& derive(const fs::path& path, const std::string& python) {
    const std::string where = fs::weakly_canonical(path).string();
    if (auto it = seen_.find(where); it != seen_.end()) return it->second;
    Derived& d = seen_[where];
    InspectOptions inspect;
    inspect.python = python;
    inspect.timeout_ms = options_.timeout_ms;
    inspect.cancel = options_.cancel;
    try {
      d.key = inspect_cache_key(read_bytes(path), inspect_shim_digest());
      std::optional<std::string> description = cache_.find(d.key);
      if (!description) {
        description = describe_python_program(where, inspect);
        cache_.store(d.key, *description);
      }
      d.app = app_from_description(*description, where, inspect);
    } catch (const Interrupted&) {
      throw;
    } catch (const std::exception& e) {
      d.app.reset();
      d.failure = fmt::format("could not inspect {}: {}", path.filename().string(), one_line(e.what()));
    }
    return d;
  }

  void notice(const Step& step, const std::string& why) const {
    const std::string line =
        fmt::format("step \"{}\": params passed unchecked as --key=value ({})", step.name, why);
    if (options_.notice) {
      options_.notice(line);
    } else {
      std::fprintf(stderr, "krdc: notice: %s\n", line.c_str());
    }
  }

  const InlineInspection& options_;
  InspectCache cache_;
  std::map<std::string, Derived> seen_;
};

}  // namespace

std::optional<std::string> python_script_of(const std::vector<std::string>& command, std::string& why_not) {
  size_t i = 0;
  if (!command.empty() && fs::path(command[0]).filename() == "env") {
    i = 1;  // /usr/bin/env [-S] [NAME=VALUE...] python3 ...
    while (i < command.size() && (command[i].rfind('-', 0) == 0 || command[i].find('=') != std::string::npos)) ++i;
  }
  if (i >= command.size() || !is_python_interpreter(command[i])) {
    why_not = command.empty() ? "the app has no command"
                              : fmt::format("its command runs {}, not a Python file", i < command.size() ? command[i] : command[0]);
    return std::nullopt;
  }
  for (++i; i < command.size(); ++i) {
    const std::string& word = command[i];
    if (word == "-m") {
      why_not = "its command runs a module (-m), not a file";
      return std::nullopt;
    }
    if (word == "-c" || word == "-") {
      why_not = "its command runs code given inline, not a file";
      return std::nullopt;
    }
    if (word == "-W" || word == "-X") {
      ++i;  // these take the next word
      continue;
    }
    if (word.rfind('-', 0) != 0) return word;
  }
  why_not = "its command names no Python file";
  return std::nullopt;
}

void inspect_inline_apps(std::vector<Step>& steps, const InlineInspection& options) {
  if (!options.enabled) return;
  Inspector inspector(options);
  for (auto& step : steps) inspector.run(step);
}

}  // namespace krdc::workflow
