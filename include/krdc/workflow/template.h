#pragma once
// `${{ steps.NAME.outputs.KEY }}`, `${{ params.NAME }}` and, in a scattered step,
// `${{ item }}` / `${{ item.FIELD }}` inside param values.
// Parsed once at load time (so bad references are reported with positions before anything
// runs) and substituted when the step becomes ready, from its upstream steps' outputs.
#include <nlohmann/json.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace krdc::workflow {

struct Reference {
  enum class Kind { kStepOutput, kParam, kItem };
  Kind kind = Kind::kParam;
  std::string step;  // for kStepOutput
  std::string key;   // output key, param name, or item field ("" for the whole item)
  std::string text;  // the reference as written, for messages
};

// One reference, the text between `${{` and `}}` (e.g. " params.year "). Throws
// std::invalid_argument naming the accepted forms.
Reference parse_reference(const std::string& body);

// Every reference found in a value (strings nested in lists/maps included).
// Throws std::invalid_argument with a precise message for malformed expressions.
std::vector<Reference> find_references(const nlohmann::json& value);

// Looks up a reference's value; returns nullopt when it does not exist (an error).
using Resolver = std::function<std::optional<nlohmann::json>(const Reference&)>;

// The one way references get their values: workflow params from `params`, ${{ item }} from
// `item` (null: none), and step outputs from `outputs_of(step)` (null function, or a null
// result: not known). The caller keeps all three alive while the resolver is used.
using OutputsOf = std::function<const nlohmann::json*(const std::string& step)>;
Resolver value_resolver(const nlohmann::json& params, const nlohmann::json* item, OutputsOf outputs_of = nullptr);

// Substitutes every reference. A string that is exactly one reference takes the referenced
// value with its JSON type (so a number output stays a number); otherwise values are
// rendered into the surrounding text. Throws std::invalid_argument naming a missing one.
nlohmann::json substitute(const nlohmann::json& value, const Resolver& resolve);

}  // namespace krdc::workflow
