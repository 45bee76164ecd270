// `krdc token --exec-credential` (security review, issue 12): krdc as a kubectl credential
// plugin, so a token never has to go through argv (`kubectl --token "$(krdc token)"`). The
// JSON shape round-trips through krdc's own exec-plugin reader, and the binary prints it
// against a hub that speaks TLS (openssl s_server serving discovery and JWKS from files:
// the binary, rightly, never talks plain http).
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <thread>

#include "krdc/kube/exec_credential.h"
#include "krdc/util/child_process.h"
#include "krdc/util/env.h"
#include "support/temp_dir.h"
#include "support/test_keys.h"

using namespace std::chrono_literals;

namespace {

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

int run_to_end(const krdc::test::TempDir& dir, std::vector<std::string> argv, const std::string& cwd) {
  krdc::util::SpawnSpec spec;
  spec.argv = std::move(argv);
  spec.env = krdc::util::child_environment({});
  spec.cwd = cwd;
  spec.output_file = dir / "tool.log";
  krdc::util::ChildProcess child(spec);
  REQUIRE(child.wait(30'000));
  return child.exit_code();
}

std::string rfc3339(long long epoch) {
  const std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

TEST_CASE("token: an ExecCredential krdc prints is one krdc's own exec-plugin reader accepts") {
  const auto expires = std::chrono::system_clock::from_time_t(1'900'000'000);
  const auto json = nlohmann::json::parse(krdc::kube::render_exec_credential({"tok.en.value", expires}));
  CHECK(json["apiVersion"] == "client.authentication.k8s.io/v1");
  CHECK(json["kind"] == "ExecCredential");
  CHECK(json["status"]["token"] == "tok.en.value");
  CHECK(json["status"]["expirationTimestamp"] == "2030-03-17T17:46:40Z");
  const auto back = krdc::kube::parse_exec_credential(json.dump());
  CHECK(back.token == "tok.en.value");
  CHECK(back.expires == expires);
  // No expiry known: none claimed (client-go then keeps it until a 401).
  CHECK_FALSE(nlohmann::json::parse(krdc::kube::render_exec_credential({"t", {}}))["status"].contains("expirationTimestamp"));
}

TEST_CASE("token --exec-credential: the binary prints an ExecCredential for kubeconfig users[].exec, and only that") {
  krdc::test::TempDir dir;
  const int port = free_port();
  const std::string issuer = "https://127.0.0.1:" + std::to_string(port);
  REQUIRE(run_to_end(dir,
                     {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                      "-keyout", "key.pem", "-out", "cert.pem", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                      "subjectAltName=IP:127.0.0.1"},
                     dir.path().string()) == 0);
  krdc::test::TestKey key("hub-key");
  dir.write("www/.well-known/openid-configuration",
            nlohmann::json{{"issuer", issuer}, {"token_endpoint", issuer + "/token"}, {"jwks_uri", issuer + "/certs"}}.dump());
  dir.write("www/certs", nlohmann::json{{"keys", {key.jwk}}}.dump());
  krdc::util::SpawnSpec hub;
  hub.argv = {"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-cert", dir / "cert.pem",
              "-key", dir / "key.pem", "-WWW", "-quiet"};
  hub.env = krdc::util::child_environment({});
  hub.cwd = dir / "www";
  hub.output_file = dir / "hub.log";
  krdc::util::ChildProcess server(hub);  // killed with its group at the end of the test
  for (int i = 0; i < 100 && !accepts(port); ++i) std::this_thread::sleep_for(50ms);
  REQUIRE(accepts(port));

  const long long exp = krdc::test::epoch_in(std::chrono::hours(1));
  const std::string token = key.sign({{"iss", issuer}, {"sub", "u-1"}, {"preferred_username", "alice"},
                                      {"aud", {"krdc-kisti"}}, {"exp", exp}, {"iat", krdc::test::epoch_in(0s)}});
  krdc::util::SpawnSpec spec;
  spec.argv = {KRDC_BINARY, "token", "--exec-credential"};
  spec.env = krdc::util::child_environment({{"CI", "1"},
                                            {"XDG_CONFIG_HOME", dir / "config"},
                                            {"XDG_CACHE_HOME", dir / "cache"},
                                            {"KRDC_HUB", issuer},
                                            {"KRDC_CA_FILE", dir / "cert.pem"},
                                            {"KRDC_TOKEN", token}});
  spec.cwd = dir.path().string();
  spec.output_file = dir / "stderr.log";
  spec.capture_stdout = true;
  krdc::util::ChildProcess krdc(spec);
  std::string out;
  REQUIRE(krdc.read_stdout(out, 1 << 20, 30'000));
  INFO(krdc::test::read_file(dir / "stderr.log"));
  REQUIRE(krdc.exit_code() == 0);
  const auto json = nlohmann::json::parse(out);  // stdout is the JSON and nothing else
  CHECK(json["apiVersion"] == "client.authentication.k8s.io/v1");
  CHECK(json["kind"] == "ExecCredential");
  CHECK(json["status"]["token"] == token);
  CHECK(json["status"]["expirationTimestamp"] == rfc3339(exp));
  CHECK(json["status"].size() == 2);
  CHECK(krdc::kube::parse_exec_credential(out).token == token);

  // The help teaches the plugin, not a token in argv.
  krdc::util::SpawnSpec help = spec;
  help.argv = {KRDC_BINARY, "token", "--help"};
  krdc::util::ChildProcess h(help);
  std::string text;
  REQUIRE(h.read_stdout(text, 1 << 20, 30'000));
  CHECK(text.find("--exec-credential") != std::string::npos);
  CHECK(text.find("client.authentication.k8s.io/v1") != std::string::npos);
  CHECK(text.find("--token \"$(") == std::string::npos);
}
