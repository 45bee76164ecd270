// User config file parsing (positions in errors, relative paths, secret hygiene) and the
// documented hub/CA/client precedence.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "krdc/config/config.h"
#include "krdc/config/hub_settings.h"
#include "krdc/util/errors.h"

using namespace krdc::config;

namespace {
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/krdc-config-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text, mode_t mode = 0600) const {
    auto p = path / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
    ::chmod(p.c_str(), mode);
    return p.string();
  }
};
}  // namespace

TEST_CASE("config: a full file parses") {
  Config c = parse_config(R"(
hub: {issuer: "https://hub/realms/krdc", clientId: cli, caFile: /ca.pem}
caFile: /site.pem
localCluster: kisti
clusters:
  kisti: {server: "https://k:6443", audience: krdc-kisti, namespace: alice}
  unist: {server: "https://u:6443", audience: krdc-unist, namespace: alice, caFile: /u.pem}
)", "c.yaml");
  CHECK(c.hub.issuer == "https://hub/realms/krdc");
  CHECK(c.hub.client_id == "cli");
  CHECK(c.local_cluster == "kisti");
  REQUIRE(c.clusters.size() == 2);
  CHECK(c.clusters["unist"].audience == "krdc-unist");
  CHECK(c.clusters["unist"].ca_file == "/u.pem");
  CHECK(c.clusters["kisti"].ns == "alice");
}

TEST_CASE("config: unknown keys and bad shapes name file:line:column") {
  try {
    parse_config("hub:\n  issuer: x\n  clientSecrte: y\n", "/home/a/config.yaml");
    FAIL("expected InvalidInput");
  } catch (const krdc::InvalidInput& e) {
    CHECK(std::string(e.what()).find("/home/a/config.yaml:3:3") == 0);
    CHECK(std::string(e.what()).find("clientSecrte") != std::string::npos);
  }
  CHECK_THROWS_AS(parse_config("clusters: [a, b]\n", "c.yaml"), krdc::InvalidInput);
  CHECK_THROWS_AS(parse_config("localCluster: nope\nclusters: {a: {server: \"https://s\"}}\n", "c.yaml"), krdc::InvalidInput);
  CHECK_THROWS_AS(parse_config("hub: {issuer: [\n", "c.yaml"), krdc::InvalidInput);
}

TEST_CASE("config: missing default file is fine, missing --config is not; relative paths follow the file") {
  TempDir dir;
  auto env = fixed_env({{"XDG_CONFIG_HOME", dir.path.string()}, {"HOME", "/nonexistent"}});
  Config none = load_config("", env);
  CHECK_FALSE(none.found);
  CHECK(none.path == dir.path.string() + "/krdc/config.yaml");
  CHECK_THROWS_AS(load_config((dir.path / "nope.yaml").string(), env), krdc::InvalidInput);

  dir.write("krdc/config.yaml", "caFile: certs/ca.pem\nhub: {issuer: https://h, clientSecretFile: s.txt}\n");
  Config c = load_config("", env);
  CHECK(c.found);
  CHECK(c.ca_file == dir.path.string() + "/krdc/certs/ca.pem");
  CHECK(c.hub.client_secret_file == dir.path.string() + "/krdc/s.txt");
}

TEST_CASE("config: an inline clientSecret in a file others can read is refused") {
  TempDir dir;
  auto env = fixed_env({});
  auto open_file = dir.write("c.yaml", "hub: {issuer: https://h, clientSecret: s3cr3t-value}\n", 0644);
  try {
    load_config(open_file, env);
    FAIL("expected AuthError");
  } catch (const krdc::AuthError& e) {
    CHECK(std::string(e.what()).find("s3cr3t-value") == std::string::npos);
    CHECK(e.hint().find("chmod 600") != std::string::npos);
  }
  auto closed = dir.write("d.yaml", "hub: {issuer: https://h, clientSecret: s3cr3t-value}\n", 0600);
  CHECK(load_config(closed, env).hub.client_secret == "s3cr3t-value");
}

TEST_CASE("config: hub precedence is --hub > KRDC_HUB > workflow spec.hub > config") {
  Config c = parse_config("hub: {issuer: https://config/}\n", "c.yaml");
  HubInputs in;
  CHECK(resolve_hub(c, in, fixed_env({})).issuer == "https://config");  // trailing slash forgiven
  in.workflow_hub = "https://workflow";
  CHECK(resolve_hub(c, in, fixed_env({})).issuer == "https://workflow");
  CHECK(resolve_hub(c, in, fixed_env({{"KRDC_HUB", "https://env"}})).issuer == "https://env");
  in.flag_hub = "https://flag";
  auto s = resolve_hub(c, in, fixed_env({{"KRDC_HUB", "https://env"}}));
  CHECK(s.issuer == "https://flag");
  CHECK(s.issuer_source == "--hub");
  CHECK_THROWS_AS(resolve_hub(Config{}, HubInputs{}, fixed_env({})), krdc::AuthError);
}

