#include "krdc/auth/token_source.h"

#include <fmt/format.h>

#include <fstream>
#include <iterator>

#include "krdc/util/errors.h"

namespace krdc::auth {

StaticTokenSource::StaticTokenSource(std::string token, std::string description)
    : token_(std::move(token)), description_(std::move(description)) {}

std::string StaticTokenSource::token() {
  std::lock_guard lock(mu_);
  if (rejected_) {
    throw AuthError(fmt::format("the {} was rejected by the server and cannot be renewed", description_),
                    "provide a fresh token, or unset it and run krdc login");
  }
  return token_;
}

void StaticTokenSource::invalidate() {
  std::lock_guard lock(mu_);
  rejected_ = true;
}

FileTokenSource::FileTokenSource(std::string path) : path_(std::move(path)) {}

std::string FileTokenSource::token() {
  std::ifstream in(path_, std::ios::binary);
  if (!in) throw AuthError(fmt::format("cannot read the token file {}", path_));
  std::string t((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!t.empty() && is_space(t.back())) t.pop_back();
  while (!t.empty() && is_space(t.front())) t.erase(0, 1);
  if (t.empty()) throw AuthError(fmt::format("the token file {} is empty", path_));
  return t;
}

}  // namespace krdc::auth
