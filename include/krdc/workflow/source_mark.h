#pragma once
// Where a value came from in a YAML file, so every error can say file:line:column.
#include <string>

#include "krdc/util/errors.h"

namespace krdc::workflow {

struct SourceMark {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based

  std::string str() const;  // "file:line:col", or just "file" when the position is unknown
};

// An invalid-input error prefixed with its position: "wf.yaml:12:7: step "fetch": ...".
InvalidInput invalid_at(const SourceMark& mark, const std::string& message, std::string hint = {});

}  // namespace krdc::workflow
