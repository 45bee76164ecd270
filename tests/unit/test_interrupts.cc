// The process-wide interrupt object (util/interrupts.h): what the first and the second
// SIGINT/SIGTERM do, driven through on_signal() as the watcher thread would.
#include <doctest/doctest.h>
#include <signal.h>

#include <string>
#include <vector>

#include "krdc/util/interrupts.h"

using krdc::util::Interrupts;

TEST_CASE("interrupts: the first signal cancels both tokens, then runs the command's first handler") {
  Interrupts in;
  std::vector<std::string> seen;
  {
    const auto handlers = in.install({[&](int signo) {
                                        // The tokens are cancelled before the handler runs.
                                        seen.push_back(in.cancel().cancelled() && in.abort().cancelled() ? "first" : "early");
                                        CHECK(signo == SIGTERM);
                                      },
                                      [&] { seen.push_back("emergency"); }});
    auto abort_predicate = in.abort_predicate();
    CHECK_FALSE(abort_predicate());
    in.on_signal(SIGTERM, 1);
    CHECK(abort_predicate());
    in.on_signal(SIGTERM, 2);  // an emergency handler that returns lets krdc go on (krdc proxy)
  }
  CHECK(seen == std::vector<std::string>{"first", "emergency"});
  CHECK(in.cancel().sleep_for(5'000) == false);  // woken at once: the fd is readable
}

TEST_CASE("interrupts: once blocking calls are spared, a signal cancels the run only") {
  Interrupts in;
  in.spare_blocking_calls();
  in.on_signal(SIGINT, 1);
  CHECK(in.cancel().cancelled());
  CHECK_FALSE(in.abort().cancelled());  // a runner's cleanup calls go on
  CHECK_FALSE(in.abort_predicate()());
}

TEST_CASE("interrupts: handlers end with their registration; one command's at a time") {
  Interrupts in;
  int first = 0;
  {
    const auto handlers = in.install({[&](int) { ++first; }, {}});
    CHECK_THROWS(in.install({}));
  }
  const auto again = in.install({});  // free again
  in.on_signal(SIGINT, 1);
  CHECK(first == 0);
}
