#pragma once
// Exact values (docs/architecture.md, "Values"): a scalar a workflow gives an app reaches argv as
// the text it was written with (`3.10`, `0777`, `1e5`, 20-digit integers), never as a number
// krdc parsed and printed again. Values stay nlohmann::json everywhere (step params, workflow
// params, outputs, the result file); this one convention makes JSON keep the text:
//
//   - a number is a JSON number only when scalar_text() prints it back as its source text
//     exactly (2021, -3, 0.25, 1.0);
//   - any other number text (3.10, 0777, 1e5, +5, .5, 12345678901234567890) is a JSON string
//     holding that text. int and float params accept such strings (is_int_text, is_float_text),
//     so the number is checked as a number and still rendered as written.
//
// YAML scalars (YamlReader::to_json), typed -p values and step outputs (exec::parse_outputs:
// integers beyond 64 bits) all follow it, so does anything built from them later (scatter items).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace krdc::workflow {

enum class NumberKind { kInt, kFloat };

// `text` (a number literal of that kind) as a value: a JSON number when that number prints back
// as `text`, otherwise the JSON string `text`.
nlohmann::json number_value(const std::string& text, NumberKind kind);

// The text a scalar renders as on argv: strings as they are, integers in decimal, floats as the
// shortest text that reads back the same (with ".0" when it would look like an integer, as
// Python writes floats), booleans as true/false.
std::string scalar_text(const nlohmann::json& value);

// What Python's int() (argparse type=int) reads, at any length: [-+]?[0-9]+.
bool is_int_text(std::string_view text);
// What Python's float() reads and stays finite: a YAML 1.2 core float or int (3.10, 1e5, .5, -2).
bool is_float_text(std::string_view text);

// The same number, as argparse would compare it after type conversion: integers by their
// digits (any length), floats by value. False when either is not a number of that kind.
bool same_number(const nlohmann::json& a, const nlohmann::json& b, NumberKind kind);

// Why `text` cannot be one argv element, or nullopt: a NUL byte would silently cut it there,
// and invalid UTF-8 would not survive the result file and argparse's decoding unchanged.
std::optional<std::string> argv_problem(std::string_view text);

}  // namespace krdc::workflow
