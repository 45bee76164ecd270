#include "krdc/exec/outputs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace krdc::exec {

std::optional<nlohmann::json> parse_outputs(const std::string& text, std::string& error) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
  auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    error = "outputs are not valid JSON (write one JSON object, e.g. {\"path\": \"/data/x.nc\"})";
    return std::nullopt;
  }
  if (!parsed.is_object()) {
    error = "outputs must be one JSON object, found " + std::string(parsed.type_name());
    return std::nullopt;
  }
  return parsed;
}

std::string read_tail(const std::string& path, size_t max_bytes) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  struct stat st {};
  std::string out;
  if (fstat(fd, &st) == 0 && st.st_size > 0) {
    const auto size = static_cast<size_t>(st.st_size);
    const size_t n = size < max_bytes ? size : max_bytes;
    out.resize(n);
    const ssize_t got = pread(fd, out.data(), n, static_cast<off_t>(size - n));
    out.resize(got > 0 ? static_cast<size_t>(got) : 0);
    if (n < size) {
      const auto nl = out.find('\n');
      if (nl != std::string::npos && nl + 1 < out.size()) out.erase(0, nl + 1);
    }
  }
  close(fd);
  // Replace invalid UTF-8 (a tail may cut a character, apps may print bytes) so records stay valid JSON.
  const std::string clean = nlohmann::json(out).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return nlohmann::json::parse(clean).get<std::string>();
}

}  // namespace krdc::exec
