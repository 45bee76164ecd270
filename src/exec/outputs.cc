#include "krdc/exec/outputs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace krdc::exec {

namespace {

// nlohmann's DOM builder, except for integers beyond 64 bits: the SAX parser hands number_float
// the literal's text, and an integer literal only lands there when it overflowed int64/uint64, so
// it is kept as the string of its digits (workflow/scalar_text.h) instead of a rounded double.
// (Literals beyond a double's range, 1e400 or 310 digits, nlohmann refuses: "not valid JSON".)
// Hiding the member is enough: sax_parse calls it on this static type.
class ExactNumbersDom : public nlohmann::detail::json_sax_dom_parser<nlohmann::json> {
 public:
  explicit ExactNumbersDom(nlohmann::json& root) : json_sax_dom_parser(root, /*allow_exceptions=*/false) {}
  bool number_float(double value, const std::string& text) {
    if (text.find_first_of(".eE") == std::string::npos) {
      std::string digits = text;
      return string(digits);
    }
    return json_sax_dom_parser::number_float(value, text);
  }
};

}  // namespace

std::optional<nlohmann::json> parse_outputs(const std::string& text, std::string& error) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
  nlohmann::json parsed;
  ExactNumbersDom dom(parsed);
  if (!nlohmann::json::sax_parse(text, &dom) || dom.is_errored()) {
    error = "outputs are not valid JSON (write one JSON object, e.g. {\"path\": \"/data/x.nc\"})";
    return std::nullopt;
  }
  if (!parsed.is_object()) {
    error = "outputs must be one JSON object, found " + std::string(parsed.type_name());
    return std::nullopt;
  }
  return parsed;
}

std::vector<std::string> missing_outputs(const workflow::App& app, const nlohmann::json& outputs) {
  std::vector<std::string> missing;
  for (const auto& o : app.outputs) {
    if (o.required && !(outputs.is_object() && outputs.contains(o.name))) missing.push_back(o.name);
  }
  return missing;
}

bool enforce_declared_outputs(const workflow::App& app, StepResult& result) {
  if (result.status != StepStatus::kSucceeded) return false;
  const auto missing = missing_outputs(app, result.outputs);
  if (missing.empty()) return false;
  std::string list;
  for (const auto& name : missing) list += (list.empty() ? "" : ", ") + name;
  result.status = StepStatus::kFailed;
  result.reason = fmt::format("the app exited {} but did not write its declared output{} {} (write them to "
                              "$KRDC_OUTPUTS, or mark them `required: false` in its descriptor)",
                              result.exit_code, missing.size() > 1 ? "s" : "", list);
  return true;
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
