#pragma once
// Shared by the libFuzzer targets (tests/fuzz/README.md). A target feeds its input to one of
// krdc's parsers and lets only krdc's own documented errors pass: krdc::Error and its
// subclasses (bad input is refused with a message, that is the job). Anything else escaping
// (std::out_of_range, nlohmann::json::type_error, std::bad_alloc...) aborts here with its
// message, and a sanitizer report aborts on its own: both are findings.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <typeinfo>

#include "krdc/util/errors.h"

namespace krdc::fuzz {

// Runs `body`; krdc::Error is a refusal (returns false), anything else is a finding.
template <typename F>
bool refused_or_ok(F&& body) {
  try {
    body();
    return true;
  } catch (const krdc::Error&) {
    return false;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FINDING: %s escaped: %s\n", typeid(e).name(), e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "FINDING: a non-std exception escaped\n");
    std::abort();
  }
}

inline std::string text(const uint8_t* data, size_t size) { return std::string(reinterpret_cast<const char*>(data), size); }

}  // namespace krdc::fuzz
