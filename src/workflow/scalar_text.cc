#include "krdc/workflow/scalar_text.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "krdc/workflow/yaml_guard.h"

namespace krdc::workflow {

namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string_view without_sign(std::string_view s) {
  return !s.empty() && (s[0] == '-' || s[0] == '+') ? s.substr(1) : s;
}

std::string shortest_float_text(double d) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, d);
  std::string s(buf, ec == std::errc() ? ptr : buf);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

// Integer text with no sign '+', no leading zeros and no "-0": equal texts, equal integers.
std::optional<std::string> canonical_int(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.dump();
  if (!v.is_string() || !is_int_text(v.get_ref<const std::string&>())) return std::nullopt;
  const std::string& s = v.get_ref<const std::string&>();
  std::string_view digits = without_sign(s);
  while (digits.size() > 1 && digits[0] == '0') digits.remove_prefix(1);
  const bool negative = s[0] == '-' && digits != "0";
  return (negative ? "-" : "") + std::string(digits);
}

std::optional<double> float_of(const nlohmann::json& v) {
  if (v.is_number()) return v.get<double>();
  if (!v.is_string() || !is_float_text(v.get_ref<const std::string&>())) return std::nullopt;
  return std::strtod(v.get_ref<const std::string&>().c_str(), nullptr);
}

}  // namespace

nlohmann::json number_value(const std::string& text, NumberKind kind) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (kind == NumberKind::kInt) {
    long long i = 0;
    if (auto [p, ec] = std::from_chars(first, last, i); ec == std::errc() && p == last && std::to_string(i) == text) {
      return i;
    }
    unsigned long long u = 0;  // 2^63 .. 2^64-1: still exact as a JSON number
    if (auto [p, ec] = std::from_chars(first, last, u); ec == std::errc() && p == last && std::to_string(u) == text) {
      return u;
    }
    return text;
  }
  double d = 0;
  if (auto [p, ec] = std::from_chars(first, last, d);
      ec == std::errc() && p == last && std::isfinite(d) && shortest_float_text(d) == text) {
    return d;
  }
  return text;
}

std::string scalar_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) return shortest_float_text(value.get<double>());
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool is_int_text(std::string_view text) { return all_digits(without_sign(text)); }

bool is_float_text(std::string_view text) {
  // YAML 1.2 core: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
  std::string_view s = without_sign(text);
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  const size_t whole = digits();
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0 && whole == 0) return false;
  } else if (whole == 0) {
    return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (digits() == 0) return false;
  }
  if (i != s.size()) return false;
  // strtod reads exactly this grammar (the C locale krdc runs in); 1e400 is no float argparse
  // should pass on (Python makes it inf).
  return std::isfinite(std::strtod(std::string(text).c_str(), nullptr));
}

bool same_number(const nlohmann::json& a, const nlohmann::json& b, NumberKind kind) {
  if (kind == NumberKind::kInt) {
    const auto x = canonical_int(a);
    const auto y = canonical_int(b);
    return x && y && *x == *y;
  }
  const auto x = float_of(a);
  const auto y = float_of(b);
  return x && y && *x == *y;
}

std::optional<std::string> argv_problem(std::string_view text) {
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    return fmt::format("holds a NUL byte (byte {}), which an argv element cannot carry: the value would be cut there",
                       nul + 1);
  }
  if (const auto bad = invalid_utf8_at(text)) return fmt::format("is not valid UTF-8 (byte {})", *bad + 1);
  return std::nullopt;
}

}  // namespace krdc::workflow
