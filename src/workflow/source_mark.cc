#include "krdc/workflow/source_mark.h"

#include <fmt/format.h>

namespace krdc::workflow {

std::string SourceMark::str() const {
  if (line <= 0) return file;
  return fmt::format("{}:{}:{}", file, line, column);
}

InvalidInput invalid_at(const SourceMark& mark, const std::string& message, std::string hint) {
  return InvalidInput(fmt::format("{}: {}", mark.str(), message), std::move(hint));
}

}  // namespace krdc::workflow
