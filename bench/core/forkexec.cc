// The baseline for bench/core/run: run N copies of a command, P at a time, with
// posix_spawn + waitpid and nothing else. krdc's per-step overhead is measured against this.
#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

extern char** environ;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: forkexec N P command [args...]\n");
    return 2;
  }
  const int n = std::atoi(argv[1]);
  const int p = std::atoi(argv[2]);
  int started = 0, running = 0, failed = 0;
  while (started < n || running > 0) {
    while (running < p && started < n) {
      pid_t pid;
      if (posix_spawnp(&pid, argv[3], nullptr, nullptr, argv + 3, environ) != 0) return 1;
      ++started;
      ++running;
    }
    int status = 0;
    if (wait(&status) > 0) {
      --running;
      failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
  }
  return failed ? 1 : 0;
}
