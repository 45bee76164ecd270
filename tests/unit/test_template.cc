#include <doctest/doctest.h>

#include <stdexcept>

#include "krdc/workflow/template.h"

using namespace krdc::workflow;
using nlohmann::json;

TEST_CASE("references are found in nested values") {
  const auto refs = find_references({{"a", "${{ steps.fetch.outputs.path }}"}, {"b", {"x ${{params.year}} y"}}});
  REQUIRE(refs.size() == 2);
  CHECK(refs[0].kind == Reference::Kind::kStepOutput);
  CHECK(refs[0].step == "fetch");
  CHECK(refs[0].key == "path");
  CHECK(refs[1].kind == Reference::Kind::kParam);
  CHECK(refs[1].key == "year");
}

TEST_CASE("malformed expressions are errors, not literal text") {
  CHECK_THROWS_AS(find_references("${{ steps.a }}"), std::invalid_argument);
  CHECK_THROWS_AS(find_references("${{ env.HOME }}"), std::invalid_argument);
  CHECK_THROWS_AS(find_references("${{ params.x "), std::invalid_argument);
}

TEST_CASE("a whole-string reference keeps the value's type; embedded ones render as text") {
  const Resolver r = [](const Reference& ref) -> std::optional<json> {
    if (ref.key == "n") return 3;
    if (ref.key == "s") return "a b";
    if (ref.key == "l") return json::array({1, 2});
    return std::nullopt;
  };
  CHECK(substitute("${{ params.n }}", r) == 3);
  CHECK(substitute("${{ params.l }}", r) == json::array({1, 2}));
  CHECK(substitute("n=${{ params.n }}, s=${{ params.s }}", r) == "n=3, s=a b");
  CHECK(substitute(json::array({"${{ params.s }}", 5}), r) == json::array({"a b", 5}));
  CHECK_THROWS_WITH_AS(substitute("${{ params.missing }}", r), doctest::Contains("has no value"), std::invalid_argument);
}

#include "krdc/workflow/yaml_writer.h"

TEST_CASE("YAML output quotes strings a reader would retype") {
  const auto yaml = json_to_yaml({{"attempt", "1"}, {"flag", "true"}, {"none", ""}, {"n", 1}, {"name", "step-1"}});
  const auto back = YAML::Load(yaml);
  CHECK(back["attempt"].Tag() == "!");  // quoted: stays the string "1"
  CHECK(back["flag"].Tag() == "!");
  CHECK(back["none"].Tag() == "!");
  CHECK(back["n"].Tag() == "?");  // a real number stays plain
  CHECK(back["name"].as<std::string>() == "step-1");
}
