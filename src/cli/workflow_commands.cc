// `krdc run`, `krdc validate`, `krdc report`: thin wiring from options to the workflow
// loader, the runner and the result reader.
#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>

#include "krdc/cli/commands.h"
#include "krdc/cli/output.h"
#include "krdc/cli/run_command.h"
#include "krdc/cli/terminal.h"
#include "krdc/report/render.h"
#include "krdc/runner/result_reader.h"
#include "krdc/util/errors.h"
#include "krdc/util/plural.h"
#include "krdc/workflow/loader.h"

namespace krdc::cli {

namespace {

// "-" reads the workflow from standard input; its app paths resolve from the current directory.
workflow::Workflow load_for_validate(const std::string& file, const workflow::LoadOptions& options) {
  if (file != "-") return workflow::load_workflow(file, options);
  const std::string text{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  return workflow::load_workflow_text(text, "<stdin>", options);
}

int validate(const std::string& path, const std::vector<std::string>& params, const std::string& params_file,
             bool no_inspect, const GlobalOptions& global) {
  const std::string file = path == "-" ? "<stdin>" : path;  // as messages name it
  workflow::LoadOptions options;
  std::optional<workflow::Workflow> loaded;
  try {
    options = load_options(params, params_file);
    options.inspect = inline_inspection(global, no_inspect);
    loaded.emplace(load_for_validate(path, options));
  } catch (const InvalidInput& e) {
    // Scripts asked for data: the verdict goes to stdout as data too; people still read stderr.
    if (is_data_format(global.output)) {
      nlohmann::json error{{"message", e.what()}};
      if (!e.hint().empty()) error["hint"] = e.hint();
      print_data(std::cout, {{"valid", false}, {"file", file}, {"errors", nlohmann::json::array({error})}},
                 global.output);
    }
    throw;
  }
  const workflow::Workflow& wf = *loaded;
  if (is_data_format(global.output)) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& s : wf.steps) {
      steps.push_back({{"name", s.name}, {"app", s.app.name}, {"needs", s.needs}, {"cluster", s.cluster}});
    }
    print_data(std::cout,
               {{"valid", true}, {"file", file}, {"workflow", wf.name}, {"digest", wf.digest}, {"steps", steps},
                {"errors", nlohmann::json::array()}},
               global.output);
  } else {
    size_t edges = 0;
    for (const auto& s : wf.steps) edges += s.needs.size();
    std::cout << fmt::format("{}: valid workflow \"{}\" ({}, {})\n", file, wf.name,
                             util::counted(wf.steps.size(), "step"), util::counted(edges, "dependency", "dependencies"));
  }
  return 0;
}

// Terminal columns for the report's Gantt: the window's width, else COLUMNS, else 80.
int terminal_width() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  const char* columns = std::getenv("COLUMNS");
  return columns && std::atoi(columns) > 0 ? std::atoi(columns) : 80;
}

int report(const std::string& file, const std::string& run_id, const GlobalOptions& global) {
  report::RunSummary summary;
  try {
    summary = report::summarize_run(runner::read_result_file(file), run_id);
  } catch (const InvalidInput& e) {
    throw InvalidInput(fmt::format("{}: {}", file, e.what()), e.hint());
  }
  report::TextOptions text;
  text.gantt = isatty(STDOUT_FILENO);  // a timeline for people at a terminal, not for pipes
  text.width = text.gantt ? terminal_width() : 80;
  std::cout << report::render_report(summary, global.output, text);
  return 0;
}

}  // namespace

