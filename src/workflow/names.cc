#include "krdc/workflow/names.h"

namespace krdc::workflow {

namespace {

bool alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool is_label_like(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  if (!(alpha(s.front()) || digit(s.front())) || !(alpha(s.back()) || digit(s.back()))) return false;
  for (char c : s) {
    if (!(alpha(c) || digit(c) || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

bool is_param_name(const std::string& s) {
  if (s.empty() || s.size() > 64 || !(alpha(s.front()) || s.front() == '_')) return false;
  for (char c : s) {
    if (!(alpha(c) || digit(c) || c == '_' || c == '-')) return false;
  }
  return true;
}

bool is_env_name(const std::string& s) {
  if (s.empty() || !(alpha(s.front()) || s.front() == '_')) return false;
  for (char c : s) {
    if (!(alpha(c) || digit(c) || c == '_')) return false;
  }
  return true;
}

}  // namespace krdc::workflow
