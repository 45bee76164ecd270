#include "krdc/cli/output.h"

#include "krdc/workflow/yaml_writer.h"

namespace krdc::cli {

bool is_data_format(const std::string& output) { return output == "json" || output == "yaml"; }

void print_data(std::ostream& out, const nlohmann::json& data, const std::string& output) {
  if (output == "yaml") {
    out << workflow::json_to_yaml(data);
  } else {
    out << data.dump(2) << "\n";
  }
}

}  // namespace krdc::cli