TEST_CASE("config: CA precedence is --ca-file > KRDC_CA_FILE > hub.caFile > caFile") {
  Config c = parse_config("hub: {issuer: https://h, caFile: /hub.pem}\ncaFile: /site.pem\n"
                          "clusters: {k: {server: \"https://s\", caFile: /k.pem}, u: {server: \"https://s\"}}\n", "c.yaml");
  HubInputs in;
  CHECK(resolve_hub(c, in, fixed_env({})).ca_file == "/hub.pem");
  CHECK(cluster_ca_file(c, "k", in, fixed_env({})) == "/k.pem");
  CHECK(cluster_ca_file(c, "u", in, fixed_env({})) == "/site.pem");
  CHECK(resolve_hub(c, in, fixed_env({{"KRDC_CA_FILE", "/env.pem"}})).ca_file == "/env.pem");
  in.flag_ca_file = "/flag.pem";
  CHECK(resolve_hub(c, in, fixed_env({{"KRDC_CA_FILE", "/env.pem"}})).ca_file == "/flag.pem");
  CHECK(cluster_ca_file(c, "k", in, fixed_env({})) == "/flag.pem");
}

TEST_CASE("config: client id and secret sources; an env client never borrows the config's secret") {
  TempDir dir;
  auto secret_file = dir.write("secret", "from-file\n");
  Config c = parse_config("hub: {issuer: https://h, clientId: cfg-client, clientSecret: cfg-secret}\n", "c.yaml");
  auto s = resolve_hub(c, {}, fixed_env({}));
  CHECK(s.client_id == "cfg-client");
  CHECK(s.client_secret == "cfg-secret");
  CHECK_FALSE(s.client_credentials);

  s = resolve_hub(c, {}, fixed_env({{"KRDC_CLIENT_ID", "ci"}}));
  CHECK(s.client_id == "ci");
  CHECK(s.client_secret.empty());
  CHECK_FALSE(s.client_credentials);

  s = resolve_hub(c, {}, fixed_env({{"KRDC_CLIENT_ID", "ci"}, {"KRDC_CLIENT_SECRET_FILE", secret_file}}));
  CHECK(s.client_secret == "from-file");
  CHECK(s.client_credentials);

  s = resolve_hub(Config{}, HubInputs{"https://h", "", "", false}, fixed_env({{"KRDC_TOKEN", "tok"}}));
  CHECK(s.client_id == kDefaultClientId);
  CHECK(s.static_token == "tok");
}

TEST_CASE("config: non-interactive when flagged or CI is set") {
  CHECK(non_interactive(true, fixed_env({})));
  CHECK(non_interactive(false, fixed_env({{"CI", "true"}})));
}

// Security review (issue 12): the exchanged token would go to the cluster in clear.
TEST_CASE("config: a cluster server or hub issuer that is not https is refused at its position") {
  try {
    parse_config("clusters:\n  kisti: {server: \"http://k:6443\", namespace: alice}\n", "/home/a/config.yaml");
    FAIL("expected InvalidInput");
  } catch (const krdc::InvalidInput& e) {
    CHECK(std::string(e.what()).find("/home/a/config.yaml:2:") == 0);
    CHECK(std::string(e.what()).find("cluster \"kisti\" server must be an https:// URL") != std::string::npos);
  }
  try {
    parse_config("hub: {issuer: \"http://hub/realms/krdc\"}\n", "c.yaml");
    FAIL("expected InvalidInput");
  } catch (const krdc::InvalidInput& e) {
    CHECK(std::string(e.what()).find("c.yaml:1:") == 0);
    CHECK(std::string(e.what()).find("hub.issuer must be an https:// URL") != std::string::npos);
  }
  CHECK_THROWS_AS(parse_config("clusters:\n  k: {server: \"HTTPS://k\"}\n", "c.yaml"), krdc::InvalidInput);
  CHECK(parse_config("clusters:\n  k: {server: \"https://k:6443\"}\n", "c.yaml").clusters["k"].server == "https://k:6443");
}
