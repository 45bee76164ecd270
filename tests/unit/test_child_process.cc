// A spawned app gets stdin (/dev/null), stdout and stderr (its log) and no other descriptor of
// krdc's, even one another thread opened without O_CLOEXEC (libraries do). Captured stdout (a
// credential plugin's) stays in memory, bounded, and a wake fd ends the wait.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "krdc/util/cancel.h"
#include "krdc/util/child_process.h"
#include "support/temp_dir.h"

TEST_CASE("child process: only fds 0, 1 and 2 reach the app") {
  krdc::test::TempDir dir;
  // Deliberately without O_CLOEXEC, and high: the shell's own glob below opens the next free fd.
  const int devnull = ::open("/dev/null", O_RDONLY);
  const int leaked = ::fcntl(devnull, F_DUPFD, 100);
  ::close(devnull);
  REQUIRE(leaked >= 100);
  krdc::util::SpawnSpec spec;
  spec.argv = {"/bin/sh", "-c", "for f in /proc/$$/fd/*; do echo \"${f##*/}\"; done"};
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.output_file = dir / "fds.txt";
  {
    krdc::util::ChildProcess child(spec);
    REQUIRE(child.wait(10'000));
  }
  ::close(leaked);
  std::ifstream in(dir / "fds.txt");
  std::set<int> fds;
  for (std::string line; std::getline(in, line);) fds.insert(std::stoi(line));
  CHECK(fds.count(0) == 1);
  CHECK(fds.count(1) == 1);
  CHECK(fds.count(2) == 1);
  CHECK(fds.count(leaked) == 0);
  CHECK(*fds.rbegin() < 100);
}

namespace {
int open_fd_count() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}
}  // namespace

TEST_CASE("child process: stdout captured in memory, stderr elsewhere, nothing left open") {
  krdc::test::TempDir dir;
  const int before = open_fd_count();
  krdc::util::SpawnSpec spec;
  spec.argv = {"/bin/sh", "-c", "printf 'the token'; printf 'a warning' >&2"};
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.capture_stdout = true;
  spec.output_file = dir / "stderr.txt";
  std::string out;
  {
    krdc::util::ChildProcess child(spec);
    REQUIRE(child.read_stdout(out, 1024, 10'000));
    CHECK(child.exit_code() == 0);
  }
  CHECK(out == "the token");
  CHECK(krdc::test::read_file(dir / "stderr.txt") == "a warning");
  CHECK(open_fd_count() == before);
}

TEST_CASE("child process: captured output is bounded, and a wake fd ends the wait at once") {
  krdc::util::SpawnSpec spec;
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.capture_stdout = true;
  spec.argv = {"/bin/sh", "-c", "head -c 100000 /dev/zero"};
  {
    std::string out;
    krdc::util::ChildProcess child(spec);
    REQUIRE(child.read_stdout(out, 1000, 10'000));  // the rest is drained, so the child ends
    CHECK(out.size() == 1000);
  }
  spec.argv = {"/bin/sh", "-c", "exec sleep 30"};
  krdc::util::CancelToken cancel;
  cancel.cancel();
  const auto start = std::chrono::steady_clock::now();
  {
    std::string out;
    krdc::util::ChildProcess child(spec);
    CHECK_FALSE(child.read_stdout(out, 1000, 30'000, cancel.fd()));
    CHECK_FALSE(child.exited());
  }  // the destructor kills and reaps it
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}
