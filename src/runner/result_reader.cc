#include "krdc/runner/result_reader.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "krdc/util/errors.h"

namespace krdc::runner {

ResultFile read_result_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InvalidInput(fmt::format("cannot read result file {}: {}", path, std::strerror(errno)));
  ResultFile file;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto record = nlohmann::json::parse(line, nullptr, false);
    if (record.is_discarded() || !record.is_object()) {
      ++file.invalid_lines;
      continue;
    }
    file.records.push_back(std::move(record));
  }
  return file;
}

ResumeIndex::ResumeIndex(const ResultFile& file) {
  for (const auto& r : file.records) {
    if (r.value("type", "") != "step" || r.value("event", "") != "end") continue;
    const std::string status = r.value("status", "");
    if (status != "succeeded") continue;
    const std::string digest = r.value("inputsDigest", "");
    if (digest.empty()) continue;
    entries_[{r.value("step", ""), digest}] = r.value("outputs", nlohmann::json::object());
  }
}

const nlohmann::json* ResumeIndex::find(const std::string& step, const std::string& inputs_digest) const {
  auto it = entries_.find({step, inputs_digest});
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace krdc::runner
