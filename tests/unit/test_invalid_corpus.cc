// The bad-input corpus (tests/data/invalid, listed with what to expect in expectations.tsv):
// every file goes through the path `krdc validate` takes (-p parsing, load_workflow: strict YAML,
// descriptors, validation) and must be refused with InvalidInput (exit 2), the expected
// position and message fragment. Nothing else may escape: not YAML::Exception, not
// nlohmann::json's, not std::out_of_range. Also the loading rules the corpus cannot show.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "krdc/cli/run_command.h"
#include "krdc/exec/outputs.h"
#include "krdc/util/errors.h"
#include "krdc/workflow/loader.h"
#include "krdc/workflow/params.h"
#include "krdc/workflow/yaml_guard.h"
#include "krdc/workflow/yaml_reader.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using namespace krdc::workflow;

namespace {

const fs::path kCorpus = fs::path(KRDC_SOURCE_DIR) / "tests" / "data" / "invalid";

struct Case {
  std::string file;
  std::string position;  // "L:C", "apps/x/krdc-app.yaml:L:C" or "-"
  std::string fragment;
  std::vector<std::string> params;  // -p items
  int line = 0;
};

// "\xHH" escapes let the TSV hold bytes that are not UTF-8.
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() + 0 && s[i + 1] == 'x') {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 2, 2), nullptr, 16)));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) parts.push_back(cur);
  return parts;
}

