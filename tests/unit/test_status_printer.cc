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
  CHECK(text.find("run succeeded: 1 succeeded, 0 failed, 0 skipped of 1 step") != std::string::npos);
}

TEST_CASE("status printer: --follow lines are prefixed, whole, and never written through the live status line") {
  Captured out;
  {
    krdc::runner::StatusPrinter status(out.file, /*live=*/true, /*color=*/false, 2);
    status.step_started("a", 1, "process");
    status.step_log("a", "one\ntw");  // a line cut in two chunks
    status.step_log("b", "other\n");
    status.step_log("a", "o\nunterminated");
    status.step_finished("a", "succeeded", 1.0, "");  // flushes "unterminated" first
    status.run_finished("succeeded", 1.0);
  }
  const std::string text = out.text();
  std::fclose(out.file);
  // Each log line starts on a cleared line (the status line is erased first, then redrawn).
  CHECK(text.find("\r\033[K[a] one\n") != std::string::npos);
  CHECK(text.find("\r\033[K[a] two\n") != std::string::npos);
  CHECK(text.find("\r\033[K[b] other\n") != std::string::npos);
  CHECK(text.find("[a] tw\n") == std::string::npos);
  CHECK(text.find("\r\033[K[a] unterminated\n") != std::string::npos);
  CHECK(text.find("[a] unterminated") < text.find("a succeeded"));
}

TEST_CASE("status printer: --follow ends a line at a carriage return, cuts a line that never ends, flushes on retry") {
  Captured out;
  {
    krdc::runner::StatusPrinter status(out.file, /*live=*/false, /*color=*/false, 1);
    status.step_started("a", 1, "process");
    status.step_log("a", "10%\r50%\r100%\r\ndone\n\nafter blank\n");
    status.step_log("a", std::string(5000, 'x'));  // a progress dump with no line end
    status.step_log("a", "partial");
    status.step_retrying("a", 2, "exit 1", 1000);
    status.step_log("a", "second\n");
    status.step_finished("a", "succeeded", 1.0, "");
  }
  const std::string text = out.text();
  std::fclose(out.file);
  // Each piece its own line, in order (non-live lines start with a timestamp).
  size_t at = 0;
  for (const char* piece : {"[a] 10%\n", "[a] 50%\n", "[a] 100%\n", "[a] done\n", "[a] \n", "[a] after blank\n"}) {
    const size_t next = text.find(piece, at);
    CHECK_MESSAGE(next != std::string::npos, piece);
    if (next != std::string::npos) at = next;
  }
  CHECK(text.find("[a] " + std::string(4096, 'x') + "\n") != std::string::npos);  // printed once long
  // What was pending when the attempt failed is printed before the retry line, not glued to
  // the next attempt's output.
  CHECK(text.find("[a] " + std::string(904, 'x') + "partial\n") < text.find("retrying"));
  CHECK(text.find("[a] second\n") != std::string::npos);
}

TEST_CASE("status printer: people read 'timed out', not the record's timed_out") {
  Captured out;
  {
    krdc::runner::StatusPrinter status(out.file, false, false, 1);
    status.step_finished("a", "timed_out", 1.0, "timed out after 1s");
    status.run_finished("failed", 1.0);
  }
  const std::string text = out.text();
  std::fclose(out.file);
  CHECK(text.find("step a timed out (") != std::string::npos);
  CHECK(text.find("timed_out") == std::string::npos);
  CHECK(text.find("of 1 step in") != std::string::npos);
}
