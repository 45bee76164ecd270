#include "krdc/kube/exec_credential.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "krdc/util/env.h"
#include "krdc/util/errors.h"

namespace krdc::kube {

namespace {

// Owns a file descriptor.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::chrono::system_clock::time_point parse_rfc3339(const std::string& text) {
  std::tm tm{};
  if (!strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

// Runs argv with stdout captured (bounded in size and time), stderr inherited, stdin /dev/null.
std::string run_plugin(const ExecPlugin& p) {
  std::string command = p.command;
  if (command.find('/') != std::string::npos && !std::filesystem::path(command).is_absolute() && !p.dir.empty()) {
    command = (std::filesystem::path(p.dir) / command).string();
  }
  std::vector<std::string> argv{command};
  argv.insert(argv.end(), p.args.begin(), p.args.end());
  // The plugin gets krdc's environment minus krdc's own credentials, plus the kubeconfig's env.
  std::map<std::string, std::string> extra = p.env;
  extra["KUBERNETES_EXEC_INFO"] =
      nlohmann::json{{"apiVersion", p.api_version}, {"kind", "ExecCredential"}, {"spec", {{"interactive", false}}}}
          .dump();
  std::vector<std::string> env = util::child_environment(extra);
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw AuthError("exec credential: pipe failed");
  Fd read_end{fds[0]}, write_end{fds[1]};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, write_end.fd, 1);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, cargv[0], &actions, nullptr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw AuthError(fmt::format("kubeconfig exec credential plugin {} could not start: {}", p.command, std::strerror(rc)));
  }
  ::close(write_end.fd);
  write_end.fd = -1;
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{read_end.fd, POLLIN, 0};
    const int prc = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (prc < 0 && errno == EINTR) continue;
    if (prc <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(read_end.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1u << 20)) break;
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) throw AuthError(fmt::format("kubeconfig exec credential plugin {} did not answer within 60 s", p.command));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw AuthError(fmt::format("kubeconfig exec credential plugin {} failed (exit {})", p.command,
                                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)));
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
