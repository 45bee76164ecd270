#pragma once
// A step's `when:` condition (docs/architecture.md, "Scatter, gather and conditions"): a
// boolean expression over workflow params and upstream outputs, e.g.
//   when: ${{ steps.check.outputs.ok && params.region != 'eu' }}
// Operators: ! && || == != < <= > >= and parentheses; operands: params.NAME,
// steps.NAME.outputs.KEY, true, false, null, numbers and 'quoted' or "quoted" strings.
// Parsed at load time (errors with positions before anything runs), evaluated when the step
// becomes ready. Pure: no I/O.
#include <memory>
#include <string>
#include <vector>

#include "krdc/workflow/template.h"

namespace krdc::workflow {

class Condition {
 public:
  // `text` is the `when:` value: `${{ expr }}` or the bare expression. Throws
  // std::invalid_argument saying what was expected where ("at column 12: ...").
  static Condition parse(const std::string& text);

  // Every params/steps reference in the expression, for validation.
  const std::vector<Reference>& references() const { return references_; }

  // True or false. A reference alone must be a boolean (or the string "true"/"false"); ordering
  // compares numbers with numbers and strings with strings. Throws std::invalid_argument for a
  // missing value or a type mismatch, naming the operand.
  bool evaluate(const Resolver& resolve) const;

  const std::string& text() const { return text_; }

  struct Node;

 private:
  std::string text_;
  std::shared_ptr<const Node> root_;
  std::vector<Reference> references_;
};

}  // namespace krdc::workflow
