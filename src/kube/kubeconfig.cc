#include "krdc/kube/kubeconfig.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "krdc/kube/exec_credential.h"
#include "krdc/util/errors.h"

namespace krdc::kube {

namespace fs = std::filesystem;

namespace {

struct Entry {
  YAML::Node node;
  std::string file;
};

std::string read_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InvalidInput(fmt::format("{}: cannot read {}", what, path));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string base64_decode(const std::string& text, const std::string& what) {
  std::string clean;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) clean.push_back(c);
  }
  std::string out((clean.size() / 4 + 1) * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  if (n < 0) throw InvalidInput(fmt::format("{}: not valid base64", what));
  size_t len = static_cast<size_t>(n);
  if (!clean.empty() && clean.back() == '=') --len;
  if (clean.size() > 1 && clean[clean.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

std::string str(const YAML::Node& n, const char* key) {
  return n && n[key] && n[key].IsScalar() ? n[key].as<std::string>() : std::string();
}

std::string resolve(const std::string& path, const std::string& file) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(file).parent_path() / path).string();
}

// name → entry, first file wins (kubectl's merge rule).
void collect(const YAML::Node& root, const char* list, const char* inner, const std::string& file,
             std::map<std::string, Entry>& out) {
  if (!root[list] || !root[list].IsSequence()) return;
  for (const auto& item : root[list]) {
    const std::string name = str(item, "name");
    if (!name.empty() && !out.count(name)) out[name] = Entry{item[inner], file};
  }
}

}  // namespace

std::vector<std::string> kubeconfig_files(const KubeconfigInputs& inputs, const config::Env& env) {
  if (!inputs.path.empty()) return {inputs.path};
  std::vector<std::string> out;
  if (auto kc = env("KUBECONFIG")) {
    std::stringstream s(*kc);
    std::string item;
    while (std::getline(s, item, ':')) {
      if (!item.empty()) out.push_back(item);
    }
    return out;
  }
  if (auto home = env("HOME")) out.push_back(*home + "/.kube/config");
  return out;
}

bool kubeconfig_available(const KubeconfigInputs& inputs, const config::Env& env) {
  std::error_code ec;
  for (const auto& f : kubeconfig_files(inputs, env)) {
    if (fs::is_regular_file(f, ec)) return true;
  }
  return false;
}

ClusterAccess load_kube_context(const KubeconfigInputs& inputs, const config::Env& env) {
  std::vector<std::pair<std::string, std::string>> files;
  std::error_code ec;
  for (const auto& f : kubeconfig_files(inputs, env)) {
    // An explicit --kubeconfig must exist; KUBECONFIG entries that do not are skipped (kubectl does).
    if (!inputs.path.empty() || fs::is_regular_file(f, ec)) files.emplace_back(f, read_file(f, "kubeconfig"));
  }
  if (files.empty()) {
    throw InvalidInput("no kubeconfig found", "pass --kubeconfig FILE or set KUBECONFIG");
  }
  return kube_context_from(files, inputs.context, env, inputs.cancel);
}

ClusterAccess kube_context_from(const std::vector<std::pair<std::string, std::string>>& files,
                                const std::string& context_name, const config::Env&, const util::CancelToken* cancel) {
  std::map<std::string, Entry> clusters, users, contexts;
  std::string current;
  for (const auto& [file, text] : files) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      throw InvalidInput(fmt::format("{}:{}:{}: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg));
    }
    if (!root.IsMap()) throw InvalidInput(fmt::format("{}: not a kubeconfig", file));
    collect(root, "clusters", "cluster", file, clusters);
    collect(root, "users", "user", file, users);
    collect(root, "contexts", "context", file, contexts);
    if (current.empty()) current = str(root, "current-context");
  }
  const std::string where = files.size() == 1 ? files[0].first : fmt::format("{} kubeconfig files", files.size());
  const std::string name = context_name.empty() ? current : context_name;
  if (name.empty()) throw InvalidInput(fmt::format("{}: no current-context", where), "pass --context NAME");
  auto ctx = contexts.find(name);
  if (ctx == contexts.end()) throw InvalidInput(fmt::format("{}: no context \"{}\"", where, name));
  const std::string cluster_name = str(ctx->second.node, "cluster");
  const std::string user_name = str(ctx->second.node, "user");
  auto cl = clusters.find(cluster_name);
  if (cl == clusters.end()) {
    throw InvalidInput(fmt::format("{}: context \"{}\" names cluster \"{}\", which is not defined", where, name, cluster_name));
  }

  ClusterAccess access;
  access.origin = fmt::format("kubeconfig context {}", name);
  access.ns = str(ctx->second.node, "namespace");
  const auto& c = cl->second.node;
  access.server = str(c, "server");
  if (access.server.rfind("https://", 0) != 0) {
    throw InvalidInput(fmt::format("{}: cluster \"{}\": server must be an https:// URL", cl->second.file, cluster_name));
  }
  if (str(c, "insecure-skip-tls-verify") == "true") {
    throw InvalidInput(fmt::format("{}: cluster \"{}\" sets insecure-skip-tls-verify", cl->second.file, cluster_name),
                       "krdc always verifies TLS: give the cluster's CA (certificate-authority or -data)");
  }
  if (!str(c, "certificate-authority-data").empty()) {
    access.ca_pem = base64_decode(str(c, "certificate-authority-data"), "certificate-authority-data");
  } else {
    access.ca_file = resolve(str(c, "certificate-authority"), cl->second.file);
  }

  if (user_name.empty()) return access;
  auto us = users.find(user_name);
  if (us == users.end()) {
    throw InvalidInput(fmt::format("{}: context \"{}\" names user \"{}\", which is not defined", where, name, user_name));
  }
  const auto& u = us->second.node;
  const std::string& ufile = us->second.file;
  if (!str(u, "token").empty()) {
    access.tokens = std::make_shared<auth::StaticTokenSource>(str(u, "token"), "kubeconfig user " + user_name);
  } else if (!str(u, "tokenFile").empty()) {
    access.tokens = std::make_shared<auth::FileTokenSource>(resolve(str(u, "tokenFile"), ufile));
  } else if (u["exec"] && u["exec"].IsMap()) {
    ExecPlugin p;
    const auto& e = u["exec"];
    p.command = str(e, "command");
    if (p.command.empty()) throw InvalidInput(fmt::format("{}: user \"{}\": exec has no command", ufile, user_name));
    if (!str(e, "apiVersion").empty()) p.api_version = str(e, "apiVersion");
    if (e["args"] && e["args"].IsSequence()) {
      for (const auto& a : e["args"]) p.args.push_back(a.as<std::string>());
    }
    if (e["env"] && e["env"].IsSequence()) {
      for (const auto& kv : e["env"]) p.env[str(kv, "name")] = str(kv, "value");
    }
    p.dir = fs::path(ufile).parent_path().string();
    p.cancel = cancel;
    access.tokens = std::make_shared<ExecTokenSource>(std::move(p));
  }
  if (!str(u, "client-certificate-data").empty()) {
    access.client_cert_pem = base64_decode(str(u, "client-certificate-data"), "client-certificate-data");
  } else if (!str(u, "client-certificate").empty()) {
    access.client_cert_pem = read_file(resolve(str(u, "client-certificate"), ufile), "client-certificate");
  }
  if (!str(u, "client-key-data").empty()) {
    access.client_key_pem = base64_decode(str(u, "client-key-data"), "client-key-data");
  } else if (!str(u, "client-key").empty()) {
    access.client_key_pem = read_file(resolve(str(u, "client-key"), ufile), "client-key");
  }
  if (access.client_cert_pem.empty() != access.client_key_pem.empty()) {
    throw InvalidInput(fmt::format("{}: user \"{}\" has a client certificate without its key (or the reverse)", ufile,
                                   user_name));
  }
  return access;
}

}  // namespace krdc::kube
