// The status printer's plain (non-TTY) lines: what a CI log shows. Cancelled steps are counted
// as cancelled, not failed, in the closing line.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "krdc/runner/status_printer.h"

namespace {

// Everything printed to a memory stream, read once the printer is gone.
struct Captured {
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* file = open_memstream(&buf, &size);
  ~Captured() { std::free(buf); }
  std::string text() {
    std::fflush(file);
    return std::string(buf, size);
  }
};

}  // namespace

TEST_CASE("status printer: the closing line counts cancelled steps apart from failed ones") {
  Captured out;
  {
    krdc::runner::StatusPrinter status(out.file, /*live=*/false, /*color=*/false, 4);
    status.step_finished("a", "succeeded", 1.0, "");
    status.step_finished("b", "cancelled", 2.0, "cancelled; Job b-1 deleted");
    status.step_finished("c", "failed", 2.0, "exited with code 3");
    status.step_finished("d", "skipped", 0, "run cancelled");
    status.run_finished("cancelled", 2.5);
  }
  const std::string text = out.text();
  std::fclose(out.file);
  CHECK(text.find("step b cancelled (") != std::string::npos);
  CHECK(text.find("run cancelled: 1 succeeded, 1 failed, 1 cancelled, 1 skipped of 4 steps") != std::string::npos);
}

TEST_CASE("status printer: no cancelled count when nothing was cancelled") {
  Captured out;
  {
    krdc::runner::StatusPrinter status(out.file, false, false, 1);
    status.step_finished("a", "succeeded", 1.0, "");
    status.run_finished("succeeded", 1.0);
  }
  const std::string text = out.text();
  std::fclose(out.file);
  CHECK(text.find("run succeeded: 1 succeeded, 0 failed, 0 skipped of 1 steps") != std::string::npos);
}
