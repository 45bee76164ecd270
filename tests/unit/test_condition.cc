// `when:` conditions: parsing (errors with columns) and evaluation over params and outputs.
#include <doctest/doctest.h>

#include <map>
#include <stdexcept>

#include "krdc/workflow/condition.h"

using krdc::workflow::Condition;
using krdc::workflow::Reference;

namespace {

// params.* and steps.S.outputs.* from one map keyed by the reference as written inside ${{ }}.
bool eval(const std::string& text, const nlohmann::json& values = nlohmann::json::object()) {
  return Condition::parse(text).evaluate([&](const Reference& ref) -> std::optional<nlohmann::json> {
    const std::string key = ref.kind == Reference::Kind::kParam ? "params." + ref.key
                                                                : "steps." + ref.step + ".outputs." + ref.key;
    if (!values.contains(key)) return std::nullopt;
    return values.at(key);
  });
}

std::string parse_error(const std::string& text) {
  try {
    (void)Condition::parse(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(parsed)";
}

std::string eval_error(const std::string& text, const nlohmann::json& values) {
  try {
    (void)eval(text, values);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(evaluated)";
}

}  // namespace

TEST_CASE("condition: literals, references and the ${{ }} wrapper") {
  CHECK(eval("true"));
  CHECK_FALSE(eval("false"));
  CHECK(eval("${{ true }}"));
  CHECK(eval("  ${{steps.check.outputs.ok}}  ", {{"steps.check.outputs.ok", true}}));
  CHECK_FALSE(eval("${{ steps.check.outputs.ok }}", {{"steps.check.outputs.ok", false}}));
  // Values from -p and some outputs are text: "true"/"false" read as booleans.
  CHECK(eval("${{ params.flag }}", {{"params.flag", "true"}}));
  CHECK_FALSE(eval("${{ params.flag }}", {{"params.flag", "false"}}));
  const auto refs = Condition::parse("${{ params.a && steps.s-1.outputs.k_2 }}").references();
  REQUIRE(refs.size() == 2);
  CHECK(refs[0].kind == Reference::Kind::kParam);
  CHECK(refs[1].step == "s-1");
  CHECK(refs[1].key == "k_2");
}

TEST_CASE("condition: operators and precedence (! over comparisons over && over ||)") {
  const nlohmann::json v = {{"params.n", 5}, {"params.region", "eu"}, {"params.t", true}, {"params.f", false},
                            {"params.big", "12"}};
  CHECK(eval("params.n > 3 && params.region == 'eu'", v));
  CHECK(eval("params.n >= 5 && params.n <= 5 && params.n != 4", v));
  CHECK_FALSE(eval("params.n < 5", v));
  CHECK(eval("params.f || params.t && params.n == 5", v));     // && binds tighter
  CHECK_FALSE(eval("(params.f || params.t) && params.n == 4", v));
  CHECK(eval("!params.f", v));
  CHECK(eval("!(params.n > 10)", v));
  CHECK(eval("!!params.t", v));
  CHECK(eval("params.region != \"us\"", v));
  CHECK(eval("params.big == 12", v));   // text holding a number compares as a number
  CHECK(eval("params.big > 9", v));     // numerically, not "12" < "9"
  CHECK(eval("params.n == 5.0", v));
  CHECK(eval("-1 < 0", v));
  CHECK(eval("'b' > 'a'", v));
  CHECK(eval("params.t == 'true'", v));
  CHECK_FALSE(eval("params.region == null", v));
}

TEST_CASE("condition: && and || decide left to right; the right side is not evaluated when not needed") {
  // steps.x.outputs.missing has no value: evaluating it would throw.
  CHECK_FALSE(eval("false && steps.x.outputs.missing", {}));
  CHECK(eval("true || steps.x.outputs.missing", {}));
}

TEST_CASE("condition: parse errors say where and what was expected") {
  CHECK(parse_error("params.a &&") == "at column 12: expected a value (params.NAME, steps.NAME.outputs.KEY, a number, "
                                      "'text', true, false), found the end");
  CHECK(parse_error("params.a = 1").find("at column 10: unexpected \"=\"") != std::string::npos);
  CHECK(parse_error("(params.a").find("expected )") != std::string::npos);
  CHECK(parse_error("params.a params.b").find("at column 10: expected && or || or the end") != std::string::npos);
  CHECK(parse_error("'open").find("unterminated string") != std::string::npos);
  CHECK(parse_error("${{ params.a").find("unterminated") != std::string::npos);
  CHECK(parse_error("${{ params.a }} && ${{ params.b }}").find("inside one ${{ }}") != std::string::npos);
  CHECK(parse_error("item.year > 3").find("cannot use item") != std::string::npos);
  CHECK(parse_error("steps.a.output.k").find("cannot understand") != std::string::npos);
  CHECK(parse_error("   ") == "the condition is empty");
  CHECK(parse_error(std::string(100, '(') + "true" + std::string(100, ')')).find("nested deeper") != std::string::npos);
  CHECK(parse_error(std::string(100, '!') + "true").find("nested deeper") != std::string::npos);
}

TEST_CASE("condition: evaluation errors name the operand and what to do") {
  CHECK(eval_error("params.n", {{"params.n", 3}}) ==
        "${{ params.n }} is number 3, not true or false: compare it, e.g. ${{ params.n }} == 'yes'");
  CHECK(eval_error("steps.s.outputs.k", {}) == "${{ steps.s.outputs.k }} has no value");
  CHECK(eval_error("params.r > 3", {{"params.r", "eu"}}).find("cannot order string \"eu\" > number 3") !=
        std::string::npos);
  CHECK(eval_error("params.l < 'a'", {{"params.l", {1, 2}}}).find("cannot order array") != std::string::npos);
}

TEST_CASE("condition: integers compare by their digits at any length; the length of a condition is bounded") {
  // Outputs keep integers beyond 64 bits as their digits; doubles would make these equal.
  CHECK_FALSE(eval("steps.a.outputs.id == 9007199254740993", {{"steps.a.outputs.id", 9007199254740992LL}}));
  CHECK(eval("steps.a.outputs.id == 123456789012345678901234567890",
             {{"steps.a.outputs.id", "123456789012345678901234567890"}}));
  CHECK(eval("params.n == '+5'", {{"params.n", 5}}));
  std::string chain = "true";
  for (int k = 0; k < 600; ++k) chain += " && true";
  CHECK(parse_error(chain).find("longer than 1000") != std::string::npos);
}
