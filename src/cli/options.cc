#include "krdc/cli/options.h"

#include <iostream>

namespace krdc::cli {

http::ClientOptions http_options(const GlobalOptions& global, int log_level) {
  http::ClientOptions o;
  if (global.interrupts) o.cancelled = global.interrupts->abort_predicate();
  if (global.verbose >= log_level) {
    o.log = [](std::string_view line) { std::cerr << "krdc: http: " << line << "\n"; };
  }
  return o;
}

}  // namespace krdc::cli
