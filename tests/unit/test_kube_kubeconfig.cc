// Kubeconfig contexts: token, tokenFile, client certificate data, exec credential plugins
// (ExecCredential parsing and caching), KUBECONFIG merge order, and refusals (no TLS skipping).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "krdc/config/env.h"
#include "krdc/kube/exec_credential.h"
#include "krdc/kube/kubeconfig.h"
#include "krdc/util/errors.h"
#include "support/temp_dir.h"

using krdc::kube::kube_context_from;

namespace {

const char* kConfig = R"(apiVersion: v1
kind: Config
current-context: kisti-alice
clusters:
- name: kisti
  cluster: {server: "https://127.0.0.1:16443", certificate-authority-data: "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="}
- name: insecure
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
users:
- name: alice
  user: {token: "t0ken-for-alice"}
- name: admin
  user: {client-certificate-data: "Q0VSVA==", client-key-data: "S0VZ"}
- name: plugin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: sh
      args: ["-c", "printf '%s' '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"from-plugin\",\"expirationTimestamp\":\"2099-01-01T00:00:00Z\"}}'"]
contexts:
- name: kisti-alice
  context: {cluster: kisti, user: alice, namespace: alice}
- name: kisti-admin
  context: {cluster: kisti, user: admin}
- name: kisti-plugin
  context: {cluster: kisti, user: plugin, namespace: ops}
- name: bad
  context: {cluster: insecure, user: alice}
- name: dangling
  context: {cluster: nowhere, user: alice}
)";

}  // namespace

TEST_CASE("kubeconfig: current context with a token user and namespace") {
  auto env = krdc::config::fixed_env({});
  auto a = kube_context_from({{"/k/config", kConfig}}, "", env);
  CHECK(a.server == "https://127.0.0.1:16443");
  CHECK(a.ns == "alice");
  CHECK(a.ca_pem == "-----BEGIN CERTIFICATE-----\n");
  REQUIRE(a.tokens);
  CHECK(a.tokens->token() == "t0ken-for-alice");
  CHECK(a.tokens->describe().find("t0ken") == std::string::npos);
}

TEST_CASE("kubeconfig: client certificate data stays in memory") {
  auto a = kube_context_from({{"/k/config", kConfig}}, "kisti-admin", krdc::config::fixed_env({}));
  CHECK(a.client_cert_pem == "CERT");
  CHECK(a.client_key_pem == "KEY");
  CHECK_FALSE(a.tokens);
  CHECK(a.ns.empty());
}

TEST_CASE("kubeconfig: exec credential plugin runs without a shell of ours and its token is cached") {
  auto a = kube_context_from({{"/k/config", kConfig}}, "kisti-plugin", krdc::config::fixed_env({}));
  REQUIRE(a.tokens);
  CHECK(a.tokens->token() == "from-plugin");
  CHECK(a.tokens->token() == "from-plugin");
  a.tokens->invalidate();
  CHECK(a.tokens->token() == "from-plugin");  // ran again after the 401
  CHECK(a.ns == "ops");
}

TEST_CASE("kubeconfig: ExecCredential parsing") {
  auto t = krdc::kube::parse_exec_credential(
      R"({"kind":"ExecCredential","status":{"token":"x","expirationTimestamp":"2030-05-01T10:00:00Z"}})");
  CHECK(t.token == "x");
  CHECK(std::chrono::system_clock::to_time_t(t.expires) == 1903860000);
  CHECK_THROWS_AS(krdc::kube::parse_exec_credential("not json"), krdc::AuthError);
  CHECK_THROWS_AS(krdc::kube::parse_exec_credential(R"({"kind":"ExecCredential","status":{}})"), krdc::AuthError);
}

TEST_CASE("kubeconfig: TLS skipping, unknown contexts and dangling references are refused") {
  auto env = krdc::config::fixed_env({});
  CHECK_THROWS_AS(kube_context_from({{"/k/config", kConfig}}, "bad", env), krdc::InvalidInput);
  CHECK_THROWS_AS(kube_context_from({{"/k/config", kConfig}}, "nope", env), krdc::InvalidInput);
  CHECK_THROWS_AS(kube_context_from({{"/k/config", kConfig}}, "dangling", env), krdc::InvalidInput);
}

TEST_CASE("kubeconfig: KUBECONFIG lists files; the first that names something wins") {
  krdc::test::TempDir dir;
  const auto first = (dir.path() / "first").string();
  const auto second = (dir.path() / "second").string();
  {
    std::ofstream(first) << "users:\n- name: alice\n  user: {tokenFile: alice.token}\n";
    std::ofstream(dir.path() / "alice.token") << "from-file\n";
    std::ofstream(second) << kConfig;
  }
  auto env = krdc::config::fixed_env({{"KUBECONFIG", first + ":" + (dir.path() / "missing").string() + ":" + second}});
  CHECK(krdc::kube::kubeconfig_files({}, env).size() == 3);
  CHECK(krdc::kube::kubeconfig_available({}, env));
  auto a = krdc::kube::load_kube_context({}, env);  // current-context from the second file
  REQUIRE(a.tokens);
  CHECK(a.tokens->token() == "from-file");            // alice from the first file, relative path resolved
  CHECK(krdc::kube::kubeconfig_files({"/explicit", ""}, env) == std::vector<std::string>{"/explicit"});
}
