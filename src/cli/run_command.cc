#include "krdc/cli/run_command.h"

#include <pwd.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstdlib>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "krdc/auth/authorize.h"
#include "krdc/auth/open_session.h"
#include "krdc/auth/step_targets.h"
#include "krdc/cli/executor_factory.h"
#include "krdc/cli/output.h"
#include "krdc/cli/terminal.h"
#include "krdc/config/config.h"
#include "krdc/config/hub_settings.h"
#include "krdc/exec/selection.h"
#include "krdc/runner/runner.h"
#include "krdc/util/errors.h"
#include "krdc/util/plural.h"
#include "krdc/version.h"
#include "krdc/workflow/inspect_cache.h"
#include "krdc/workflow/loader.h"
#include "krdc/workflow/params.h"
#include "krdc/workflow/scatter.h"
#include "krdc/workflow/template.h"
#include "krdc/workflow/yaml_reader.h"
#include "krdc/workflow/yaml_writer.h"

namespace krdc::cli {

namespace fs = std::filesystem;

namespace {

std::string local_user() {
  if (const passwd* pw = getpwuid(getuid())) return pw->pw_name;
  return std::to_string(getuid());
}

// What one step, or one instance of a scattered step, would do. Workflow params (and the item)
// are known now; upstream outputs are not, so they stay as written.
nlohmann::json describe_unit(const workflow::Workflow& wf, const workflow::Step& s, const std::string& name,
                             const nlohmann::json* item, const exec::ExecutorSet& executors,
                             const std::string& local_cluster) {
  exec::StepRequest req;
  req.run_id = "dry-run";
  req.workflow_name = wf.name;
  req.step = s;
  req.step.name = name;
  const auto known = workflow::value_resolver(wf.params, item);
  req.params = workflow::substitute(s.params, [&](const workflow::Reference& ref) -> std::optional<nlohmann::json> {
    if (auto v = known(ref)) return v;
    return ref.text;  // an upstream output: shown as written
  });
  try {
    req.args = workflow::render_args(s.app, req.params);
  } catch (const Error&) {
    req.args = {"<params resolved at run time>"};
  }
  const std::string kind = exec::executor_kind(s, local_cluster);
  nlohmann::json unit = {{"step", name}, {"needs", s.needs}, {"executor", kind}, {"cluster", s.cluster}};
  if (!s.when.empty()) unit["when"] = s.when;
  if (item) unit.update({{"instanceOf", s.name}, {"item", *item}});
  unit["would"] = executors.get(kind).describe(req);
  return unit;
}

// A dry run asks each step's executor what it would do (argv, Job manifest) without doing
// it. A scattered step shows every instance when its lists are known now (written out or
// params); over an upstream output it shows the step once, with the list it waits for.
int dry_run(const workflow::Workflow& wf, const exec::ExecutorSet& executors, const std::string& local_cluster,
            const GlobalOptions& global) {
  nlohmann::json plan = nlohmann::json::array();
  const auto params_only = workflow::value_resolver(wf.params, nullptr);
  for (const auto& s : wf.steps) {
    if (s.scatter.active() && workflow::items_known_before_run(s)) {
      for (const auto& instance : workflow::expand(s, workflow::resolve_items(s, params_only))) {
        plan.push_back(describe_unit(wf, s, instance.name, &instance.item, executors, local_cluster));
      }
      continue;
    }
    auto unit = describe_unit(wf, s, s.name, nullptr, executors, local_cluster);
    if (s.scatter.active()) unit["scatter"] = "expanded at run time, over the lists in " + workflow::scatter_sources(s);
    plan.push_back(std::move(unit));
  }
  if (global.output == "json") {
    std::cout << plan.dump(2) << "\n";
  } else if (global.output == "yaml") {
    for (const auto& p : plan) std::cout << "---\n" << workflow::json_to_yaml(p);
  } else {
    for (const auto& p : plan) {
      std::cout << fmt::format("{} [{}{}]\n", p["step"].get<std::string>(), p["executor"].get<std::string>(),
                               p["cluster"].get<std::string>().empty() ? "" : " on " + p["cluster"].get<std::string>());
      if (p.contains("when")) std::cout << "when: " << p["when"].get<std::string>() << "\n";
      if (p.contains("scatter")) std::cout << "scatter: " << p["scatter"].get<std::string>() << "\n";
      std::cout << workflow::json_to_yaml(p["would"]) << "\n";
    }
  }
  return 0;
}

// --detach leaves attempts running with nobody watching; only a cluster Job can do that. A
// process dies with krdc; a proxy Job needs krdc to keep renewing its short-lived exchanged
// token (docs/architecture.md, "Remote steps"), so it would fail once the token expires.
void require_detachable(const workflow::Workflow& wf, const std::string& local_cluster,
                        const exec::ExecutorSet& executors) {
  for (const auto& s : wf.steps) {
    const std::string kind = exec::executor_kind(s, local_cluster);
    if (kind == "process") {
      throw workflow::invalid_at(s.mark, fmt::format("--detach: step \"{}\" runs as a local process, which cannot "
                                                     "outlive krdc", s.name),
                                 "run it without --detach, or give the step a `cluster:`");
    }
    if (kind == "proxy" && executors.has("kube")) {
      throw workflow::invalid_at(s.mark, fmt::format("--detach: step \"{}\" runs on cluster \"{}\" through a proxy "
                                                     "Job, whose exchanged token only a running krdc renews", s.name,
                                                     s.cluster),
                                 "run it without --detach (a long run survives krdc's death: `krdc attach` adopts "
                                 "the proxy Job)");
    }
  }
}

// The run directory and the parents made for it are removed again if they are still empty
// when the run is over: a run refused before any step started (result file in use or not
// writable) leaves nothing behind. A directory that already existed is never touched.
class RunDirCleanup {
 public:
  explicit RunDirCleanup(fs::path dir) : dir_(std::move(dir)) {
    for (fs::path p = dir_; !p.empty() && !fs::exists(p) && p != p.parent_path(); p = p.parent_path()) made_top_ = p;
  }
  ~RunDirCleanup() {
    if (made_top_.empty()) return;
    std::error_code ec;
    for (fs::path p = dir_;; p = p.parent_path()) {
      if (!fs::is_empty(p, ec) || ec || !fs::remove(p, ec) || p == made_top_) return;
    }
  }
  RunDirCleanup(const RunDirCleanup&) = delete;
  RunDirCleanup& operator=(const RunDirCleanup&) = delete;

