// export_ro_crate: the file side of `krdc export --ro-crate` (the mapping is build_ro_crate's).
#include <fmt/format.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>

#include "krdc/report/ro_crate.h"
#include "krdc/report/step_attempts.h"
#include "krdc/runner/result_writer.h"
#include "krdc/util/digest.h"
#include "krdc/util/errors.h"
#include "krdc/workflow/app_loader.h"
#include "krdc/workflow/loader.h"

namespace krdc::report {

namespace fs = std::filesystem;

namespace {

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// An app name as one path component in the crate.
std::string path_safe(std::string name) {
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  }
  return name.empty() || name == "." || name == ".." ? "app" : name;
}

void copy_into(const fs::path& from, const fs::path& to) {
  fs::create_directories(to.parent_path());
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

// The workflow the run recorded, when it is still here unchanged: the run header's absolute
// path, the same digest, and it still loads (with the run's params, so required ones are set).
std::optional<workflow::Workflow> recorded_workflow(const nlohmann::json& header, std::ostream& notes) {
  const std::string path = header.value("path", "");
  const std::string digest = header.value("digest", "");
  if (path.empty() || !fs::is_regular_file(path)) {
    notes << fmt::format("krdc: the workflow file {} is not here: the crate describes it from the result file only\n",
                         path.empty() ? "(not recorded)" : path);
    return std::nullopt;
  }
  if (util::sha256_digest(read_bytes(path)) != digest) {
    notes << fmt::format("krdc: {} has changed since the run (its digest is not {}): not included\n", path, digest);
    return std::nullopt;
  }
  workflow::LoadOptions options;
  options.values = header.value("params", nlohmann::json::object());  // typed, as `krdc attach` applies them
  try {
    return workflow::load_workflow(path, options);
  } catch (const Error& e) {
    notes << fmt::format("krdc: {} no longer loads ({}): not included\n", path, e.what());
    return std::nullopt;
  }
}

void require_empty_or_forced(const fs::path& dir, bool force) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    throw InvalidInput(fmt::format("--ro-crate {}: exists and is not a directory", dir.string()));
  }
  if (!force && fs::is_directory(dir, ec) && !fs::is_empty(dir, ec)) {
    throw InvalidInput(fmt::format("--ro-crate {}: the directory is not empty", dir.string()),
                       "choose a new or empty directory, or add --force to overwrite the crate's files in it");
  }
}

}  // namespace

void export_ro_crate(const std::string& results_path, const ExportOptions& options, std::ostream& notes) {
  const std::string& run = options.run;
  const runner::ResultFile file = runner::read_result_file(results_path);
  const std::string run_id = run.empty() ? latest_run(file, results_path) : run;
  nlohmann::json header;
  for (const auto& r : file.records) {
    if (r.value("run", "") == run_id && r.value("type", "") == "run" && r.value("event", "") == "start") header = r;
  }
  if (header.is_null()) throw InvalidInput(fmt::format("{}: no run {}", results_path, run_id));
  const fs::path out = options.dir;
  require_empty_or_forced(out, options.force);

  CrateSources sources;
  sources.file = &file;
  sources.results_path = results_path;
  sources.run = run_id;
  sources.published = runner::now_rfc3339();
  sources.license = options.license;
  const auto wf = recorded_workflow(header, notes);
  std::vector<std::pair<fs::path, fs::path>> copies;  // from → to
  if (wf) {
    sources.workflow = &*wf;
    sources.workflow_file = fs::path(wf->file).filename().string();
    copies.emplace_back(header.value("path", ""), out / sources.workflow_file);
    for (const auto& s : wf->steps) {
      // Apps described by a krdc-app.yaml (an inline app is part of the workflow file).
      const fs::path descriptor = s.app.mark.file;
      if (descriptor.filename() != workflow::kAppDescriptorName || !fs::is_regular_file(descriptor) ||
          sources.descriptors.count(s.app.name)) {
        continue;
      }
      const std::string in_crate = fmt::format("apps/{}/krdc-app.yaml", path_safe(s.app.name));
      sources.descriptors[s.app.name] = in_crate;
      copies.emplace_back(descriptor, out / in_crate);
    }
  }
  const nlohmann::json crate = build_ro_crate(sources);
  fs::create_directories(out);
  for (const auto& [from, to] : copies) copy_into(from, to);
  std::ofstream meta(out / "ro-crate-metadata.json", std::ios::binary | std::ios::trunc);
  meta << crate.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  if (!meta.flush()) {
    throw Error(ExitCode::kRunStopped, fmt::format("cannot write {}", (out / "ro-crate-metadata.json").string()));
  }
}

}  // namespace krdc::report
