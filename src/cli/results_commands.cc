// `krdc status`, `krdc logs`, `krdc export`: what a result file says about a run, for people
// and for provenance. They read the result file only (and the cluster for what still runs
// there), so a result file copied to another machine still reports. The logic lives in
// src/report; this file is the wiring from options to it.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "krdc/cli/commands.h"
#include "krdc/cli/live_cluster.h"
#include "krdc/cli/terminal.h"
#include "krdc/report/live_job.h"
#include "krdc/report/log_follow.h"
#include "krdc/report/ro_crate.h"
#include "krdc/report/status_view.h"
#include "krdc/report/step_attempts.h"
#include "krdc/util/errors.h"
#include "krdc/workflow/yaml_writer.h"

namespace krdc::cli {

namespace {

namespace fs = std::filesystem;

struct LogsArgs {
  std::string results;
  std::string step;
  std::string run;
  int attempt = 0;  // 0: the latest
  bool follow = false;
  std::string kubeconfig;
  std::string context;
};

bool print_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::cout << in.rdbuf();
  std::cout.flush();
  return true;
}

// The attempt's log from the run directory; when the run directory is not here (a copied
// result file), the tail the result file recorded when the attempt ended.
int show_log(const report::AttemptDetail& attempt) {
  if (print_file(attempt.log_path)) return 0;
  if (!attempt.tail.empty()) {
    std::cerr << fmt::format("krdc: {} is not here; the last lines the result file recorded:\n", attempt.log_path);
    std::cout << attempt.tail;
    if (attempt.tail.back() != '\n') std::cout << "\n";
    return 0;
  }
  if (!attempt.closed) {
    throw InvalidInput(fmt::format("attempt {} has written no log here yet ({})", attempt.attempt, attempt.log_path),
                       "run the same command with --follow to wait for it");
  }
  throw InvalidInput(fmt::format("no log for attempt {}: {} does not exist and the result file recorded none",
                                 attempt.attempt, attempt.log_path));
}

int logs(const LogsArgs& args, const GlobalOptions& global) {
  const auto file = runner::read_result_file(args.results);
  const auto found = report::find_step_attempts(file, args.results, args.run, args.step);
  const report::AttemptDetail& attempt = found.pick(args.attempt);
  const bool live = !attempt.closed && report::writer_active(args.results);
  // A Job in flight that no krdc here copies into the run directory: its log is on the cluster.
  if (!attempt.closed && report::names_job(attempt.submitted) && (!live || !fs::exists(attempt.log_path))) {
    const auto cluster = connect_local_cluster(global, args.kubeconfig, args.context,
                                               attempt.submitted.value("cluster", ""));
    if (cluster.api) {
      try {
        report::job_log(*cluster.api, attempt.submitted, args.follow, std::cout);
        return 0;
      } catch (const Interrupted&) {
        throw;
      } catch (const Error& e) {
        std::cerr << fmt::format("krdc: the cluster's log is not available: {}; showing the run directory's\n", e.what());
      }
    } else {
      std::cerr << fmt::format("krdc: {}; showing the run directory's log\n", cluster.why_not);
    }
  }
  if (!args.follow || attempt.closed || !live) {
    if (args.follow && !attempt.closed) {
      std::cerr << fmt::format("krdc: no krdc is running run {} here; showing what the log holds "
                               "(`krdc attach {}` follows what it left running)\n",
                               found.run, args.results);
    }
    return show_log(attempt);
  }
  // Which attempt: its place among the step's attempts, stable in an append-only file.
  const size_t index = static_cast<size_t>(&attempt - found.attempts.data());
  report::FollowTargets targets;
  targets.log_path = attempt.log_path;
  targets.results_path = args.results;
  targets.over = [&] {
    const auto now = report::find_step_attempts(runner::read_result_file(args.results), args.results, found.run, args.step);
    return index >= now.attempts.size() || now.attempts[index].closed || !report::writer_active(args.results);
  };
  report::follow_log(targets, std::cout, global.interrupts ? &global.interrupts->cancel() : nullptr);
  if (global.interrupts && global.interrupts->cancel().cancelled()) return static_cast<int>(ExitCode::kInterrupted);
  return 0;
}

struct StatusArgs {
  std::string results;
  std::string run;
  std::string kubeconfig;
  std::string context;
};

// For Jobs that may still run, what the cluster says now. One line when it cannot be asked;
// the status is then the result file's alone.
void ask_cluster(report::RunStatus& view, const StatusArgs& args, const GlobalOptions& global) {
  std::unique_ptr<kube::ApiClient> api;
  for (auto& st : view.steps) {
    const bool in_flight = st.state == "running" || st.state == "in-flight" || st.state == "detached";
    if (!in_flight || !report::names_job(st.job)) continue;
    if (!api) {
      auto cluster = connect_local_cluster(global, args.kubeconfig, args.context, st.job.value("cluster", ""));
      if (!cluster.api) {
        view.note = fmt::format("krdc: {}: showing what the result file says", cluster.why_not);
        return;
      }
      api = std::move(cluster.api);
    }
    try {
      st.live = report::job_state(*api, st.job);
    } catch (const Interrupted&) {
      throw;
    } catch (const Error& e) {
      view.note = fmt::format("krdc: cluster {} did not answer ({}): showing what the result file says",
                              st.job.value("cluster", ""), e.what());
      return;
    }
  }
}

int status(const StatusArgs& args, const GlobalOptions& global) {
  const auto file = runner::read_result_file(args.results);
  auto view = report::read_run_status(file, args.results, args.run, report::writer_active(args.results));
  ask_cluster(view, args, global);
  if (global.output == "json") {
    std::cout << report::to_json(view).dump(2) << "\n";
  } else if (global.output == "yaml") {
    std::cout << workflow::json_to_yaml(report::to_json(view)) << "\n";
  } else {
    std::cout << report::render_status(view, use_color(global));
  }
  return 0;
}

struct ExportArgs {
  std::string results;
  std::string run;
  std::string ro_crate;
  bool force = false;
  std::string license;
};

int export_run(const ExportArgs& args, const GlobalOptions& global) {
  report::export_ro_crate(args.results, {args.run, args.ro_crate, args.force, args.license}, std::cerr);
  const std::string metadata = (fs::path(args.ro_crate) / "ro-crate-metadata.json").string();
  if (global.output == "json") {
    std::cout << nlohmann::json{{"roCrate", args.ro_crate}, {"metadata", metadata}}.dump() << "\n";
  } else {
    std::cout << fmt::format("wrote a Provenance Run Crate to {} ({})\n", args.ro_crate, metadata);
  }
  return 0;
}

}  // namespace

