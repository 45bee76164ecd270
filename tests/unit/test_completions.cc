// Shell completions and the man page as users meet them: each shipped completion script is
// loaded into the real shell (bash without bash-completion and with extglob off, zsh's own
// completion system in a pseudo-terminal, fish's `complete -C`) and asked to complete real
// command lines; and every command and flag of the real CLI11 tree must appear in all three
// scripts and in man/krdc.1, so the two cannot drift apart.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "krdc/cli/app.h"
#include "krdc/util/child_process.h"
#include "krdc/util/env.h"
#include "support/temp_dir.h"

namespace {

const std::string kSource = KRDC_SOURCE_DIR;

std::string read_source(const std::string& rel) { return krdc::test::read_file(kSource + "/" + rel); }

bool on_path(const std::string& program) {
  for (const char* dir : {"/usr/bin", "/bin", "/usr/local/bin"}) {
    if (::access((std::string(dir) + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// zsh and fish are installed by .ci/run; on a developer machine without them those cases are
// reported and skipped, never silently passed in CI (CI=1 makes a missing shell a failure).
bool have_shell(const std::string& shell) {
  if (on_path(shell)) return true;
  const char* ci = std::getenv("CI");
  if (ci && *ci) FAIL_CHECK(shell << " is not installed (.ci/run installs it)");
  else MESSAGE(shell << " is not installed: its completion cases are skipped here");
  return false;
}

// The matches a shell offers, one per line, sorted.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string run_shell(const krdc::test::TempDir& dir, std::vector<std::string> argv) {
  krdc::util::SpawnSpec spec;
  spec.argv = {"/usr/bin/timeout", "30"};
  spec.argv.insert(spec.argv.end(), argv.begin(), argv.end());
  spec.env = krdc::util::child_environment({{"HOME", dir.path().string()}, {"TERM", "dumb"}});
  spec.cwd = dir.path().string();
  spec.output_file = dir / "shell.log";
  std::filesystem::remove(spec.output_file);
  krdc::util::ChildProcess child(spec);
  REQUIRE(child.wait(40'000));
  const std::string out = krdc::test::read_file(spec.output_file);
  INFO(out);
  REQUIRE(child.exit_code() == 0);
  return out;
}

// bash: COMP_WORDS as bash itself would split `line` (at spaces, "=" and ":"), then _krdc.
std::vector<std::string> complete_bash(const krdc::test::TempDir& dir, const std::string& line) {
  const std::string script = R"(shopt -u extglob
source "$1"
type _init_completion >/dev/null 2>&1 && { echo "bash-completion is loaded: the test would not prove anything"; exit 3; }
COMP_WORDS=()
for token in $2; do  # at blanks, then at "=" and ":" (COMP_WORDBREAKS), which become words
  while [[ $token =~ ^([^=:]*)([=:])(.*)$ ]]; do
    [[ -n ${BASH_REMATCH[1]} ]] && COMP_WORDS+=("${BASH_REMATCH[1]}")
    COMP_WORDS+=("${BASH_REMATCH[2]}")
    token=${BASH_REMATCH[3]}
  done
  [[ -n $token ]] && COMP_WORDS+=("$token")
done
[[ $2 == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE=$2; COMP_POINT=${#2}
_krdc
printf '%s\n' "${COMPREPLY[@]}")";
  return lines_of(run_shell(dir, {"bash", "--norc", "--noprofile", "-c", script, "bash",
                                  kSource + "/completions/krdc.bash", line}));
}

std::vector<std::string> complete_zsh(const krdc::test::TempDir& dir, const std::string& line) {
  return lines_of(run_shell(dir, {"zsh", "-f", kSource + "/tests/completions/zsh_complete.zsh",
                                  kSource + "/completions", line}));
}

std::vector<std::string> complete_fish(const krdc::test::TempDir& dir, const std::string& line) {
  std::string out = run_shell(dir, {"fish", "--no-config", "-c", "source $argv[1]; complete -C $argv[2]",
                                    kSource + "/completions/krdc.fish", line});
  // "match<TAB>description": the match only.
  std::string matches;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) matches += l.substr(0, l.find('\t')) + "\n";
  return lines_of(matches);
}

using Completer = std::function<std::vector<std::string>(const krdc::test::TempDir&, const std::string&)>;

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

// The same behaviour, asked of each shell.
void check_behaviour(const Completer& complete, const std::string& shell) {
  krdc::test::TempDir dir;
  dir.write("wf.yaml", "");
  dir.write("other.yml", "");
  dir.write("notes.txt", "");
  dir.write("main.py", "");
  dir.write("sub/keep", "");
  dir.write("r.results.jsonl", "{\"type\":\"step\",\"step\":\"greet\",\"event\":\"start\"}\n"
                               "{\"type\":\"step\",\"step\":\"shout\",\"event\":\"end\"}\n");
  auto strip_slash = [](std::vector<std::string> v) {
    for (auto& s : v) {
      if (!s.empty() && s.back() == '/') s.pop_back();
    }
    return v;
  };
  CAPTURE(shell);
  const auto commands = complete(dir, "krdc ");
  for (const char* c : {"run", "attach", "validate", "report", "app", "login", "logout", "whoami", "token", "auth",
                        "proxy", "version", "completion"}) {
    CAPTURE(c);
    CHECK(contains(commands, c));
  }
  CHECK_FALSE(contains(commands, "help"));  // no phantom command
  CHECK(complete(dir, "krdc ru") == std::vector<std::string>{"run"});
  // Global options before the command, with a value (a URL, split at ":" by bash).
  CHECK(complete(dir, "krdc --hub https://hub.example/realms/x ru") == std::vector<std::string>{"run"});
  CHECK(complete(dir, "krdc -o json val") == std::vector<std::string>{"validate"});
  CHECK(complete(dir, "krdc -o ") == std::vector<std::string>{"html", "json", "markdown", "table", "text", "yaml"});
  // Workflow files (and directories to descend into), not every file.
  CHECK(strip_slash(complete(dir, "krdc run ")) == std::vector<std::string>{"other.yml", "sub", "wf.yaml"});
  const auto run_flags = complete(dir, "krdc run wf.yaml --");
  for (const char* f : {"--kubeconfig", "--context", "--follow", "--detach", "--resume", "--kill-grace", "--run-dir",
                        "--output", "--hub"}) {
    CAPTURE(f);
    CHECK(contains(run_flags, f));
  }
  CHECK(complete(dir, "krdc run --kube") == std::vector<std::string>{"--kubeconfig"});
  CHECK(contains(strip_slash(complete(dir, "krdc run --kubeconfig ")), "notes.txt"));  // any file
  CHECK(complete(dir, "krdc app ") == std::vector<std::string>{"inspect"});
  CHECK(strip_slash(complete(dir, "krdc app inspect ")) == std::vector<std::string>{"main.py", "sub"});
  CHECK(complete(dir, "krdc auth ") == std::vector<std::string>{"check"});
  CHECK(strip_slash(complete(dir, "krdc auth check ")) == std::vector<std::string>{"other.yml", "sub", "wf.yaml"});
  CHECK(strip_slash(complete(dir, "krdc report ")) == std::vector<std::string>{"r.results.jsonl", "sub"});
  CHECK(complete(dir, "krdc logs r.results.jsonl ") == std::vector<std::string>{"greet", "shout"});
  // An option's value is not a positional argument: after `--license MIT` the result file is next.
  CHECK(strip_slash(complete(dir, "krdc export --license MIT ")) == std::vector<std::string>{"r.results.jsonl", "sub"});
  CHECK(complete(dir, "krdc completion ") == std::vector<std::string>{"bash", "fish", "zsh"});
  CHECK(contains(complete(dir, "krdc token --"), "--exec-credential"));
}

// Every subcommand path ("app inspect") and its option names ("--kubeconfig", "-j") in the
// real command tree, as main builds it.
struct Tree {
  std::set<std::string> commands;
  std::map<std::string, std::set<std::string>> options;  // command path ("" = global) → names
};

void walk(const CLI::App& app, const std::string& path, Tree& tree) {
  for (const CLI::Option* o : app.get_options()) {
    for (const auto& l : o->get_lnames()) tree.options[path].insert("--" + l);
    for (const auto& s : o->get_snames()) tree.options[path].insert("-" + s);
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    const std::string sub_path = path.empty() ? sub->get_name() : path + " " + sub->get_name();
    tree.commands.insert(sub_path);
    walk(*sub, sub_path, tree);
  }
}

Tree real_tree() {
  CLI::App app;
  krdc::cli::GlobalOptions global;
  krdc::cli::Action action;
  krdc::cli::build_cli(app, global, action);
  Tree tree;
  walk(app, "", tree);
  return tree;
}

// `word` in `text` as a whole word: not inside a longer name such as --run-dir for --run.
bool mentions(const std::string& text, const std::string& word) {
  auto name_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; };
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
    const bool starts = at == 0 || !name_char(text[at - 1]) || (word[0] == '-' && text[at - 1] != '-');
    const size_t end = at + word.size();
    const bool ends = end == text.size() || !name_char(text[end]);
    if (starts && ends) return true;
  }
  return false;
}

// In groff every "-" of an option is written "\-"; "\-\-run" must not match inside "\-\-run\-dir".
bool man_mentions(const std::string& man, const std::string& word) {
  std::string escaped;
  for (char c : word) escaped += c == '-' ? std::string("\\-") : std::string(1, c);
  for (size_t at = man.find(escaped); at != std::string::npos; at = man.find(escaped, at + 1)) {
    const size_t end = at + escaped.size();
    const bool before_ok = at == 0 || man[at - 1] != '-';
    const bool after_ok = end >= man.size() || (!std::isalnum(static_cast<unsigned char>(man[end])) &&
                                                man.compare(end, 2, "\\-") != 0);
    if (before_ok && after_ok) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("completion: bash completes without bash-completion and without extglob") {
  check_behaviour(complete_bash, "bash");
  krdc::test::TempDir dir;
  // bash makes "--output=" three words: the value is still the option's.
  CHECK(complete_bash(dir, "krdc --output=") ==
        std::vector<std::string>{"html", "json", "markdown", "table", "text", "yaml"});
  CHECK(complete_bash(dir, "krdc --hub=https://hub.example/x val") == std::vector<std::string>{"validate"});
}

TEST_CASE("completion: zsh's completion system completes with _krdc") {
  if (!have_shell("zsh")) return;
  check_behaviour(complete_zsh, "zsh");
}

TEST_CASE("completion: fish completes with krdc.fish") {
  if (!have_shell("fish")) return;
  check_behaviour(complete_fish, "fish");
}

TEST_CASE("completion: the scripts load in their shells without errors") {
  krdc::test::TempDir dir;
  run_shell(dir, {"bash", "--norc", "--noprofile", "-c", "set -u; shopt -u extglob; source \"$1\"; complete -p krdc",
                  "bash", kSource + "/completions/krdc.bash"});
  if (have_shell("zsh")) {
    // Sourced (not autoloaded), as `source <(krdc completion zsh)` does: it registers itself.
    const auto out = run_shell(dir, {"zsh", "-f", "-c", "autoload -Uz compinit; compinit -u -D; source \"$1\"; "
                                                        "print -r -- ${_comps[krdc]}",
                                     "zsh", kSource + "/completions/_krdc"});
    CHECK(out == "_krdc\n");
  }
  if (have_shell("fish")) {
    run_shell(dir, {"fish", "--no-config", "-c", "source $argv[1]", kSource + "/completions/krdc.fish"});
  }
}

TEST_CASE("completion and man page: every command and flag of the real command tree is in all of them") {
  const Tree tree = real_tree();
  REQUIRE(tree.commands.count("run"));
  REQUIRE(tree.commands.count("app inspect"));
  const std::string bash = read_source("completions/krdc.bash");
  const std::string zsh = read_source("completions/_krdc");
  const std::string fish = read_source("completions/krdc.fish");
  const std::string man = read_source("man/krdc.1");
  for (const auto& path : tree.commands) {
    CAPTURE(path);
    const std::string last = path.substr(path.rfind(' ') == std::string::npos ? 0 : path.rfind(' ') + 1);
    CHECK(mentions(bash, last));
    CHECK((zsh.find("'" + last + ":") != std::string::npos || zsh.find("(" + last + ":") != std::string::npos));
    CHECK(mentions(fish, "-a " + last));
    // A man page entry: ".B run", ".B app inspect" (groff escapes nothing in command names).
    CHECK(man.find(".B " + path + "\n") != std::string::npos);
  }
  for (const auto& entry : tree.options) {
    const std::string& path = entry.first;  // not a structured binding: CAPTURE's lambda (clang 14)
    for (const auto& name : entry.second) {
      CAPTURE(path);
      CAPTURE(name);
      CHECK(mentions(bash, name));
      CHECK(mentions(zsh, name));
      const bool is_long = name.rfind("--", 0) == 0;
      CHECK(mentions(fish, (is_long ? "-l " : "-s ") + name.substr(is_long ? 2 : 1)));
      CHECK(man_mentions(man, name));
    }
  }
}

TEST_CASE("completion: krdc completion prints the shipped files") {
  krdc::test::TempDir dir;
  for (const auto& entry : std::map<std::string, std::string>{
           {"bash", "completions/krdc.bash"}, {"zsh", "completions/_krdc"}, {"fish", "completions/krdc.fish"}}) {
    const std::string& shell = entry.first;  // not a structured binding: CAPTURE's lambda (clang 14)
    const std::string& file = entry.second;
    CAPTURE(shell);
    krdc::util::SpawnSpec spec;
    spec.argv = {KRDC_BINARY, "completion", shell};
    spec.env = krdc::util::child_environment({});
    spec.output_file = dir / (shell + ".out");
    krdc::util::ChildProcess child(spec);
    REQUIRE(child.wait(10'000));
    CHECK(child.exit_code() == 0);
    CHECK(krdc::test::read_file(spec.output_file) == read_source(file));
  }
}
