#pragma once
// Reading result files back: for `--resume` (which steps already succeeded with the same
// inputs) and `krdc report`. Tolerates a torn last line (reported, not fatal).
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace krdc::runner {

struct ResultFile {
  std::vector<nlohmann::json> records;
  size_t invalid_lines = 0;
};

ResultFile read_result_file(const std::string& path);

// step name → (inputs digest → outputs) of steps that succeeded, latest record wins.
class ResumeIndex {
 public:
  ResumeIndex() = default;
  explicit ResumeIndex(const ResultFile& file);
  // The outputs of a previous success of `step` with exactly these inputs, if any.
  const nlohmann::json* find(const std::string& step, const std::string& inputs_digest) const;
  size_t size() const { return entries_.size(); }

 private:
  std::map<std::pair<std::string, std::string>, nlohmann::json> entries_;
};

}  // namespace krdc::runner
