#pragma once
// `krdc export --ro-crate`: one run of a result file as a Workflow Run RO-Crate following the
// Provenance Run Crate profile (https://w3id.org/ro/wfrun/provenance/0.5, which builds on
// Workflow Run Crate, Process Run Crate and RO-Crate 1.1). The mapping:
//
//   root Dataset ./          mainEntity → the workflow; mentions → the run's CreateAction
//   the workflow file        File + SoftwareSourceCode + ComputationalWorkflow + HowTo:
//                            hasPart → its apps, step → one HowToStep per step, input → params
//   an app                   SoftwareApplication (its krdc-app.yaml when copied), image as
//                            a ContainerImage
//   the krdc run             OrganizeAction (instrument krdc) → result: the workflow's
//                            CreateAction (object: workflow params as PropertyValues)
//   each attempt of a step   CreateAction (instrument: the app; object: its params; result:
//                            its outputs; start/end time, actionStatus, agent, location: the
//                            cluster) and a ControlAction linking it to its HowToStep
//   the user                 a Person named by the run header's `user` (never a credential)
//
// Steps that never ran (skipped) are left out: the profile wants every step and tool to belong
// to an action. Formal parameters and values link both ways (exampleOfWork / workExample).
// Building is pure (records in, JSON out); copying files is export_ro_crate's part.
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "krdc/runner/result_reader.h"
#include "krdc/workflow/workflow.h"

namespace krdc::report {

struct CrateSources {
  const runner::ResultFile* file = nullptr;
  std::string results_path;
  std::string run;                                   // "" = the latest run
  std::string workflow_file;                         // the workflow's path in the crate; "" when not included
  const workflow::Workflow* workflow = nullptr;      // the same workflow, loaded; nullptr when not included
  std::map<std::string, std::string> descriptors;    // app name → its krdc-app.yaml's path in the crate
  std::string published;                             // datePublished (RFC 3339)
  std::string license;                               // the crate's license: a URL or text; "" = not specified
};

// The ro-crate-metadata.json document.
nlohmann::json build_ro_crate(const CrateSources& sources);

// Writes the crate for `options.run` of `results_path` into `options.dir`: ro-crate-metadata.json, a copy of the
// workflow file when it is still there with the digest the run recorded, and the apps'
// krdc-app.yaml. Refuses a non-empty `dir` unless `force` (then overwrites only what it
// writes). Notes about what could not be included go to `notes`.
struct ExportOptions {
  std::string run;      // "" = the latest run
  std::string dir;
  bool force = false;
  std::string license;  // CrateSources::license
};
void export_ro_crate(const std::string& results_path, const ExportOptions& options, std::ostream& notes);

}  // namespace krdc::report