 private:
  fs::path dir_;
  fs::path made_top_;  // the outermost directory this run creates; empty: it existed
};

}  // namespace

workflow::InlineInspection inline_inspection(const GlobalOptions& global, bool no_inspect) {
  workflow::InlineInspection inspect;
  inspect.enabled = !no_inspect;
  inspect.cache_dir = workflow::default_inspect_cache_dir(std::getenv("XDG_CACHE_HOME"), std::getenv("HOME"));
  inspect.cancel = global.interrupts ? &global.interrupts->abort() : nullptr;
  inspect.verbose = global.verbose > 0;
  return inspect;
}

int run_workflow(const RunArgs& args, const GlobalOptions& global) {
  workflow::LoadOptions load = load_options(args.params, args.params_file);
  load.values = args.recorded_params;
  load.inspect = inline_inspection(global, args.no_inspect);
  const auto load_started = std::chrono::steady_clock::now();
  const workflow::Workflow wf = workflow::load_workflow(args.file, load);
  if (global.verbose > 0) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                          load_started).count();
    std::cerr << fmt::format("krdc: loaded and checked {} in {} ms: {}\n", args.file, ms,
                             util::counted(wf.steps.size(), "step"));
  }

  // Identity and authorisation come before anything runs: every step that needs a cluster
  // gets its credential now (token exchange for remote clusters), or the run fails here,
  // naming each refused step. Steps without a cluster need no hub at all.
  const config::Env env = config::process_env();
  const config::Config cfg = config::load_config(global.config_file, env);
  const auto targets = auth::step_targets(wf, cfg, env);
  ExecutorContext ctx{wf, global, args, cfg, env, auth::local_cluster(cfg, env), {}};
  if (!targets.empty() && !args.dry_run) {
    const auto settings = config::resolve_hub(
        cfg, {global.hub, global.ca_file, wf.hub, config::non_interactive(global.non_interactive, env)}, env);
    ctx.tokens = auth::authorize_steps(targets, auth::open_session(settings, env, http_options(global)));
  }
  const std::string& local_cluster = ctx.local_cluster;
  exec::ExecutorSet executors = make_executors(ctx);
  // Every step must have its executor before the first one starts.
  for (const auto& s : wf.steps) {
    const std::string kind = exec::executor_kind(s, local_cluster);
    if (!executors.has(kind)) {
      throw workflow::invalid_at(s.mark, fmt::format("step \"{}\" needs the {} executor for cluster \"{}\", which is not available", s.name,
                                                     kind, s.cluster),
                                 "configure the cluster in spec.clusters or your krdc config, or remove `cluster:` to run locally");
    }
  }
  if (args.dry_run) return dry_run(wf, executors, local_cluster, global);
  if (args.detach) require_detachable(wf, local_cluster, executors);
  // Each executor checks, with its target, that this user may do what the steps need.
  std::map<std::string, std::vector<const workflow::Step*>> steps_by_kind;
  for (const auto& s : wf.steps) steps_by_kind[exec::executor_kind(s, local_cluster)].push_back(&s);
  if (global.verbose > 0) {
    for (const auto& [kind, steps] : steps_by_kind) {
      std::cerr << fmt::format("krdc: {} executor: {}\n", kind, util::counted(steps.size(), "step"));
    }
  }
  for (const auto& [kind, steps] : steps_by_kind) executors.get(kind).preflight(steps);
  if (args.check_only) {
    std::set<std::string> on_clusters;
    for (const auto& t : targets) on_clusters.insert(t.step);
    if (is_data_format(global.output)) {
      print_data(std::cout,
                 {{"workflow", args.file}, {"authorised", true}, {"steps", wf.steps.size()},
                  {"onClusters", on_clusters.size()}},
                 global.output);
    } else {
      std::cout << fmt::format("{}: {} checked; {} on a cluster, all authorised\n", args.file,
                               util::counted(wf.steps.size(), "step"), util::counted(on_clusters.size(), "step"));
    }
    return 0;
  }

  const auto kill_grace = workflow::parse_duration_ms(args.kill_grace);
  if (!kill_grace) throw InvalidInput(fmt::format("--kill-grace {}: not a duration", args.kill_grace));

  runner::RunOptions options;
  options.run_id = runner::new_run_id();
  options.jobs = args.jobs > 0 ? args.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.fail_fast = args.fail_fast;
  options.detach = args.detach;
  options.kill_grace_ms = *kill_grace;
  // Absolute: steps run in their app directory, and must still find their run directory.
  options.run_dir = fs::absolute(args.run_dir.empty() ? fs::path(".krdc") / "runs" / options.run_id : fs::path(args.run_dir));
  // Whether inline apps were inspected changes their argv, hence inputs digests: attach follows it.
  // runDir: where `krdc logs` finds the step logs (header records are what it reads).
  options.header = {{"krdc", KRDC_VERSION},
                    {"user", local_user()},
                    {"inspect", !args.no_inspect},
                    {"runDir", options.run_dir.string()}};

  const std::string default_results = wf.name + ".results.jsonl";
  std::string results_path = args.results;
  runner::ResumeIndex resume;
  if (args.resume_given) {
    const std::string from = args.resume.empty() ? (results_path.empty() ? default_results : results_path) : args.resume;
    if (!fs::exists(from)) {
      throw InvalidInput(fmt::format("--resume: result file {} does not exist", from), "run once without --resume first");
    }
    const runner::ResultFile previous = runner::read_result_file(from);
    runner::require_runs_of(previous, from, wf.name);
    resume = runner::ResumeIndex(previous);
    if (results_path.empty()) results_path = from;  // a resumed run appends to the file it resumes
    options.resume = &resume;
  }
  if (results_path.empty()) results_path = default_results;
  const RunDirCleanup cleanup(options.run_dir);
  std::error_code ec;
  fs::create_directories(options.run_dir, ec);
  if (ec) throw InvalidInput(fmt::format("cannot create run directory {}: {}", options.run_dir.string(), ec.message()));
  // Private: step logs, and outputs files apps write with their own umask, stay the user's.
  fs::permissions(options.run_dir, fs::perms::owner_all, fs::perm_options::replace, ec);

  const exec::CancelToken& cancel = global.interrupts->cancel();
  runner::ResultWriter results(results_path);
  runner::StatusPrinter status(stderr, live_progress(global), use_color(global), wf.steps.size());
  runner::Runner run(
      wf, options, [&](const workflow::Step& s) -> exec::Executor& { return executors.get(exec::executor_kind(s, local_cluster)); },
      results, status, cancel);
  // From here a Ctrl-C cancels the run, whose cleanup must not have its calls aborted. The
  // handlers are installed last so they are removed first: none runs into destroyed state.
  global.interrupts->spare_blocking_calls();
  const auto handlers = global.interrupts->install({[&](int) {
    status.message("cancelling: stopping running steps (press Ctrl-C again to exit at once)");
  }, [&] {
    std::vector<std::string> left;
    for (auto* e : executors.all()) {
      for (auto& what : e->emergency_stop()) left.push_back(what);
    }
    if (run.footer_written()) {
      std::fprintf(stderr, "\nkrdc: exiting at once; the run footer is written\n");
    } else {
      std::fprintf(stderr, "\nkrdc: exiting at once; the result file ends without a run footer: `krdc attach %s` "
                   "adopts what is left and finishes the run\n", results_path.c_str());
    }
    for (const auto& what : left) std::fprintf(stderr, "  may be left running: %s\n", what.c_str());
    std::fflush(stderr);
    _exit(static_cast<int>(ExitCode::kInterrupted));
  }});
  const runner::RunSummary summary = run.run();
  if (is_data_format(global.output)) {
    // For scripts: one record on stdout (JSON: one line); progress stays on stderr.
    const nlohmann::json record{{"run", options.run_id},         {"status", summary.status},
                                {"results", results_path},       {"runDir", options.run_dir.string()},
                                {"succeeded", summary.succeeded}, {"failed", summary.failed},
                                {"skipped", summary.skipped},     {"cancelled", summary.cancelled},
                                {"detached", summary.detached}};
    if (global.output == "json") {
      std::cout << record.dump() << "\n";
    } else {
      print_data(std::cout, record, global.output);
    }
    std::cout.flush();
  }
  if (summary.status == "detached") {
    std::fprintf(stderr, "krdc: %s left running; follow them with: krdc attach %s\n",
                 util::counted(summary.detached, "step").c_str(), results_path.c_str());
    return 0;
  }
  if (summary.status == "succeeded") return 0;
  if (summary.status == "cancelled") return static_cast<int>(ExitCode::kInterrupted);
  if (summary.failed > 0 && summary.unreachable == summary.failed) return static_cast<int>(ExitCode::kUnreachable);
  if (summary.failed > 0 && summary.refused == summary.failed) return static_cast<int>(ExitCode::kAuth);
  return static_cast<int>(ExitCode::kStepFailed);
}

}  // namespace krdc::cli

namespace krdc::cli {

int attach_run(const std::string& results, RunArgs base, const GlobalOptions& global) {
  const runner::ResultFile file = runner::read_result_file(results);
  const nlohmann::json* header = file.last_header();
  if (!header) {
    throw InvalidInput(fmt::format("{} is not a krdc result file: it holds no run", results),
                       "give attach the .results.jsonl file `krdc run` wrote");
  }
  base.file = header->value("path", header->value("file", ""));
  if (base.file.empty() || !fs::exists(base.file)) {
    throw InvalidInput(fmt::format("{}: the workflow file of run {} ({}) is not there", results,
                                   header->value("run", ""), base.file.empty() ? "not recorded" : base.file),
                       fmt::format("run: krdc run WORKFLOW --resume {}", results));
  }
  // The run's own params, as it resolved them and typed (never re-read as text: "3.10" stays a
  // string, [a, b] a list): the attached run must compute the same inputs.
  base.params.clear();
  base.params_file.clear();
  base.recorded_params = header->value("params", nlohmann::json::object());
  if (!header->value("inspect", true)) base.no_inspect = true;
  base.results = results;
  base.resume = results;
  base.resume_given = true;
  return run_workflow(base, global);
}

}  // namespace krdc::cli
