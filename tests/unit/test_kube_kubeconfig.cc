// Kubeconfig contexts: token, tokenFile, client certificate data, exec credential plugins
// (ExecCredential parsing and caching), KUBECONFIG merge order, and refusals (no TLS skipping).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "krdc/config/env.h"
#include "krdc/kube/exec_credential.h"
#include "krdc/kube/kubeconfig.h"
#include "krdc/util/cancel.h"
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

namespace {
int open_fd_count() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}
}  // namespace

TEST_CASE("exec credential: the plugin gets fds 0-2 only, its token comes back, no fd is left open") {
  // Deliberately without O_CLOEXEC, and high, as a library in another thread might leave one.
  const int devnull = ::open("/dev/null", O_RDONLY);
  const int stray = ::fcntl(devnull, F_DUPFD, 100);
  ::close(devnull);
  REQUIRE(stray >= 100);
  const int before = open_fd_count();
  krdc::kube::ExecPlugin p;
  p.command = "/bin/sh";
  // The token lists the plugin shell's open fds (the glob's own directory fd shows up too).
  p.args = {"-c", "printf '{\"kind\":\"ExecCredential\",\"status\":{\"token\":\"fds'; "
                  "for f in /proc/$$/fd/*; do printf ' %s' \"${f##*/}\"; done; printf '\"}}'"};
  krdc::kube::ExecTokenSource source(p);
  const std::string token = source.token();
  CHECK(open_fd_count() == before);
  ::close(stray);
  INFO(token);
  REQUIRE(token.rfind("fds 0 1 2", 0) == 0);
  CHECK(token.find(" " + std::to_string(stray)) == std::string::npos);
}

TEST_CASE("exec credential: Ctrl-C (the cancel token) stops a plugin that hangs, within a second") {
  krdc::test::TempDir dir;
  krdc::util::CancelToken cancel;
  krdc::kube::ExecPlugin p;
  p.command = "/bin/sh";
  p.args = {"-c", "touch \"$1\"; exec sleep 30", "plugin", dir / "started"};
  p.cancel = &cancel;
  krdc::kube::ExecTokenSource source(p);
  std::chrono::steady_clock::time_point signalled{};
  std::thread interrupter([&] {
    // Readiness: the plugin is running (bounded wait), then interrupt.
    for (int i = 0; i < 1000 && !std::filesystem::exists(dir / "started"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    signalled = std::chrono::steady_clock::now();
    cancel.cancel();
  });
  bool interrupted = false;
  try {
    source.token();
  } catch (const krdc::Interrupted& e) {
    interrupted = true;
    CHECK(e.code() == krdc::ExitCode::kInterrupted);
  }
  const auto ended = std::chrono::steady_clock::now();
  interrupter.join();
  CHECK(interrupted);
  CHECK(ended - signalled < std::chrono::seconds(1));
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