void add_results_commands(CLI::App& app, GlobalOptions& global, Action& action) {
  auto status_args = std::make_shared<StatusArgs>();
  auto* st = app.add_subcommand("status", "Show what is running, done and failed in a run");
  st->add_option("results", status_args->results, "Result file of the run (.results.jsonl)")
      ->required()
      ->check(CLI::ExistingFile);
  st->add_option("--run", status_args->run, "Run id (default: the latest run in the file)");
  st->add_option("--kubeconfig", status_args->kubeconfig, "Reach the local cluster through this kubeconfig");
  st->add_option("--context", status_args->context, "Kubeconfig context for the local cluster");
  st->footer(R"(Examples:
  krdc status hello.results.jsonl
  krdc status wf.results.jsonl -o json

Reads the result file only, so a copied file still reports. A step without an end record is
`running` while a krdc writes the file; otherwise krdc was stopped or left: `lost` (a local
process dies with krdc), `in-flight` (a cluster Job may still run) or `detached`; `krdc attach`
follows them. For Jobs still in flight the local cluster is asked too, when it answers.)");
  st->callback([&global, &action, status_args] {
    action = [&global, status_args] { return status(*status_args, global); };
  });

  auto logs_args = std::make_shared<LogsArgs>();
  auto* lg = app.add_subcommand("logs", "Print a step's log (the latest attempt by default)");
  lg->add_option("results", logs_args->results, "Result file of the run (.results.jsonl)")
      ->required()
      ->check(CLI::ExistingFile);
  lg->add_option("step", logs_args->step, "Step name")->required();
  lg->add_option("--attempt", logs_args->attempt, "Attempt number (default: the latest)")->check(CLI::Range(1, 1000000));
  lg->add_flag("-f,--follow", logs_args->follow, "Keep printing what the step writes until the attempt ends");
  lg->add_option("--run", logs_args->run, "Run id (default: the latest run in the file)");
  lg->add_option("--kubeconfig", logs_args->kubeconfig, "Reach the local cluster through this kubeconfig");
  lg->add_option("--context", logs_args->context, "Kubeconfig context for the local cluster");
  lg->footer(R"(Examples:
  krdc logs hello.results.jsonl greet
  krdc logs hello.results.jsonl shout --attempt 1
  krdc logs wf.results.jsonl regrid --follow

Logs come from the run directory the result file names (.krdc/runs/<run id>/<step>/); when it
is not on this machine, the log tail the result file recorded is shown. A Job in flight that no
krdc here follows (--detach, or krdc was stopped) is read from the cluster; a proxy step's log
is its proxy Job's, which mirrors the remote Job's.)");
  lg->callback([&global, &action, logs_args] {
    action = [&global, logs_args] { return logs(*logs_args, global); };
  });

  auto export_args = std::make_shared<ExportArgs>();
  auto* ex = app.add_subcommand("export", "Export a run's provenance (RO-Crate)");
  ex->add_option("results", export_args->results, "Result file of the run (.results.jsonl)")
      ->required()
      ->check(CLI::ExistingFile);
  ex->add_option("--ro-crate", export_args->ro_crate, "Write a Workflow Run RO-Crate (Provenance Run Crate) into DIR")
      ->required();
  ex->add_option("--run", export_args->run, "Run id (default: the latest run in the file)");
  ex->add_option("--license", export_args->license,
                 "The crate's license: a URL (https://spdx.org/licenses/CC-BY-4.0) or text (default: not specified)");
  ex->add_flag("--force", export_args->force, "Write into a directory that is not empty (overwrites the crate's files)");
  ex->footer(R"(Examples:
  krdc export hello.results.jsonl --ro-crate hello-crate
  krdc export wf.results.jsonl --run 20260101-120000-ab12 --ro-crate crate --force

DIR gets ro-crate-metadata.json (RO-Crate 1.1; Process, Workflow and Provenance Run Crate
0.5): the workflow, its apps, one CreateAction per step attempt with its params, outputs,
times, status, the cluster it ran on, and you as the agent. The workflow file and the apps'
krdc-app.yaml are copied in when they are still where the run found them, unchanged.)");
  ex->callback([&global, &action, export_args] {
    action = [&global, export_args] { return export_run(*export_args, global); };
  });
}

}  // namespace krdc::cli
