// Step env values from Kubernetes Secrets (security review, issue 12): the workflow names a
// Secret and a key (`env: {API_KEY: {secretKeyRef: {name: s, key: k}}}`), never the value;
// only cluster steps may, since a local process has no Secrets to read. The Job side is in
// test_kube_manifest.cc and test_proxy.cc.
#include <doctest/doctest.h>

#include <string>

#include "krdc/util/errors.h"
#include "krdc/workflow/loader.h"

using krdc::workflow::load_workflow_text;

namespace {

std::string wf(const std::string& step_lines) {
  return "apiVersion: krdc/v1\nkind: Workflow\nmetadata: {name: t}\nspec:\n  steps:\n    - name: a\n" + step_lines;
}

std::string error_of(const std::string& text) {
  try {
    load_workflow_text(text, "wf.yaml");
  } catch (const krdc::InvalidInput& e) {
    return e.what();
  }
  FAIL("expected the workflow to be rejected");
  return {};
}

}  // namespace

TEST_CASE("secret env: a cluster step names a Secret and a key, beside plain values") {
  const auto w = load_workflow_text(wf("      cluster: kisti\n"
                                       "      app: {image: reg.example/x:1}\n"
                                       "      env:\n"
                                       "        MODE: fast\n"
                                       "        API_KEY: {secretKeyRef: {name: api-credentials, key: token}}\n"),
                                    "wf.yaml");
  REQUIRE(w.steps.size() == 1);
  const auto& s = w.steps[0];
  CHECK(s.env == std::map<std::string, std::string>{{"MODE", "fast"}});
  REQUIRE(s.secret_env.count("API_KEY") == 1);
  CHECK(s.secret_env.at("API_KEY").name == "api-credentials");
  CHECK(s.secret_env.at("API_KEY").key == "token");
  CHECK(s.secret_env.at("API_KEY").mark.line == 11);
}

TEST_CASE("secret env: refused for a process step, and when malformed, at its position") {
  const std::string ref = "      env:\n        API_KEY: {secretKeyRef: {name: api, key: token}}\n";
  auto msg = error_of(wf("      app: {command: [echo]}\n" + ref));
  CHECK(msg.find("wf.yaml:9:") == 0);
  CHECK(msg.find("step \"a\" env API_KEY: secretKeyRef needs a cluster step") != std::string::npos);

  const std::string cluster = "      cluster: kisti\n      app: {image: reg.example/x:1}\n      env:\n";
  msg = error_of(wf(cluster + "        K: {secretKeyRef: {name: Bad_Name, key: token}}\n"));
  CHECK(msg.find("is not a Secret name") != std::string::npos);
  msg = error_of(wf(cluster + "        K: {secretKeyRef: {name: api, key: \"a/b\"}}\n"));
  CHECK(msg.find("is not a Secret key") != std::string::npos);
  msg = error_of(wf(cluster + "        K: {secretKeyRef: {name: api}}\n"));
  CHECK(msg.find("needs a name and a key") != std::string::npos);
  msg = error_of(wf(cluster + "        K: {configMapKeyRef: {name: api, key: k}}\n"));
  CHECK(msg.find("configMapKeyRef") != std::string::npos);
  msg = error_of(wf(cluster + "        K: {secretKeyRef: [api, k]}\n"));
  CHECK(msg.find("wf.yaml:10:") == 0);
}
