// Proxy executor pieces that need no server: the step spec a proxy reads (round trip, bad
// input), the proxy Job and credential Secret manifests (no token outside the Secret, the
// cleanup grace, labels), and the report a failed proxy leaves in its termination message.
#include <doctest/doctest.h>

#include "krdc/exec/proxy/proxy_job.h"
#include "krdc/exec/proxy/remote_step.h"
#include "krdc/exec/step_spec.h"
#include "krdc/util/errors.h"

using namespace krdc::exec;
using nlohmann::json;

namespace {

krdc::workflow::Step remote_step() {
  krdc::workflow::Step s;
  s.name = "regrid";
  s.app.name = "regrid";
  s.app.image = "krdc.example/echo:1";
  s.app.command = {"python3", "main.py"};
  s.cluster = "unist";
  s.timeout_ms = 120'000;
  s.env = {{"MODE", "fast"}};
  s.resources = {{"limits", {{"memory", "1Gi"}}}};
  return s;
}

StepRequest request_for(const krdc::workflow::Step& s) {
  StepRequest r;
  r.run_id = "20261130-120000-abc123";
  r.workflow_name = "ocean heat";
  r.step = s;
  r.args = {"--message=a b", "--count=2"};
  r.params = {{"message", "a b"}, {"count", 2}};
  r.attempt = 2;
  r.kill_grace_ms = 4000;
  return r;
}

}  // namespace

