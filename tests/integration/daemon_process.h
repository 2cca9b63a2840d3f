// A running `petit run` for end-to-end tests, its stderr (the daemon's log) read through a pipe,
// so a test waits for a log line instead of sleeping. Header-only; GoogleTest reports failures.
#ifndef PETIT_TESTS_INTEGRATION_DAEMON_PROCESS_H_
#define PETIT_TESTS_INTEGRATION_DAEMON_PROCESS_H_

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern char** environ;

namespace petit::testing {

class DaemonProcess {
 public:
  // Generous, for a loaded CI machine; a passing test never waits for it.
  static constexpr auto kPatience = std::chrono::seconds(60);

  // Starts `petit <args>` with stdin and stdout on /dev/null; `extra_env`: NAME=value entries
  // added to the test's environment.
  DaemonProcess(const std::string& petit, const std::vector<std::string>& args,
                const std::vector<std::string>& extra_env = {}) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2: " << std::strerror(errno);
      return;
    }
    err_fd_ = fds[0];
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    std::vector<std::string> argv_strings = {petit};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : argv_strings) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_strings = extra_env;
    for (char** entry = environ; *entry != nullptr; ++entry) env_strings.emplace_back(*entry);
    std::vector<char*> envp;
    for (std::string& entry : env_strings) envp.push_back(entry.data());
    envp.push_back(nullptr);
    const int rc = posix_spawn(&pid_, petit.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
      ADD_FAILURE() << "posix_spawn " << petit << ": " << std::strerror(rc);
      pid_ = -1;
    }
  }

  ~DaemonProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (err_fd_ >= 0) close(err_fd_);
  }

  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Reads stderr until it contains `text` `count` times; false at end of file or after kPatience.
  bool WaitFor(const std::string& text, size_t count = 1) {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (Count(text) < count) {
      if (!ReadSome(deadline)) return false;
    }
    return true;
  }

  // Reads stderr until one line contains both `first` and, after it, `then`.
  bool WaitForLine(const std::string& first, const std::string& then) {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    for (;;) {
      size_t start = 0;
      for (size_t end = err_.find('\n'); end != std::string::npos;
           start = end + 1, end = err_.find('\n', start)) {
        const std::string line = err_.substr(start, end - start);
        const size_t at = line.find(first);
        if (at != std::string::npos && line.find(then, at + first.size()) != std::string::npos) {
          return true;
        }
      }
      if (!ReadSome(deadline)) return false;
    }
  }

  // How many times `text` occurs in what was read of stderr so far.
  size_t Count(const std::string& text) const {
    size_t count = 0;
    for (size_t at = err_.find(text); at != std::string::npos; at = err_.find(text, at + 1)) {
      ++count;
    }
    return count;
  }

  // Reads stderr to its end and returns the exit status (-1: killed by a signal, or not done
  // within kPatience).
  int WaitForExit() {
    if (pid_ <= 0) return -1;
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (ReadSome(deadline)) {
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ADD_FAILURE() << "petit did not exit:\n" << err_;
      return -1;
    }
    int status = 0;
    if (waitpid(pid_, &status, 0) != pid_) return -1;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // SIGTERM, then as WaitForExit.
  int Terminate() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    return WaitForExit();
  }

  // Sends `signal_number` without waiting for anything.
  void Signal(int signal_number) {
    if (pid_ > 0) kill(pid_, signal_number);
  }

  // SIGKILL, as a crash would, and reaps it.
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  pid_t pid() const { return pid_; }

  const std::string& err() const { return err_; }

 private:
  // False at end of file, on error, or at the deadline.
  bool ReadSome(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd fd{err_fd_, POLLIN, 0};
    if (poll(&fd, 1, static_cast<int>(left.count())) <= 0) return false;
    char buffer[4096];
    const ssize_t n = read(err_fd_, buffer, sizeof buffer);
    if (n <= 0) return false;
    err_.append(buffer, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int err_fd_ = -1;
  std::string err_;
};

// True when process `pid` (not necessarily this test's child) exits within `patience`, or is gone
// already: its pidfd becomes readable then, so nothing sleeps.
inline bool WaitForProcessExit(pid_t pid,
                               std::chrono::milliseconds patience = DaemonProcess::kPatience) {
  const int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;
  pollfd pfd{fd, POLLIN, 0};
  const int ready = poll(&pfd, 1, static_cast<int>(patience.count()));
  close(fd);
  return ready == 1;
}

}  // namespace petit::testing

#endif  // PETIT_TESTS_INTEGRATION_DAEMON_PROCESS_H_
