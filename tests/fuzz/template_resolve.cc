// The `${{ }}` resolver: find_references (load time) and substitute (when a step becomes
// ready) on a value holding the input. The input is used as a JSON value when it is one (lists
// and maps nest strings), else as one string. References resolve from fixed tables whose values
// have every JSON type, a string holding `${{` included (substitution must not re-expand it).
// template.h documents std::invalid_argument for malformed expressions and missing references:
// that, and krdc::Error, are refusals.
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "fuzz_support.h"
#include "krdc/workflow/template.h"

using nlohmann::json;
using krdc::workflow::Reference;

namespace {
const json kOutputs = json::parse(R"({"message": "Hello, Ada!", "n": 7, "x": 0.25, "flag": true, "none": null,
  "list": [1, "two", {"three": 3}], "map": {"a": "b"}, "nested": "${{ steps.a.outputs.message }}", "empty": ""})");
const json kParams = json::parse(R"({"name": "Ada", "count": -3, "big": 1e300, "on": false, "tags": ["x", "y"],
  "dollar": "$${{ }}"})");

std::optional<json> resolve(const Reference& ref) {
  if (ref.kind == Reference::Kind::kParam) {
    auto it = kParams.find(ref.key);
    if (it == kParams.end()) return std::nullopt;
    return *it;
  }
  if (ref.step != "a" && ref.step != "greet") return std::nullopt;
  auto it = kOutputs.find(ref.key);
  if (it == kOutputs.end()) return std::nullopt;
  return *it;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = krdc::fuzz::text(data, size);
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  const bool valid_utf8 = !value.is_discarded();  // the JSON parser checked every string
  if (!valid_utf8) value = text;
  krdc::fuzz::refused_or_ok([&] {
    try {
      const auto refs = krdc::workflow::find_references(value);
      for (const auto& r : refs) (void)resolve(r);
      const json out = krdc::workflow::substitute(value, resolve);
      // Valid UTF-8 in, valid UTF-8 out: the result goes to the result file and the Job spec.
      if (valid_utf8) (void)out.dump(-1, ' ', false, json::error_handler_t::strict);
    } catch (const std::invalid_argument&) {
      // documented refusal (template.h)
    }
  });
  return 0;
}
