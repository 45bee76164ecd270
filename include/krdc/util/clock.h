#pragma once
// Wall-clock instants that can cross a process or machine boundary (e.g. a proxy Pod's
// timestamps read back by the driver): milliseconds since the Unix epoch.
#include <chrono>

namespace krdc::util {

inline long long epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace krdc::util
