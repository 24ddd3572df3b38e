#include "iai/parallel/local_workers.h"

#include "iai/core/error.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace iai::parallel {

namespace {

volatile sig_atomic_t pending_signal = 0;
void remember_signal(int sig) {
  pending_signal = sig;
}

/// The worker's environment: ours without the launch variables, then its own.
std::vector<std::string> worker_env(int rank, int workers, int port) {
  static const char* const launch[] = {
      "RANK=",        "WORLD_SIZE=", "LOCAL_RANK=", "LOCAL_WORLD_SIZE=",
      "MASTER_ADDR=", "MASTER_PORT="};
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    bool ours = false;
    for (const char* name : launch) {
      ours = ours || std::strncmp(*e, name, std::strlen(name)) == 0;
    }
    if (!ours) env.emplace_back(*e);
  }
  const std::string r = std::to_string(rank), n = std::to_string(workers);
  env.push_back("RANK=" + r);
  env.push_back("LOCAL_RANK=" + r);
  env.push_back("WORLD_SIZE=" + n);
  env.push_back("LOCAL_WORLD_SIZE=" + n);
  env.push_back("MASTER_ADDR=127.0.0.1");
  env.push_back("MASTER_PORT=" + std::to_string(port));
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  IAI_CHECK(fd >= 0, "cannot open a socket: ", std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;  // the kernel picks a free one
  socklen_t len = sizeof addr;
  const bool ok =
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  IAI_CHECK(ok, "cannot find a free port on 127.0.0.1: ", std::strerror(errno));
  return ntohs(addr.sin_port);
}

int run_local_workers(int workers, const std::vector<std::string>& args) {
  IAI_CHECK(workers >= 1, "--nproc-per-node must be at least 1");
  const char* port_env = std::getenv("MASTER_PORT");
  const int port = port_env ? std::atoi(port_env) : free_local_port();
  IAI_CHECK(port > 0 && port < 65536, "MASTER_PORT='", port_env,
            "' is not a TCP port");
  std::vector<std::string> argv_s = {"iai"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv = pointers(argv_s);

  // Signals reach the workers through us only (they run in a process group
  // of their own), so a Ctrl-C reaches each of them exactly once.
  struct sigaction action {};
  action.sa_handler = remember_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  std::vector<pid_t> pids;
  pid_t group = 0;
  for (int rank = 0; rank < workers; ++rank) {
    std::vector<std::string> env_s = worker_env(rank, workers, port);
    std::vector<char*> envp = pointers(env_s);
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    IAI_CHECK(pid >= 0, "cannot start worker ", rank, ": ",
              std::strerror(errno));
    if (pid == 0) {
      ::setpgid(0, group);
      signal(SIGINT, SIG_DFL);
      signal(SIGTERM, SIG_DFL);
      ::execve("/proc/self/exe", argv.data(), envp.data());
      std::fprintf(stderr, "iai: error: cannot start worker %d: %s\n", rank,
                   std::strerror(errno));
      ::_exit(127);
    }
    ::setpgid(pid, group);  // both sides, whichever runs first
    if (group == 0) group = pid;
    pids.push_back(pid);
  }

  std::vector<int> codes(workers, 0);
  int first_failure = -1, running = workers;
  bool forwarded = false;  // a SIGINT/SIGTERM passed on: all stop together
  while (running > 0) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno != EINTR) break;
      if (pending_signal != 0) {
        ::kill(-group, pending_signal);
        pending_signal = 0;
        forwarded = true;
      }
      continue;
    }
    int rank = -1;
    for (int r = 0; r < workers; ++r) {
      if (pids[r] == pid) rank = r;
    }
    if (rank < 0) continue;
    --running;
    codes[rank] =
        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (codes[rank] == 0 || first_failure >= 0) continue;
    first_failure = rank;
    // Interrupted workers stop at the same step by themselves (rank 0
    // writes its checkpoint): let them.
    if (forwarded) continue;
    // A worker failed on its own: its message says why (a signal leaves
    // none, so it is named here); the others are stopped at once rather
    // than left to time out.
    if (WIFSIGNALED(status)) {
      std::fprintf(stderr,
                   "iai: error: worker rank %d (pid %d) was killed by signal "
                   "%d (%s); stopped the other %d worker%s (a run's last "
                   "checkpoint is intact; continue it with --resume)\n",
                   rank, (int)pid, WTERMSIG(status),
                   strsignal(WTERMSIG(status)), workers - 1,
                   workers == 2 ? "" : "s");
    }
    ::kill(-group, SIGKILL);
  }
  const int result = first_failure < 0 ? 0
                     : forwarded       ? codes[0]
                                       : codes[first_failure];
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  return result;
}

}  // namespace iai::parallel
