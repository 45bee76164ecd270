#include "krdc/runner/run_identity.h"

#include <fmt/format.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>

#include "krdc/util/digest.h"

namespace krdc::runner {

namespace fs = std::filesystem;

std::string new_run_id() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  std::random_device rd;
  return fmt::format("{}-{:06x}", buf, rd() & 0xffffff);
}

namespace {

// Digests of the files an app run from its directory consists of: its descriptor (when it has
// one of its own, not the workflow) and each command word naming a regular file in `dir`.
nlohmann::json app_content(const workflow::Step& step) {
  nlohmann::json files = nlohmann::json::object();
  if (!step.cluster.empty() || step.app.dir.empty()) return files;
  std::vector<fs::path> paths;
  if (!step.app.mark.file.empty() && step.app.mark.file != step.mark.file) paths.emplace_back(step.app.mark.file);
  for (const auto& word : step.app.command) {
    if (word.empty() || word[0] == '-') continue;
    const fs::path p = fs::path(word).is_absolute() ? fs::path(word) : fs::path(step.app.dir) / word;
    std::error_code ec;
    if (fs::is_regular_file(p, ec) && fs::path(word).is_relative()) paths.push_back(p);
  }
  for (const auto& p : paths) {
    std::ifstream in(p, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    files[p.filename().string()] = util::sha256_digest(bytes);
  }
  return files;
}

}  // namespace

std::string inputs_digest(const workflow::Step& step, const std::vector<std::string>& args) {
  nlohmann::json identity = {{"step", step.name},          {"image", step.app.image}, {"command", step.app.command},
                             {"dir", step.app.dir},         {"args", args},            {"env", step.env},
                             {"cluster", step.cluster},     {"pull", step.pull}};
  // Secret references (never values): pointing a step at another Secret reruns it.
  if (!step.secret_env.empty()) {
    nlohmann::json refs = nlohmann::json::object();
    for (const auto& [name, ref] : step.secret_env) refs[name] = {ref.name, ref.key};
    identity["secretEnv"] = std::move(refs);
  }
  if (auto files = app_content(step); !files.empty()) identity["files"] = std::move(files);
  // An interface read from the program's argparse (docs/architecture.md, "App interfaces"): a
  // cluster step's local copy of the program changing reruns it, like a process step's file.
  if (!step.app.interface_digest.empty()) identity["interface"] = step.app.interface_digest;
  return util::sha256_digest(identity.dump());
}

}  // namespace krdc::runner
