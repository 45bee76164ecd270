// Which cluster and audience each step needs: workflow clusters over config clusters, the local
// cluster from the config (or KRDC_LOCAL_CLUSTER), pull: shared on the local cluster, process
// steps skipped, a cluster without an audience rejected with its position.
#include <doctest/doctest.h>

#include "krdc/auth/step_targets.h"
#include "krdc/util/errors.h"
#include "krdc/workflow/loader.h"

using namespace krdc;

namespace {
const char* kWorkflow = R"(apiVersion: krdc/v1
kind: Workflow
metadata: {name: t}
spec:
  clusters:
    unist: {server: "https://u:6443", audience: krdc-unist}
  steps:
    - name: local-proc
      app: {image: x:1, command: [echo]}
    - name: fetch
      cluster: kisti
      app: {image: x:1, command: [echo]}
    - name: regrid
      cluster: unist
      app: {image: x:1, command: [echo]}
    - name: plot
      pull: shared
      app: {image: x:1, command: [echo]}
    - name: borrowed
      cluster: unist
      pull: shared
      app: {image: x:1, command: [echo]}
)";
}  // namespace

TEST_CASE("auth: step targets from workflow and config") {
  auto wf = workflow::load_workflow_text(kWorkflow, "wf.yaml");
  auto cfg = config::parse_config("localCluster: kisti\nclusters: {kisti: {server: \"https://s\", audience: krdc-kisti}}\n", "c.yaml");
  auto targets = auth::step_targets(wf, cfg, config::fixed_env({}));
  REQUIRE(targets.size() == 5);
  CHECK(targets[0].step == "fetch");
  CHECK(targets[0].local);
  CHECK(targets[0].audience == "krdc-kisti");
  CHECK(targets[1].step == "regrid");
  CHECK_FALSE(targets[1].local);
  CHECK(targets[1].audience == "krdc-unist");
  // A remote step's proxy Job runs in the local cluster: regrid needs kisti as well.
  CHECK(targets[2].step == "regrid");
  CHECK(targets[2].cluster == "kisti");
  CHECK(targets[2].local);
  CHECK(targets[3].step == "plot");
  CHECK(targets[3].cluster == "kisti");
  CHECK(targets[3].local);
  // An image published by unist but pulled from shared storage runs on (and needs) kisti.
  CHECK(targets[4].step == "borrowed");
  CHECK(targets[4].cluster == "kisti");
  CHECK(targets[4].local);
  // Without a local cluster, a remote step needs only its own cluster (in-process mode).
  auto laptop = config::parse_config("clusters: {kisti: {server: \"https://s\", audience: krdc-kisti}}\n", "c.yaml");
  auto remote_only = workflow::load_workflow_text(R"(apiVersion: krdc/v1
kind: Workflow
metadata: {name: t}
spec:
  clusters: {unist: {server: "https://u:6443", audience: krdc-unist}}
  steps:
    - {name: regrid, cluster: unist, app: {image: x:1, command: [echo]}}
)", "wf.yaml");
  auto laptop_targets = auth::step_targets(remote_only, laptop, config::fixed_env({}));
  REQUIRE(laptop_targets.size() == 1);
  CHECK(laptop_targets[0].cluster == "unist");
  CHECK_FALSE(laptop_targets[0].local);

  // KRDC_LOCAL_CLUSTER stands in when the config names none.
  auto no_local = config::parse_config("clusters: {kisti: {server: \"https://s\", audience: krdc-kisti}}\n", "c.yaml");
  CHECK(auth::local_cluster(no_local, config::fixed_env({{"KRDC_LOCAL_CLUSTER", "kisti"}})) == "kisti");
  // pull: shared needs a local cluster.
  CHECK_THROWS_AS(auth::step_targets(wf, no_local, config::fixed_env({})), InvalidInput);
  // A cluster nobody gave an audience is an input error, not a silent skip.
  auto no_aud = config::parse_config("localCluster: kisti\nclusters: {kisti: {server: \"https://s\"}}\n", "c.yaml");
  try {
    auth::step_targets(wf, no_aud, config::fixed_env({}));
    FAIL("expected InvalidInput");
  } catch (const InvalidInput& e) {
    CHECK(std::string(e.what()).find("wf.yaml:") == 0);
    CHECK(std::string(e.what()).find("\"kisti\" has no audience") != std::string::npos);
  }
}
