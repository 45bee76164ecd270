#include "krdc/workflow/template.h"

#include <fmt/format.h>

#include <cctype>
#include <stdexcept>

#include "krdc/workflow/scalar_text.h"

namespace krdc::workflow {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

bool is_name(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return true;
}

std::vector<std::string> split_dots(const std::string& s) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const auto dot = s.find('.', start);
    parts.push_back(s.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

}  // namespace

Reference parse_reference(const std::string& body) {
  const std::string expr = trim(body);
  const auto parts = split_dots(expr);
  Reference ref;
  ref.text = "${{ " + expr + " }}";
  if (parts.size() == 4 && parts[0] == "steps" && parts[2] == "outputs" && is_name(parts[1]) && is_name(parts[3])) {
    ref.kind = Reference::Kind::kStepOutput;
    ref.step = parts[1];
    ref.key = parts[3];
    return ref;
  }
  if (parts.size() == 2 && parts[0] == "params" && is_name(parts[1])) {
    ref.kind = Reference::Kind::kParam;
    ref.key = parts[1];
    return ref;
  }
  if (parts[0] == "item" && (parts.size() == 1 || (parts.size() == 2 && is_name(parts[1])))) {
    ref.kind = Reference::Kind::kItem;
    if (parts.size() == 2) ref.key = parts[1];
    return ref;
  }
  throw std::invalid_argument(fmt::format(
      "cannot understand \"{}\": use ${{{{ steps.NAME.outputs.KEY }}}}, ${{{{ params.NAME }}}} or, in a step "
      "with forEach or matrix, ${{{{ item }}}} / ${{{{ item.FIELD }}}}",
      ref.text));
}

namespace {

// Walks one string: calls on_text for literal runs and on_ref for each reference.
template <typename OnText, typename OnRef>
void scan(const std::string& s, OnText on_text, OnRef on_ref) {
  size_t pos = 0;
  while (pos < s.size()) {
    const auto open = s.find("${{", pos);
    if (open == std::string::npos) {
      on_text(s.substr(pos));
      return;
    }
    const auto close = s.find("}}", open + 3);
    if (close == std::string::npos) {
      throw std::invalid_argument(fmt::format("unterminated \"${{{{\" in \"{}\": add the closing }}}}", s));
    }
    on_text(s.substr(pos, open - pos));
    on_ref(parse_reference(s.substr(open + 3, close - open - 3)));
    pos = close + 2;
  }
}

void collect(const nlohmann::json& value, std::vector<Reference>& out) {
  if (value.is_string()) {
    scan(value.get_ref<const std::string&>(), [](const std::string&) {},
         [&](Reference r) { out.push_back(std::move(r)); });
  } else if (value.is_array() || value.is_object()) {
    for (const auto& item : value) collect(item, out);
  }
}

// Inside text a value appears as it reaches argv: its exact text (scalar_text.h).
std::string render_scalar(const nlohmann::json& v) { return scalar_text(v); }

}  // namespace

std::vector<Reference> find_references(const nlohmann::json& value) {
  std::vector<Reference> out;
  collect(value, out);
  return out;
}

Resolver value_resolver(const nlohmann::json& params, const nlohmann::json* item, OutputsOf outputs_of) {
  return [&params, item, outputs_of = std::move(outputs_of)](const Reference& ref) -> std::optional<nlohmann::json> {
    const nlohmann::json* source = nullptr;
    switch (ref.kind) {
      case Reference::Kind::kParam: source = &params; break;
      case Reference::Kind::kItem:
        if (item && ref.key.empty()) return *item;
        source = item;
        break;
      case Reference::Kind::kStepOutput: source = outputs_of ? outputs_of(ref.step) : nullptr; break;
    }
    if (!source || !source->is_object() || !source->contains(ref.key)) return std::nullopt;
    return source->at(ref.key);
  };
}

nlohmann::json substitute(const nlohmann::json& value, const Resolver& resolve) {
  if (value.is_array()) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& item : value) arr.push_back(substitute(item, resolve));
    return arr;
  }
  if (value.is_object()) {
    nlohmann::json obj = nlohmann::json::object();
    for (auto it = value.begin(); it != value.end(); ++it) obj[it.key()] = substitute(it.value(), resolve);
    return obj;
  }
  if (!value.is_string()) return value;
  const auto& s = value.get_ref<const std::string&>();
  if (s.find("${{") == std::string::npos) return value;

  auto lookup = [&](const Reference& r) {
    auto v = resolve(r);
    if (!v) throw std::invalid_argument(fmt::format("{} has no value", r.text));
    return *v;
  };
  // Exactly one reference and nothing else: keep the referenced value's type.
  std::vector<Reference> refs;
  std::string literal;
  scan(s, [&](const std::string& t) { literal += t; }, [&](Reference r) { refs.push_back(std::move(r)); });
  if (refs.size() == 1 && trim(literal).empty()) return lookup(refs[0]);

  std::string out;
  scan(s, [&](const std::string& t) { out += t; }, [&](const Reference& r) { out += render_scalar(lookup(r)); });
  return out;
}

}  // namespace krdc::workflow
