#include "krdc/kube/exec_credential.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <ctime>
#include <filesystem>
#include <optional>

#include "krdc/util/child_process.h"
#include "krdc/util/env.h"
#include "krdc/util/errors.h"

namespace krdc::kube {

namespace {

constexpr int kPluginTimeoutMs = 60'000;
constexpr std::size_t kPluginOutputLimit = 1u << 20;  // an ExecCredential is a few KiB

std::chrono::system_clock::time_point parse_rfc3339(const std::string& text) {
  std::tm tm{};
  if (!strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

// Runs argv through util::ChildProcess (own process group, clean signal mask, only fds 0-2):
// stdout captured in memory (bounded in size and time), stderr krdc's own, stdin /dev/null.
// `cancel`, when given, wakes the wait: the plugin is killed and Interrupted thrown.
std::string run_plugin(const ExecPlugin& p) {
  std::string command = p.command;
  if (command.find('/') != std::string::npos && !std::filesystem::path(command).is_absolute() && !p.dir.empty()) {
    command = (std::filesystem::path(p.dir) / command).string();
  }
  util::SpawnSpec spec;
  spec.argv = {command};
  spec.argv.insert(spec.argv.end(), p.args.begin(), p.args.end());
  // The plugin gets krdc's environment minus krdc's own credentials, plus the kubeconfig's env.
  std::map<std::string, std::string> extra = p.env;
  extra["KUBERNETES_EXEC_INFO"] =
      nlohmann::json{{"apiVersion", p.api_version}, {"kind", "ExecCredential"}, {"spec", {{"interactive", false}}}}
          .dump();
  spec.env = util::child_environment(extra);
  spec.capture_stdout = true;  // the token stays in memory: never a file, never a log
  std::optional<util::ChildProcess> child;
  try {
    child.emplace(spec);
  } catch (const Error& e) {  // "cannot start <command>: <errno text>"
    throw AuthError(fmt::format("kubeconfig exec credential plugin: {}", e.what()));
  }
  std::string out;
  const bool ended = child->read_stdout(out, kPluginOutputLimit, kPluginTimeoutMs, p.cancel ? p.cancel->fd() : -1);
  if (!ended && p.cancel && p.cancel->cancelled()) {
    throw Interrupted(fmt::format("cancelled while kubeconfig exec credential plugin {} ran", p.command));
  }
  if (!ended) {
    throw AuthError(fmt::format("kubeconfig exec credential plugin {} did not answer within {} s", p.command,
                                kPluginTimeoutMs / 1000));
  }
  if (child->exit_code() != 0) {
    throw AuthError(fmt::format("kubeconfig exec credential plugin {} failed (exit {})", p.command, child->exit_code()));
  }
  return out;
}

}  // namespace

ExecToken parse_exec_credential(const std::string& text) {
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || json.value("kind", "") != "ExecCredential" || !json.contains("status") ||
      !json["status"].is_object()) {
    throw AuthError("kubeconfig exec credential plugin did not print an ExecCredential");
  }
  const auto& st = json["status"];
  ExecToken t;
  t.token = st.value("token", "");
  if (t.token.empty()) {
    throw AuthError("kubeconfig exec credential plugin returned no token",
                    st.contains("clientCertificateData") ? "client certificates from exec plugins are not supported"
                                                         : "");
  }
  if (st.contains("expirationTimestamp") && st["expirationTimestamp"].is_string()) {
    t.expires = parse_rfc3339(st["expirationTimestamp"].get<std::string>());
  }
  return t;
}

std::string render_exec_credential(const ExecToken& token) {
  nlohmann::json status{{"token", token.token}};
  if (token.expires != std::chrono::system_clock::time_point{}) {
    const std::time_t t = std::chrono::system_clock::to_time_t(token.expires);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    status["expirationTimestamp"] = buf;
  }
  return nlohmann::json{{"apiVersion", "client.authentication.k8s.io/v1"}, {"kind", "ExecCredential"}, {"status", status}}
      .dump();
}

ExecTokenSource::ExecTokenSource(ExecPlugin plugin) : plugin_(std::move(plugin)) {}

std::string ExecTokenSource::token() {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::system_clock::now();
  const bool expired = cached_.expires != std::chrono::system_clock::time_point{} &&
                       cached_.expires - std::chrono::seconds(10) <= now;
  if (!valid_ || expired) {
    cached_ = parse_exec_credential(run_plugin(plugin_));
    valid_ = true;
  }
  return cached_.token;
}

void ExecTokenSource::invalidate() {
  std::lock_guard lock(mu_);
  valid_ = false;
}

std::string ExecTokenSource::describe() const { return "kubeconfig exec plugin " + plugin_.command; }

}  // namespace krdc::kube