TEST_CASE("step spec: a request survives the round trip through JSON") {
  const auto step = remote_step();
  const auto req = request_for(step);
  const json spec = step_spec(req);
  CHECK(spec["version"] == kStepSpecVersion);
  const StepRequest r = parse_step_spec(json::parse(spec.dump()));
  CHECK(r.run_id == req.run_id);
  CHECK(r.workflow_name == req.workflow_name);
  CHECK(r.attempt == 2);
  CHECK(r.args == req.args);
  CHECK(r.params == req.params);
  CHECK(r.kill_grace_ms == 4000);
  CHECK(r.step.name == "regrid");
  CHECK(r.step.app.image == step.app.image);
  CHECK(r.step.app.command == step.app.command);
  CHECK(r.step.env == step.env);
  CHECK(r.step.resources == step.resources);
  CHECK(r.step.timeout_ms == 120'000);
  CHECK(r.deadline != std::chrono::steady_clock::time_point::max());
  // The same Job name on both sides: the remote Job is named like the proxy Job.
  CHECK(kube::job_name(r.run_id, r.step.name, r.attempt) == kube::job_name(req.run_id, step.name, 2));
}

TEST_CASE("step spec: bad specs are refused, naming what is wrong") {
  const auto step = remote_step();
  json spec = step_spec(request_for(step));
  auto message = [](const json& j) {
    try {
      parse_step_spec(j);
    } catch (const krdc::InvalidInput& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(message(json::array()) == "step spec: not a JSON object");
  json v = spec;
  v["version"] = "krdc.dev/step-spec/v0";
  CHECK(message(v).find("version") != std::string::npos);
  json no_image = spec;
  no_image.erase("image");
  CHECK(message(no_image) == "step spec: \"image\" is missing");
  json bad_args = spec;
  bad_args["args"] = "--rm -rf";
  CHECK(message(bad_args).find("\"args\" has the wrong type") != std::string::npos);
  json zero = spec;
  zero["attempt"] = 0;
  CHECK(message(zero).find("attempt") != std::string::npos);
}

TEST_CASE("proxy job: runs krdc proxy with the Secret mounted, and no token anywhere in it") {
  const auto step = remote_step();
  const auto req = request_for(step);
  proxy::ProxyJobOptions options;
  options.image = "krdc.example/krdc:dev";
  options.job.ns = "alice";
  options.cleanup_seconds = 30;
  const json job = proxy::render_proxy_job(req, "unist", options);
  const std::string name = job["metadata"]["name"];
  CHECK(name == kube::job_name(req.run_id, "regrid", 2));
  CHECK(job["metadata"]["labels"]["krdc/role"] == "proxy");
  CHECK(job["metadata"]["labels"]["krdc/run"] == req.run_id);
  CHECK(job["metadata"]["annotations"]["krdc/remote-cluster"] == "unist");
  CHECK(job["spec"]["backoffLimit"] == 0);
  // The remote deadline fires first; the proxy has time to report and clean up after it.
  CHECK(job["spec"]["activeDeadlineSeconds"].get<long long>() > 120);
  const json& pod = job["spec"]["template"]["spec"];
  CHECK(pod["serviceAccountName"] == "krdc-proxy");
  CHECK(pod["terminationGracePeriodSeconds"] == 4 + 30);
  CHECK(pod["volumes"][0]["secret"]["secretName"] == proxy::credential_secret_name(name));
  const json& c = pod["containers"][0];
  CHECK(c["image"] == "krdc.example/krdc:dev");
  CHECK(c["command"] == json::array({"krdc", "proxy"}));
  CHECK(c["volumeMounts"][0]["mountPath"] == proxy::kCredentialsDir);
  // The step spec travels in the environment; the app's env and resources are inside it.
  std::string spec_text;
  for (const auto& e : c["env"]) {
    if (e["name"] == proxy::kStepSpecEnv) spec_text = e["value"];
    CHECK(e["name"] != "MODE");
  }
  REQUIRE(!spec_text.empty());
  CHECK(json::parse(spec_text)["env"]["MODE"] == "fast");
  CHECK(c["resources"]["requests"]["cpu"] == "10m");

  krdc::kube::ClusterAccess remote;
  remote.name = "unist";
  remote.server = "https://127.0.0.1:26443";
  remote.ns = "alice";
  remote.ca_pem = "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n";
  const std::string token = "eyJhbGciOiJSUzI1NiJ9.secret-token-value.sig";
  const json secret = proxy::render_credential_secret(req, "alice", remote, token);
  CHECK(secret["metadata"]["name"] == proxy::credential_secret_name(name));
  CHECK(secret["metadata"]["labels"]["krdc/role"] == "proxy-credentials");
  CHECK(secret["stringData"]["token"] == token);
  CHECK(secret["stringData"]["server"] == remote.server);
  CHECK(secret["stringData"]["cluster"] == "unist");
  CHECK(secret["stringData"]["ca.crt"] == remote.ca_pem);
  CHECK(job.dump().find(token) == std::string::npos);
  CHECK(job.dump().find("secret-token-value") == std::string::npos);
}

TEST_CASE("proxy report: a failure survives the termination message; anything else is not a report") {
  proxy::ProxyReport r;
  r.status = "failed";
  r.exit_code = 3;
  r.reason = "exited with code 3";
  r.error = krdc::exec::ErrorKind::kUnreachable;
  r.remote = {{"cluster", "unist"}, {"job", "regrid-1"}, {"uid", "u-1"}};
  const std::string text = proxy::encode_report(r);
  CHECK(text.size() < krdc::exec::kube::kTerminationMessageLimit);
  auto back = proxy::decode_report(text);
  REQUIRE(back);
  CHECK(back->status == "failed");
  CHECK(back->exit_code == 3);
  CHECK(back->reason == r.reason);
  CHECK(back->error == krdc::exec::ErrorKind::kUnreachable);
  CHECK(text.find("\"error\":\"unreachable\"") != std::string::npos);
  CHECK(back->remote == r.remote);
  CHECK_FALSE(proxy::decode_report("Traceback (most recent call last):\n  boom"));
  CHECK_FALSE(proxy::decode_report("{\"message\": \"an app's outputs\"}"));
  CHECK_FALSE(proxy::decode_report("{\"krdcProxy\": {\"exitCode\": \"three\"}}"));
  CHECK_FALSE(proxy::decode_report(""));
}

TEST_CASE("error kinds: from krdc's errors, to exit codes, and through their names") {
  using krdc::exec::ErrorKind;
  CHECK(krdc::exec::error_kind(krdc::UnreachableError("down")) == ErrorKind::kUnreachable);
  CHECK(krdc::exec::error_kind(krdc::AuthError("no")) == ErrorKind::kAuth);
  CHECK(krdc::exec::error_kind(krdc::InvalidInput("bad")) == ErrorKind::kNone);
  CHECK(krdc::exec::exit_code(ErrorKind::kUnreachable) == krdc::ExitCode::kUnreachable);
  CHECK(krdc::exec::exit_code(ErrorKind::kAuth) == krdc::ExitCode::kAuth);
  CHECK(krdc::exec::exit_code(ErrorKind::kNone) == krdc::ExitCode::kStepFailed);
  for (ErrorKind kind : {ErrorKind::kNone, ErrorKind::kUnreachable, ErrorKind::kAuth}) {
    CHECK(krdc::exec::error_kind_named(krdc::exec::to_string(kind)) == kind);
  }
  CHECK(krdc::exec::error_kind_named("on fire") == ErrorKind::kNone);
}

// Security review (issue 12): the proxy keeps its service-account token (it patches its own
// Pod) but runs as restricted as an app; secret env travels as a reference to the remote Job.
TEST_CASE("proxy job: keeps its account token, restricted securityContext, secret env as references only") {
  auto step = remote_step();
  step.secret_env["API_KEY"] = krdc::workflow::SecretKeyRef{"api-credentials", "token", {}};
  const auto req = request_for(step);
  proxy::ProxyJobOptions options;
  options.image = "krdc.example/krdc:dev";
  const json job = proxy::render_proxy_job(req, "unist", options);
  const json& pod = job["spec"]["template"]["spec"];
  CHECK(pod["automountServiceAccountToken"] == true);
  CHECK(pod["securityContext"]["runAsNonRoot"] == true);
  const json& sc = pod["containers"][0]["securityContext"];
  CHECK(sc == kube::container_security_context());
  CHECK(sc["allowPrivilegeEscalation"] == false);
  CHECK(sc["capabilities"]["drop"] == json::array({"ALL"}));
  for (const auto& e : pod["containers"][0]["env"]) CHECK(e["name"] != "API_KEY");

  const StepRequest remote = parse_step_spec(json::parse(step_spec(req).dump()));
  REQUIRE(remote.step.secret_env.count("API_KEY") == 1);
  CHECK(remote.step.secret_env.at("API_KEY").name == "api-credentials");
  CHECK(remote.step.secret_env.at("API_KEY").key == "token");
  const json remote_job = kube::render_job(remote, kube::JobOptions{});
  bool referenced = false;
  for (const auto& e : remote_job["spec"]["template"]["spec"]["containers"][0]["env"]) {
    if (e["name"] == "API_KEY") referenced = e["valueFrom"]["secretKeyRef"]["name"] == "api-credentials";
  }
  CHECK(referenced);
  CHECK(remote_job["spec"]["template"]["spec"]["automountServiceAccountToken"] == false);
}
