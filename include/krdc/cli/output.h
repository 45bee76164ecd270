#pragma once
// `-o json|yaml`: every command that prints data prints it through here, so both formats say
// the same thing. Text output stays each command's own, for people.
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

namespace krdc::cli {

// True for the formats meant for machines (json, yaml).
bool is_data_format(const std::string& output);

// `data` as JSON (indented) or as a YAML document, per `output` (json or yaml).
void print_data(std::ostream& out, const nlohmann::json& data, const std::string& output);

}  // namespace krdc::cli
