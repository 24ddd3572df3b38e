#pragma once
// The iai CLI run as a child process, for the tests that must signal, kill,
// stop or time it from outside (cli_kill_test, parallel_test): fork + execve
// of IAI_CLI_BINARY with this process's environment (less the launch
// variables of a job, test_support.h) plus `extra_env`, its output into a
// log file.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "test_support.h"

#include <chrono>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace iai::testing {

class CliProcess {
 public:
  enum class Log { kTruncate, kAppend };

  CliProcess(const std::vector<std::string>& args,
             const std::vector<std::string>& extra_env, const std::string& log,
             Log mode = Log::kTruncate) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      // A job's launch variables stay out (test_support.h): a child joins
      // a job only through extra_env.
      if (!is_launch_variable(*e)) env.emplace_back(*e);
    }
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    std::vector<std::string> argv_s = {IAI_CLI_BINARY};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv, envp;
    for (auto& a : argv_s) argv.push_back(a.data());
    for (auto& e : env) envp.push_back(e.data());
    argv.push_back(nullptr);
    envp.push_back(nullptr);
    const int flags =
        O_WRONLY | O_CREAT | (mode == Log::kAppend ? O_APPEND : O_TRUNC);
    const int fd = ::open(log.c_str(), flags, 0644);
    pid_ = ::fork();
    if (pid_ == 0) {  // only async-signal-safe calls until exec
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(fd);
  }
  /// Killed (and continued, should it be stopped) and reaped.
  ~CliProcess() {
    if (done_) return;
    ::kill(pid_, SIGKILL);
    ::kill(pid_, SIGCONT);
    while (!done_) {
      int status = 0;
      if (::waitpid(pid_, &status, 0) == pid_) finish(status);
    }
  }
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) { ::kill(pid_, sig); }

  /// Waits up to `seconds`, or until `until()` holds; true once exited.
  template <typename F>
  bool wait_for(double seconds, F until) {
    using Clock = std::chrono::steady_clock;
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < end) {
      if (poll()) return true;
      if (until()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return poll();
  }
  bool wait_for(double seconds) {
    return wait_for(seconds, [] { return false; });
  }

  /// The exit code, or -signal when a signal ended it (a test failure, and
  /// -1000, when it has not ended within 10 minutes).
  int code() {
    if (!wait_for(600)) {
      ADD_FAILURE() << "iai (pid " << pid_ << ") still running after 600 s";
      return -1000;
    }
    return code_;
  }

 private:
  bool poll() {
    int status = 0;
    if (!done_ && ::waitpid(pid_, &status, WNOHANG) == pid_) finish(status);
    return done_;
  }
  void finish(int status) {
    done_ = true;
    code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

  pid_t pid_ = -1;
  bool done_ = false;
  int code_ = 0;
};

}  // namespace iai::testing
