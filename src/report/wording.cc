#include "krdc/report/wording.h"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <vector>

namespace krdc::report {

std::string status_label(const std::string& status) { return status == "timed_out" ? "timed out" : status; }

std::string executor_label(const std::string& executor) { return executor == "kube" ? "job" : executor; }

std::string plural(size_t n, std::string_view noun) {
  std::string word(noun);
  if (n != 1) {
    const bool consonant_y = word.size() > 1 && word.back() == 'y' && std::string_view("aeiou").find(word[word.size() - 2]) == std::string_view::npos;
    if (consonant_y) word = word.substr(0, word.size() - 1) + "ies";
    else if (word.ends_with("s")) word += "es";
    else word += "s";
  }
  return fmt::format("{} {}", n, word);
}

std::string format_seconds(std::optional<double> seconds) {
  if (!seconds || !std::isfinite(*seconds) || *seconds < 0) return "-";
  const double s = *seconds;
  if (s < 60) return fmt::format("{:.1f}s", s);
  if (s < 3600) {
    const auto whole = static_cast<int>(s);
    return fmt::format("{}m {:02}s", whole / 60, whole % 60);
  }
  // In doubles: a hand-edited durationSec of 1e300 must not overflow an integer.
  return fmt::format("{:.0f}h {:02}m", std::floor(s / 3600), static_cast<int>(std::fmod(s, 3600) / 60));
}

std::string outputs_line(const nlohmann::json& outputs, size_t max) {
  if (!outputs.is_object() || outputs.empty()) return "";
  std::string line;
  for (const auto& [key, value] : outputs.items()) {
    if (!line.empty()) line += ", ";
    line += key + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
    if (line.size() > max) break;
  }
  if (line.size() <= max) return line;
  // Cut on a UTF-8 character boundary, never inside a multi-byte sequence.
  size_t cut = max > 1 ? max - 1 : 0;
  while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
  return line.substr(0, cut) + "…";
}

std::string status_counts(const RunSummary& run) {
  // A fixed order people read well; any status not listed follows alphabetically.
  static const std::vector<std::string> order = {"succeeded", "reused", "failed", "timed_out", "cancelled",
                                                 "lost",      "skipped", "detached"};
  std::map<std::string, size_t> counts;
  for (const auto& s : run.steps) ++counts[s.status];
  std::string out;
  auto add = [&](const std::string& status, size_t n) {
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, status_label(status));
  };
  for (const auto& status : order) {
    if (auto it = counts.find(status); it != counts.end()) {
      add(status, it->second);
      counts.erase(it);
    }
  }
  for (const auto& [status, n] : counts) add(status, n);
  return out;
}

std::string run_status_line(const RunSummary& run) {
  if (run.status == "incomplete") return "incomplete (no run footer: krdc was killed, or the run is still going)";
  return status_label(run.status);
}

size_t display_width(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

std::string pad_right(const std::string& text, size_t width) {
  const size_t w = display_width(text);
  return w >= width ? text : text + std::string(width - w, ' ');
}

}  // namespace krdc::report
