// A spawned app gets stdin (/dev/null), stdout and stderr (its log) and no other descriptor of
// krdc's, even one another thread opened without O_CLOEXEC (libraries do).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

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