std::vector<Case> read_cases() {
  std::ifstream in(kCorpus / "expectations.tsv");
  REQUIRE(in);
  std::vector<Case> cases;
  std::string text;
  int n = 0;
  while (std::getline(in, text)) {
    ++n;
    if (text.empty() || text[0] == '#') continue;
    const auto cols = split(text, '\t');
    REQUIRE_MESSAGE(cols.size() >= 3, "expectations.tsv:", n, ": want file, position, fragment");
    Case c{cols[0], cols[1], cols[2], {}, n};
    if (cols.size() > 3) {
      for (const auto& p : split(cols[3], '|')) c.params.push_back(unescape(p));
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

// The message's leading "file:line:col: ", checked against the expected position.
void check_position(const Case& c, const std::string& message) {
  INFO(c.file, ": ", message);
  if (c.position == "-") {
    CHECK(message.rfind("-p", 0) == 0);
    return;
  }
  const auto colon = c.position.rfind(':', c.position.rfind(':') - 1);
  const std::string where = colon == std::string::npos ? c.file : c.position.substr(0, colon);
  const std::string line_col = colon == std::string::npos ? c.position : c.position.substr(colon + 1);
  const std::string expected = where + ":" + line_col + ": ";
  // The loader names the workflow as given and a descriptor by its absolute path: compare the tail.
  const auto at = message.find(expected);
  if (at == std::string::npos) {
    FAIL_CHECK("want the position ", expected);
    return;
  }
  CHECK(message.substr(0, at).find(": ") == std::string::npos);  // it is the leading position
  const std::string prefix = message.substr(0, at);
  CHECK((prefix.empty() || prefix.back() == '/'));
}

}  // namespace

TEST_CASE("invalid corpus: every file is refused with InvalidInput, its position and message") {
  const auto cases = read_cases();
  CHECK(cases.size() >= 60);
  std::set<std::string> listed;
  for (const auto& c : cases) {
    listed.insert(c.file);
    CAPTURE(c.file);
    std::string message;
    bool refused = false;
    try {
      LoadOptions options;
      options.params = krdc::cli::parse_param_overrides(c.params);  // as `krdc validate -p` does
      load_workflow((kCorpus / c.file).string(), options);
    } catch (const krdc::InvalidInput& e) {
      refused = true;
      message = e.what();
      CHECK(e.code() == krdc::ExitCode::kInvalid);
    } catch (const std::exception& e) {
      FAIL_CHECK(c.file, ": threw another exception: ", e.what());
      continue;
    }
    if (!refused) {
      FAIL_CHECK(c.file, ": wrongly accepted");
      continue;
    }
    INFO(message);
    CHECK_MESSAGE(message.find(c.fragment) != std::string::npos, c.file, ": want \"", c.fragment, "\"");
    check_position(c, message);
  }
  // Every workflow file in the folder is in the list (and every listed file exists).
  for (const auto& entry : fs::directory_iterator(kCorpus)) {
    if (entry.path().extension() == ".yaml") CHECK_MESSAGE(listed.count(entry.path().filename().string()), entry.path());
  }
  for (const auto& file : listed) CHECK_MESSAGE(fs::exists(kCorpus / file), file);
}

TEST_CASE("invalid corpus: the app the corpus builds on is valid, so each case fails for its own reason") {
  krdc::test::TempDir dir;
  const std::string wf = dir.write("ok.yaml",
                                   "apiVersion: krdc/v1\nkind: Workflow\nmetadata: {name: ok.corpus_1}\nspec:\n"
                                   "  params: {who: x, f: a}\n"
                                   "  steps:\n"
                                   "    - name: a\n"
                                   "      app: " + (kCorpus / "apps" / "good").string() + "\n"
                                   "      params: {needed: '${{ params.who }}', files: [x, '-1', '-2.5', 'a b', '${{ params.f }}'],\n"
                                   "               flag: true, count: 3}\n"
                                   "      timeout: 1h30m\n"
                                   "      env: {HOME_DIR: /tmp, _X1: 'caf\xc3\xa9'}\n");
  LoadOptions options;
  options.params = {{"who", "Zo\xc3\xab"}};
  const Workflow w = load_workflow(wf, options);
  CHECK(w.name == "ok.corpus_1");
  CHECK(w.steps[0].timeout_ms == 5'400'000);
}

TEST_CASE("durations: whole numbers of units, checked for overflow") {
  CHECK(parse_duration_ms("90s") == 90'000);
  CHECK(parse_duration_ms("90") == 90'000);
  CHECK(parse_duration_ms("1m30s") == 90'000);
  CHECK(parse_duration_ms("250ms") == 250);
  CHECK(parse_duration_ms("2h") == 7'200'000);
  CHECK(parse_duration_ms("1d") == 86'400'000);
  CHECK(parse_duration_ms("0") == 0);
  CHECK(parse_duration_ms("366d") == kMaxDurationMs);
  for (const char* bad : {"", "nans", "infs", "nan", "inf", "1e300s", "1e300", "0.0001s", "0.5", "1.5s", "-5s", "+5s",
                          "367d", "365d24h1ms", "9223372036854775807ms", "99999999999999999999", "1m30", "s", "5 s",
                          " 5s", "5s ", "0x10", "1ms2", "5S"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_duration_ms(bad).has_value());
  }
}

TEST_CASE("yaml guard: limits that the corpus would need huge files for") {
  // Size: refused before any parsing.
  const std::string big(YamlLimits{}.max_bytes + 1, ' ');
  CHECK_THROWS_WITH_AS(guard_yaml(big, "big.yaml"), doctest::Contains("more than a krdc file may hold"),
                       krdc::InvalidInput);
  // Depth: deep enough to blow a recursive parser's stack is refused at the limit, quickly.
  const std::string deep = "x: " + std::string(100'000, '[') + std::string(100'000, ']') + "\n";
  CHECK_THROWS_WITH_AS(guard_yaml(deep, "deep.yaml"), doctest::Contains("deep.yaml:1:35: nesting deeper than 32"),
                       krdc::InvalidInput);
  // Anchors alone are harmless and accepted; a long flat file is fine.
  guard_yaml("a: &x 1\nb: 2\n", "ok.yaml");
  std::string many;
  for (int i = 0; i < 20'000; ++i) many += "k" + std::to_string(i) + ": [1, 2, {a: b}]\n";
  guard_yaml(many, "many.yaml");
  // A trailing document end marker is no second document.
  guard_yaml("a: 1\n...\n", "end.yaml");
  CHECK(invalid_utf8_at("caf\xc3\xa9 \xf0\x9f\x99\x82") == std::nullopt);
  CHECK(invalid_utf8_at("\xed\xa0\x80") == 0u);   // a UTF-16 surrogate
  CHECK(invalid_utf8_at("a\xf4\x90\x80\x80") == 1u);  // above U+10FFFF
  CHECK(invalid_utf8_at("ab\xe2\x82") == 2u);      // cut short
}

TEST_CASE("yaml guard: the config loader's YamlReader goes through it too") {
  YamlReader r("config.yaml");
  CHECK_THROWS_WITH_AS(r.parse_text("a: 1\na: 2\n"), doctest::Contains("config.yaml:2:1: duplicate key \"a\""),
                       krdc::InvalidInput);
}

TEST_CASE("dry run: a bool param fed by a step output renders no argv instead of a type_error") {
  App app;
  app.has_interface = true;
  ParamSpec flag;
  flag.name = "flag";
  flag.flag = "--flag";
  flag.type = ParamType::kBool;
  app.params.push_back(flag);
  // What `run --dry-run` passes: the reference as written. InvalidInput is what dry_run catches.
  CHECK_THROWS_AS(render_args(app, {{"flag", "${{ steps.a.outputs.flag }}"}}), krdc::InvalidInput);
  CHECK(render_args(app, {{"flag", true}}) == std::vector<std::string>{"--flag"});
}

TEST_CASE("outputs and logs: invalid UTF-8 in outputs is refused, in log tails replaced") {
  std::string error;
  CHECK_FALSE(krdc::exec::parse_outputs("{\"m\": \"caf\xe9\"}", error).has_value());
  CHECK(error.find("not valid JSON") != std::string::npos);
  krdc::test::TempDir dir;
  const std::string log = dir.write("log", "caf\xe9\n");
  CHECK(krdc::exec::read_tail(log, 100) == "caf\xef\xbf\xbd\n");
}
