#include "krdc/util/process_sweep.h"

#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "krdc/util/errors.h"

namespace krdc::util {

namespace {

// Field 5 of /proc/PID/stat (pgrp); the command name (field 2) may hold spaces and parentheses,
// so fields are counted after its closing parenthesis.
int process_group_of(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  char state = 0;
  int ppid = 0, pgrp = -1;
  if (std::sscanf(stat.c_str() + close + 1, " %c %d %d", &state, &ppid, &pgrp) != 3) return -1;
  return state == 'Z' ? -1 : pgrp;  // a zombie is already dead: its parent (init) reaps it
}

bool environment_has(const std::string& pid, const std::vector<std::string>& marks) {
  std::ifstream in("/proc/" + pid + "/environ", std::ios::binary);
  if (!in) return false;
  std::vector<std::string> entries;
  std::string entry;
  while (std::getline(in, entry, '\0')) entries.push_back(entry);
  return std::all_of(marks.begin(), marks.end(), [&](const std::string& mark) {
    return std::find(entries.begin(), entries.end(), mark) != entries.end();
  });
}

}  // namespace

std::vector<int> group_members_marked(int pgid, const std::vector<std::string>& marks) {
  std::vector<int> pids;
  if (pgid <= 1) return pids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    if (process_group_of(name) != pgid || !environment_has(name, marks)) continue;
    pids.push_back(std::stoi(name));
  }
  return pids;
}

size_t kill_marked_group(int pgid, const std::vector<std::string>& marks, std::chrono::milliseconds wait) {
  const std::vector<int> found = group_members_marked(pgid, marks);
  for (int pid : found) ::kill(pid, SIGKILL);
  const auto until = std::chrono::steady_clock::now() + wait;
  // Bounded: SIGKILL cannot be caught; only a process in uninterruptible sleep lingers.
  while (!group_members_marked(pgid, marks).empty()) {
    if (std::chrono::steady_clock::now() >= until) {
      throw Error(ExitCode::kStepFailed,
                  fmt::format("processes of group {} left by an earlier krdc did not die after SIGKILL", pgid),
                  fmt::format("check them with: ps -g {}", pgid));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return found.size();
}

}  // namespace krdc::util
