#pragma once
// Runs the real krdc binary in a test's directory: its exit code and its output (stdout and
// stderr together), bounded in time. For tests of what a user at a terminal meets.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "krdc/util/child_process.h"
#include "support/temp_dir.h"

namespace krdc::test {

struct KrdcRun {
  int code = -1;
  std::string output;
};

inline KrdcRun run_krdc(const TempDir& dir, const std::vector<std::string>& args,
                        const std::map<std::string, std::string>& env = {{"CI", "1"}}) {
  util::SpawnSpec spec;
  spec.argv = {KRDC_BINARY};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = util::child_environment(env);
  spec.cwd = dir.path().string();
  spec.output_file = dir / "out.log";
  std::filesystem::remove(spec.output_file);
  util::ChildProcess child(spec);
  REQUIRE(child.wait(60'000));
  return {child.exit_code(), read_file(spec.output_file)};
}

}  // namespace krdc::test
