#include "krdc/exec/process/log_tail.h"

#include <fstream>

namespace krdc::exec {

std::string LogTail::read_new(std::size_t max_bytes) {
  std::ifstream in(file_, std::ios::binary);
  if (!in) return {};
  in.seekg(static_cast<std::streamoff>(offset_));
  std::string chunk(max_bytes, '\0');
  in.read(chunk.data(), static_cast<std::streamsize>(max_bytes));
  chunk.resize(static_cast<std::size_t>(in.gcount()));
  offset_ += chunk.size();
  return chunk;
}

}  // namespace krdc::exec
