#include "krdc/workflow/params.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "krdc/util/errors.h"
#include "krdc/workflow/scalar_text.h"

namespace krdc::workflow {

namespace {

std::optional<std::string> check_scalar(const ParamSpec& spec, const nlohmann::json& v) {
  // Number text is accepted as a number (values from -p, outputs and exact YAML numbers such as
  // 3.10 arrive as strings: scalar_text.h) and renders as written.
  switch (spec.type) {
    case ParamType::kString:
    case ParamType::kPath:
      if (v.is_string() || v.is_number()) return std::nullopt;
      break;
    case ParamType::kInt:
      if (v.is_number_integer() || (v.is_string() && is_int_text(v.get_ref<const std::string&>()))) return std::nullopt;
      break;
    case ParamType::kFloat:
      if (v.is_number() || (v.is_string() && is_float_text(v.get_ref<const std::string&>()))) return std::nullopt;
      break;
    case ParamType::kBool:
      if (v.is_boolean()) return std::nullopt;
      break;
  }
  return fmt::format("expects {}, got {}", to_string(spec.type), v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// The text a value reaches argv as: the text it was written with (scalar_text.h).
std::string render_value(const nlohmann::json& v) { return scalar_text(v); }

// argparse compares choices after type conversion: numbers by value (0.50 is 0.5), the rest as text.
bool matches_choice(const ParamSpec& spec, const nlohmann::json& v, const nlohmann::json& choice) {
  if (spec.type == ParamType::kInt) return same_number(v, choice, NumberKind::kInt);
  if (spec.type == ParamType::kFloat) return same_number(v, choice, NumberKind::kFloat);
  return render_value(choice) == render_value(v);
}

std::optional<std::string> check_choice(const ParamSpec& spec, const nlohmann::json& v) {
  if (spec.choices.empty()) return std::nullopt;
  for (const auto& c : spec.choices) {
    if (matches_choice(spec, v, c)) return std::nullopt;
  }
  std::string list;
  for (const auto& c : spec.choices) list += (list.empty() ? "" : ", ") + render_value(c);
  return fmt::format("{} is not one of the choices: {}", v.dump(), list);
}

// What argparse reads as an option rather than a value (argparse._parse_optional): text that
// starts with '-', longer than "-", is no negative number by argparse's own pattern
// (^-\d+$|^-\d*\.\d+$: so "-1e5" and "-inf" are options) and has no space.
bool looks_like_option(const std::string& s) {
  if (s.size() < 2 || s[0] != '-' || s.find(' ') != std::string::npos) return false;
  size_t i = 1;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == s.size()) return false;  // -\d+
  if (s[i] != '.' || i + 1 == s.size()) return true;
  for (size_t k = i + 1; k < s.size(); ++k) {
    if (s[k] < '0' || s[k] > '9') return true;
  }
  return false;  // -\d*\.\d+
}

// action="count": the flag given N times. Bounded so argv stays small.
constexpr long long kMaxCount = 100;

std::optional<long long> count_of(const nlohmann::json& v) {
  long long n = -1;
  if (v.is_number_integer()) {
    n = v.get<long long>();
  } else if (v.is_string()) {
    const auto& t = v.get_ref<const std::string&>();
    const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
    if (ec != std::errc() || ptr != t.data() + t.size()) return std::nullopt;
  }
  if (n < 0 || n > kMaxCount) return std::nullopt;
  return n;
}

// A value's argv text, refused rather than silently cut (a NUL) or mangled (invalid UTF-8).
std::string arg_text(const std::string& name, const nlohmann::json& v) {
  std::string text = render_value(v);
  if (auto problem = argv_problem(text)) {
    throw InvalidInput(fmt::format("param \"{}\": the value {}", name, *problem),
                       "an app's outputs bound for argv must be text; pass binary data in a file and output its path");
  }
  return text;
}

}  // namespace

std::optional<std::string> check_param(const ParamSpec& spec, const nlohmann::json& value) {
  if (value.is_null()) return std::string("has no value");
  if (spec.count) {
    if (!count_of(value)) {
      return fmt::format("counts how often {} is given: expects an int from 0 to {}, got {}", spec.flag, kMaxCount,
                         value.dump());
    }
    return std::nullopt;
  }
  if (spec.takes_list()) {
    const nlohmann::json items = value.is_array() ? value : nlohmann::json::array({value});
    if (spec.nargs == "+" && items.empty()) return std::string("needs at least one value");
    if (spec.nargs != "*" && spec.nargs != "+" && !spec.append) {
      size_t count = 0;  // the descriptor loader allows 1..1000; anything else never matches
      auto [ptr, ec] = std::from_chars(spec.nargs.data(), spec.nargs.data() + spec.nargs.size(), count);
      if (ec != std::errc() || ptr != spec.nargs.data() + spec.nargs.size()) {
        return fmt::format("has an unusable nargs \"{}\"", spec.nargs);
      }
      if (items.size() != count) return fmt::format("needs exactly {} values, got {}", count, items.size());
    }
    for (const auto& item : items) {
      if (item.is_array() || item.is_object()) return fmt::format("list items must be scalars, got {}", item.dump());
      if (auto err = check_scalar(spec, item)) return err;
      if (auto err = check_choice(spec, item)) return err;
      // `--flag a b` lists: argparse would read such an item as an option, not a value
      // (render_args refuses it too). Positionals follow "--" and append renders --flag=value.
      if (!spec.flag.empty() && !spec.append && looks_like_option(render_value(item))) {
        return fmt::format("list value \"{}\" would be read as an option by argparse", render_value(item));
      }
    }
    return std::nullopt;
  }
  if (spec.append && value.is_array()) {
    for (const auto& item : value) {
      if (auto err = check_scalar(spec, item)) return err;
      if (auto err = check_choice(spec, item)) return err;
    }
    return std::nullopt;
  }
  if (value.is_array() || value.is_object()) {
    return fmt::format("expects a single {}, got {}", to_string(spec.type), value.is_array() ? "a list" : "a mapping");
  }
  if (auto err = check_scalar(spec, value)) return err;
  return check_choice(spec, value);
}

std::vector<std::string> missing_required(const App& app, const nlohmann::json& params) {
  std::vector<std::string> missing;
  for (const auto& p : app.params) {
    if (p.required && p.default_value.is_null() && (!params.contains(p.name) || params.at(p.name).is_null())) {
      missing.push_back(p.name);
    }
  }
  return missing;
}

std::vector<std::string> render_args(const App& app, const nlohmann::json& params) {
  std::vector<std::string> args;
  if (!app.has_interface) {
    for (auto it = params.begin(); it != params.end(); ++it) {
      const auto& v = it.value();
      if (v.is_boolean()) {
        if (v.get<bool>()) args.push_back("--" + it.key());
      } else if (v.is_array()) {
        for (const auto& item : v) args.push_back(fmt::format("--{}={}", it.key(), arg_text(it.key(), item)));
      } else if (!v.is_null()) {
        args.push_back(fmt::format("--{}={}", it.key(), arg_text(it.key(), v)));
      }
    }
    return args;
  }
  std::vector<std::string> positionals;
  for (const auto& spec : app.params) {
    if (!params.contains(spec.name) || params.at(spec.name).is_null()) continue;  // argparse applies its default
    const auto& v = params.at(spec.name);
    if (spec.flag.empty()) {
      const nlohmann::json items = v.is_array() ? v : nlohmann::json::array({v});
      for (const auto& item : items) positionals.push_back(arg_text(spec.name, item));
      continue;
    }
    if (spec.count) {
      const auto n = count_of(v);
      if (!n) throw InvalidInput(fmt::format("param \"{}\" {}", spec.name, *check_param(spec, v)));
      for (long long k = 0; k < *n; ++k) args.push_back(spec.flag);
      continue;
    }
    if (spec.type == ParamType::kBool) {
      // Not yet a bool (a dry run keeps ${{ steps.S.outputs.K }} as written): no argv to show.
      if (!v.is_boolean()) {
        throw InvalidInput(fmt::format("param \"{}\" expects bool, got {}", spec.name,
                                       v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
      }
      if (v.get<bool>()) args.push_back(spec.flag);
      continue;
    }
    if (spec.append) {
      const nlohmann::json items = v.is_array() ? v : nlohmann::json::array({v});
      for (const auto& item : items) args.push_back(spec.flag + "=" + arg_text(spec.name, item));
      continue;
    }
    if (spec.takes_list()) {
      const nlohmann::json items = v.is_array() ? v : nlohmann::json::array({v});
      args.push_back(spec.flag);
      for (const auto& item : items) {
        const std::string text = arg_text(spec.name, item);
        if (looks_like_option(text)) {
          throw InvalidInput(fmt::format("param \"{}\": list value \"{}\" would be read as an option", spec.name, text));
        }
        args.push_back(text);
      }
      continue;
    }
    // --flag=value keeps values that start with '-' (negative numbers, "-x") as values.
    args.push_back(spec.flag + "=" + arg_text(spec.name, v));
  }
  if (!positionals.empty()) {
    // "--" ends option parsing so positionals are never mistaken for options.
    args.push_back("--");
    args.insert(args.end(), positionals.begin(), positionals.end());
  }
  return args;
}

}  // namespace krdc::workflow
