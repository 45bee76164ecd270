// Kube executor: Job names (DNS labels, deterministic, collision-safe), label values, and the
// Job manifest a step attempt becomes (what the API server will be asked to create).
#include <doctest/doctest.h>

#include <regex>

#include "krdc/exec/kube/job_manifest.h"

using namespace krdc::exec;
using namespace krdc::exec::kube;

namespace {

bool dns_label(const std::string& s) {
  static const std::regex re("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
  return s.size() <= 63 && std::regex_match(s, re);
}

bool label_ok(const std::string& s) {
  static const std::regex re("^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$");
  return s.size() <= 63 && std::regex_match(s, re);
}

krdc::workflow::Step sample_step() {
  krdc::workflow::Step s;
  s.name = "greet";
  s.app.name = "greet";
  s.app.image = "krdc.example/greet:1";
  s.app.command = {"python3", "main.py"};
  s.timeout_ms = 90'500;
  s.env = {{"LANG", "C.UTF-8"}};
  s.resources = {{"requests", {{"cpu", "100m"}}}};
  return s;
}

}  // namespace

TEST_CASE("kube: job names are valid DNS labels, deterministic, and differ per run, step and attempt") {
  const std::string a = job_name("20261125-081000-abcdef", "greet", 1);
  CHECK(dns_label(a));
  CHECK(a.rfind("greet-", 0) == 0);
  CHECK(a == job_name("20261125-081000-abcdef", "greet", 1));
  CHECK(a != job_name("20261125-081000-abcdef", "greet", 2));
  CHECK(a != job_name("20261125-081000-abcdee", "greet", 1));
  CHECK(a != job_name("20261125-081000-abcdef", "greet2", 1));
  // Slugs that collide still give different names.
  CHECK(job_name("r", "a_b", 1) != job_name("r", "a.b", 1));
  CHECK(job_name("r", "A", 1) != job_name("r", "a", 1));
  for (const auto& step : {std::string(200, 'x'), std::string("---"), std::string("Ünïcode step"),
                                 std::string("UPPER_case.and spaces"), std::string("9lives"), std::string("")}) {
    const std::string n = job_name("run", step, 3);
    CHECK_MESSAGE(dns_label(n), n);
  }
  CHECK(job_name("run", std::string(200, 'x'), 1).size() == 63);
}

TEST_CASE("kube: label values stay as they are when valid and are made safe and unique otherwise") {
  CHECK(label_value("20261125-081000-abcdef") == "20261125-081000-abcdef");
  CHECK(label_value("ocean-heat_v2.1") == "ocean-heat_v2.1");
  for (const auto& v : {std::string("has space"), std::string(100, 'y'), std::string("-lead"),
                              std::string("trail."), std::string("ünï"), std::string("a/b")}) {
    CHECK_MESSAGE(label_ok(label_value(v)), v);
  }
  CHECK(label_value("a b") != label_value("a/b"));
  CHECK(label_value(std::string(100, 'y')) != label_value(std::string(101, 'y')));
}

TEST_CASE("kube: a step attempt renders as a Job krdc owns retries and deadlines of") {
  const auto step = sample_step();
  StepRequest req;
  req.run_id = "20261125-081000-abcdef";
  req.workflow_name = "cluster hello";
  req.step = step;
  req.args = {"--name", "Ada; rm -rf /", "--times", "2"};
  req.attempt = 2;
  JobOptions opt;
  opt.ns = "alice";
  opt.image_pull_secrets = {"shared-registry"};
  opt.ttl_seconds_after_finished = 600;
  opt.termination_grace_seconds = 7;
  const auto job = render_job(req, opt);

  CHECK(job["apiVersion"] == "batch/v1");
  CHECK(job["kind"] == "Job");
  CHECK(job["metadata"]["name"] == job_name(req.run_id, "greet", 2));
  CHECK(job["metadata"]["namespace"] == "alice");
  const auto& labels = job["metadata"]["labels"];
  CHECK(labels["krdc/run"] == req.run_id);
  CHECK(labels["krdc/step"] == "greet");
  CHECK(label_ok(labels["krdc/workflow"].get<std::string>()));
  CHECK(job["metadata"]["annotations"]["krdc/workflow-name"] == "cluster hello");
  CHECK(job["metadata"]["annotations"]["krdc/attempt"] == "2");

  const auto& spec = job["spec"];
  CHECK(spec["backoffLimit"] == 0);
  CHECK(spec["activeDeadlineSeconds"] == 91);  // 90.5 s rounded up: never shorter than asked
  CHECK(spec["ttlSecondsAfterFinished"] == 600);
  CHECK(spec["template"]["metadata"]["labels"] == labels);  // Pods carry the run label too
  const auto& pod = spec["template"]["spec"];
  CHECK(pod["restartPolicy"] == "Never");
  CHECK(pod["terminationGracePeriodSeconds"] == 7);
  CHECK(pod["imagePullSecrets"][0]["name"] == "shared-registry");
  const auto& c = pod["containers"][0];
  CHECK(c["name"] == kContainerName);
  CHECK(c["image"] == "krdc.example/greet:1");
  CHECK(c["command"] == nlohmann::json({"python3", "main.py"}));
  CHECK(c["args"] == nlohmann::json(req.args));  // argv as is: no shell, no quoting
  CHECK(c["terminationMessagePath"] == "/dev/termination-log");
  CHECK(c["resources"]["requests"]["cpu"] == "100m");
  bool outputs = false, lang = false;
  for (const auto& e : c["env"]) {
    if (e["name"] == "KRDC_OUTPUTS") outputs = e["value"] == "/dev/termination-log";
    if (e["name"] == "LANG") lang = e["value"] == "C.UTF-8";
  }
  CHECK(outputs);
  CHECK(lang);
}

TEST_CASE("kube: no timeout means no activeDeadlineSeconds; no resources or secrets means none rendered") {
  auto step = sample_step();
  step.timeout_ms = 0;
  step.resources = nullptr;
  step.app.command.clear();  // the image's entrypoint then runs with the args
  StepRequest req;
  req.run_id = "r";
  req.workflow_name = "w";
  req.step = step;
  const auto job = render_job(req, JobOptions{});
  CHECK_FALSE(job["spec"].contains("activeDeadlineSeconds"));
  const auto& c = job["spec"]["template"]["spec"]["containers"][0];
  CHECK_FALSE(c.contains("resources"));
  CHECK_FALSE(c.contains("command"));
  CHECK_FALSE(job["spec"]["template"]["spec"].contains("imagePullSecrets"));
  CHECK_FALSE(job["metadata"].contains("namespace"));
}

// Security review (issue 12): what Pod Security "restricted" asks of every container, checked
// field by field (https://kubernetes.io/docs/concepts/security/pod-security-standards/).
namespace {
void check_restricted(const nlohmann::json& pod) {
  CAPTURE(pod.dump());
  CHECK(pod["securityContext"]["runAsNonRoot"] == true);
  CHECK(pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault");
  for (const auto& c : pod["containers"]) {
    const auto& sc = c["securityContext"];
    CHECK(sc["runAsNonRoot"] == true);
    CHECK(sc["allowPrivilegeEscalation"] == false);
    CHECK(sc["capabilities"]["drop"] == nlohmann::json::array({"ALL"}));
    CHECK(sc["seccompProfile"]["type"] == "RuntimeDefault");
    CHECK_FALSE(sc.contains("privileged"));
    CHECK_FALSE(sc["capabilities"].contains("add"));
  }
  CHECK_FALSE(pod.contains("hostNetwork"));
  CHECK_FALSE(pod.contains("hostPID"));
  for (const auto& v : pod.value("volumes", nlohmann::json::array())) CHECK_FALSE(v.contains("hostPath"));
}
}  // namespace

TEST_CASE("kube: an app Job gets no service-account token and passes the restricted Pod Security level") {
  StepRequest req;
  req.run_id = "r1";
  req.workflow_name = "wf";
  req.step = sample_step();
  req.attempt = 1;
  const auto job = render_job(req, JobOptions{});
  const auto& pod = job["spec"]["template"]["spec"];
  CHECK(pod["automountServiceAccountToken"] == false);
  CHECK_FALSE(pod.contains("serviceAccountName"));
  check_restricted(pod);
}

TEST_CASE("kube: env from a Secret is a secretKeyRef in the Job, never a value") {
  StepRequest req;
  req.run_id = "r1";
  req.workflow_name = "wf";
  req.step = sample_step();
  req.step.secret_env["API_KEY"] = krdc::workflow::SecretKeyRef{"api-credentials", "token", {}};
  req.attempt = 1;
  const auto job = render_job(req, JobOptions{});
  const auto& env = job["spec"]["template"]["spec"]["containers"][0]["env"];
  nlohmann::json found;
  for (const auto& e : env) {
    if (e["name"] == "API_KEY") found = e;
  }
  REQUIRE(found.is_object());
  CHECK_FALSE(found.contains("value"));
  CHECK(found["valueFrom"] == nlohmann::json{{"secretKeyRef", {{"name", "api-credentials"}, {"key", "token"}}}});
  CHECK(env.size() == 1 + 1 + 4);  // LANG, API_KEY, KRDC_OUTPUTS/RUN_ID/STEP/ATTEMPT
}