std::map<std::string, std::string> parse_param_overrides(const std::vector<std::string>& items) {
  std::map<std::string, std::string> out;
  for (const auto& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw InvalidInput(fmt::format("-p {}: expected KEY=VALUE", item), "for example: -p year=2023");
    }
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

workflow::LoadOptions load_options(const std::vector<std::string>& params, const std::string& params_file) {
  workflow::LoadOptions options;
  options.params = parse_param_overrides(params);
  options.params_file = params_file;
  return options;
}

void add_workflow_commands(CLI::App& app, GlobalOptions& global, Action& action) {
  // run
  auto run_args = std::make_shared<RunArgs>();
  auto* run = app.add_subcommand("run", "Run a workflow: validate, authorise, run every step, append results");
  run->add_option("workflow", run_args->file, "Workflow file (YAML)")->required()->check(CLI::ExistingFile);
  run->add_option("-p,--param", run_args->params,
                  "Workflow param KEY=VALUE (repeatable), typed by its default: -p b=true, -p 'years=[2021, 2022]'");
  run->add_option("--params-file", run_args->params_file, "YAML mapping of workflow params to values (-p wins over it)")
      ->check(CLI::ExistingFile);
  run->add_option("-j,--jobs", run_args->jobs, "Steps to run at once (default: number of cores)")
      ->check(CLI::Range(1, 10000));
  run->add_option("--results", run_args->results,
                  "Result file to append to (default: ./<workflow name>.results.jsonl)");
  run->add_option("--run-dir", run_args->run_dir, "Where step logs and outputs go (default: ./.krdc/runs/<run id>)");
  run->add_option("--resume", run_args->resume,
                  "Skip steps that succeeded with the same inputs in this result file (default: the results file)")
      ->expected(0, 1);
  run->add_flag("--fail-fast", run_args->fail_fast, "Stop everything at the first failed step");
  run->add_flag("--dry-run", run_args->dry_run, "Print what would run (argv, manifests) and exit");
  run->add_flag("--check", run_args->check_only, "Only check the workflow and every step's authorisation");
  run->add_flag("--follow", run_args->follow, "Stream step logs to the terminal");
  run->add_option("--kill-grace", run_args->kill_grace, "Time between SIGTERM and SIGKILL on cancel (default: 5s)");
  run->add_option("--kubeconfig", run_args->kubeconfig,
                  "Reach the local cluster through this kubeconfig (default: KUBECONFIG when no server is configured)");
  run->add_option("--context", run_args->context, "Kubeconfig context for the local cluster (default: current-context)");
  run->add_flag("--no-inspect", run_args->no_inspect,
                "Do not ask inline Python apps' argparse for their params (pass them unchecked as --key=value)");
  run->add_flag("--detach", run_args->detach,
                "Start the steps that are ready as cluster Jobs, then exit; follow later with `krdc attach`");
  run->footer(R"(Examples:
  krdc run workflows/hello.yaml
  krdc run wf.yaml -p year=2024 -j 4 --results out.jsonl
  krdc run wf.yaml --params-file params.yaml -p 'years=[2021, 2022]'
  krdc run wf.yaml --resume          # rerun only what failed or changed; adopt what still runs
  krdc run wf.yaml --detach          # start cluster Jobs and exit; then: krdc attach wf.results.jsonl

Steps without a cluster run as local processes; outputs go to the result file, one JSON
record per line. Ctrl-C stops running steps (SIGTERM, then SIGKILL) and records them as
cancelled; a second Ctrl-C exits at once.)");
  run->callback([&global, &action, run, run_args] {
    run_args->resume_given = run->count("--resume") > 0;
    action = [&global, run_args] { return run_workflow(*run_args, global); };
  });

  // attach
  auto attach_file = std::make_shared<std::string>();
  auto attach_args = std::make_shared<RunArgs>();
  auto* att = app.add_subcommand("attach", "Follow a run started elsewhere (--detach, or a krdc that died) to its end");
  att->add_option("results", *attach_file, "Result file of the run (.results.jsonl)")->required()->check(CLI::ExistingFile);
  att->add_option("-j,--jobs", attach_args->jobs, "Steps to run at once (default: number of cores)")
      ->check(CLI::Range(1, 10000));
  att->add_option("--run-dir", attach_args->run_dir, "Where step logs and outputs go (default: ./.krdc/runs/<run id>)");
  att->add_flag("--follow", attach_args->follow, "Stream step logs to the terminal");
  att->add_flag("--fail-fast", attach_args->fail_fast, "Stop everything at the first failed step");
  att->add_option("--kill-grace", attach_args->kill_grace, "Time between SIGTERM and SIGKILL on cancel (default: 5s)");
  att->add_option("--kubeconfig", attach_args->kubeconfig, "Reach the local cluster through this kubeconfig");
  att->add_option("--context", attach_args->context, "Kubeconfig context for the local cluster");
  att->add_flag("--no-inspect", attach_args->no_inspect,
                "Do not ask inline Python apps' argparse for their params (implied when the run was started so)");
  att->footer(R"(Examples:
  krdc run wf.yaml --detach && krdc attach wf.results.jsonl
  krdc attach wf.results.jsonl -o json

Reads the workflow file and params the run recorded, adopts every attempt it left in flight
(cluster Jobs, proxy Jobs) and follows it to its end, reuses what succeeded, and runs the rest:
the same as `krdc run WORKFLOW --resume RESULTS`. No step runs twice.)");
  att->callback([&global, &action, attach_file, attach_args] {
    action = [&global, attach_file, attach_args] { return attach_run(*attach_file, *attach_args, global); };
  });

  // validate
  auto validate_file = std::make_shared<std::string>();
  auto validate_params = std::make_shared<std::vector<std::string>>();
  auto* val = app.add_subcommand("validate", "Check a workflow without running anything (no side effects)");
  val->add_option("workflow", *validate_file, "Workflow file (YAML), - for standard input")
      ->required()
      ->check(CLI::ExistingFile | CLI::IsMember({"-"}));
  auto validate_params_file = std::make_shared<std::string>();
  val->add_option("-p,--param", *validate_params,
                  "Workflow param KEY=VALUE (repeatable), typed by its default: -p b=true, -p 'years=[2021, 2022]'");
  val->add_option("--params-file", *validate_params_file, "YAML mapping of workflow params to values (-p wins over it)")
      ->check(CLI::ExistingFile);
  auto validate_no_inspect = std::make_shared<bool>(false);
  val->add_flag("--no-inspect", *validate_no_inspect,
                "Do not ask inline Python apps' argparse for their params (pass them unchecked as --key=value)");
  val->footer(R"(Examples:
  krdc validate workflows/hello.yaml
  krdc validate wf.yaml -o json         # {"valid": false, "errors": [...]} on stdout when invalid
  generate-workflow | krdc validate -   # read the workflow from standard input

Errors name file:line:column and the step, and exit with status 2. An inline app running a
Python file is checked against its argparse: krdc runs the program up to parse_args() once
and caches what it declares (--no-inspect, or `inspect: false` on the app, turns this off).)");
  val->callback([&global, &action, validate_file, validate_params, validate_params_file, validate_no_inspect] {
    action = [&global, validate_file, validate_params, validate_params_file, validate_no_inspect] {
      return validate(*validate_file, *validate_params, *validate_params_file, *validate_no_inspect, global);
    };
  });

  // report
  auto report_file = std::make_shared<std::string>();
  auto report_run = std::make_shared<std::string>();
  auto* rep = app.add_subcommand("report", "Show a result file for people (latest run by default)");
  rep->add_option("results", *report_file, "Result file (.results.jsonl)")->required()->check(CLI::ExistingFile);
  rep->add_option("--run", *report_run, "Run id to show (default: the latest; an unknown id lists them)");
  rep->footer(R"(Examples:
  krdc report hello.results.jsonl                 header, steps, and a timeline on a terminal
  krdc report hello.results.jsonl -o html > run.html   one self-contained page with an SVG timeline
  krdc report hello.results.jsonl -o markdown     for a paper's supplement or an issue
  krdc report hello.results.jsonl -o json         the same summary for scripts (also -o yaml)

Formats: text (or table), json, yaml, markdown, html. Reads only the result file, so a file
copied from another machine reports the same.)");
  rep->callback([&global, &action, report_file, report_run] {
    action = [&global, report_file, report_run] { return report(*report_file, *report_run, global); };
  });
}

}  // namespace krdc::cli
