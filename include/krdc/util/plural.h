#pragma once
// "1 step", "2 steps", "1 dependency": counts in messages people read.
#include <cstddef>
#include <string>
#include <string_view>

namespace krdc::util {

// `n` and the noun in the right number; `plural` defaults to `singular` + "s".
std::string counted(std::size_t n, std::string_view singular, std::string_view plural = {});

}  // namespace krdc::util
