#pragma once
// Workflow params given from outside the workflow file: `-p NAME=TEXT`, `--params-file FILE`,
// and the params a run recorded (`krdc attach`). Each value is read against the param's declared
// type, the YAML type of its default in spec.params (docs/architecture.md, "Values"):
//   - a str param takes -p TEXT verbatim (`-p s=3.10` is "3.10", `-p s=a: b` is "a: b");
//   - any other param reads TEXT as a YAML value (`-p b=true`, `-p years=[2021, 2022]`,
//     `-p ratio=3.10`), exact like YAML in the file (scalar_text.h), and it must be of that
//     type; a param without a default (required) takes whatever YAML value TEXT is.
// The file is a YAML mapping of param → value, read as strictly as every YAML krdc reads.
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "krdc/workflow/yaml_reader.h"

namespace krdc::workflow {

// Param name → its declared type (YamlType::kNull: no default, any value).
using DeclaredTypes = std::map<std::string, YamlType>;

// Why `value` does not fit a param declared as `declared`, or nullopt.
std::optional<std::string> check_declared_type(YamlType declared, const nlohmann::json& value);

// `-p key=text` as a typed value; throws InvalidInput naming -p and the param.
nlohmann::json param_from_text(const std::string& key, const std::string& text, const DeclaredTypes& declared);

// --params-file: every entry, typed and checked; errors carry file:line:column.
nlohmann::json read_params_file(const std::string& path, const DeclaredTypes& declared);

// Throws InvalidInput naming `source` ("-p", "the params file", ...) when `key` is not declared.
void require_declared(const std::string& source, const std::string& key, const DeclaredTypes& declared);

}  // namespace krdc::workflow
