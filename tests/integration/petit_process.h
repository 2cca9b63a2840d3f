// What the end-to-end tests share: running the real `petit` binary with its output captured, in a
// scratch directory of the test's own. Header-only; every test binary includes it once.
#ifndef PETIT_TESTS_INTEGRATION_PETIT_PROCESS_H_
#define PETIT_TESTS_INTEGRATION_PETIT_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern char** environ;

namespace petit::testing {

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline std::string ShellQuote(const std::string& s) {
  std::string quoted = "'";
  for (char c : s) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted.push_back(c);
    }
  }
  return quoted + "'";
}

// Runs `petit <args>` (`args` already shell-quoted where needed) with stdin closed; its output
// goes through files in `scratch`, so a test never blocks on a full pipe.
inline Outcome RunPetit(const std::string& petit, const std::string& args,
                        const std::filesystem::path& scratch) {
  const std::filesystem::path out = scratch / "stdout.txt";
  const std::filesystem::path err = scratch / "stderr.txt";
  const std::string command = ShellQuote(petit) + " " + args + " >" + ShellQuote(out.string()) +
                              " 2>" + ShellQuote(err.string()) + " </dev/null";
  const int status = std::system(command.c_str());
  Outcome outcome;
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  outcome.out = ReadFile(out);
  outcome.err = ReadFile(err);
  return outcome;
}

// `petit <args>` in the background, its stdout and stderr in files <name>.out and <name>.err of
// `dir` (so it never blocks on a full pipe); killed with SIGKILL if still running at destruction.
class BackgroundPetit {
 public:
  BackgroundPetit(const std::string& petit, const std::vector<std::string>& args,
                  const std::filesystem::path& dir, const std::string& name = "petit")
      : out_(dir / (name + ".out")), err_(dir / (name + ".err")) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<std::string> words = {petit};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, petit.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      ADD_FAILURE() << "posix_spawn: " << std::strerror(rc);
      pid_ = -1;
    }
  }
  ~BackgroundPetit() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  BackgroundPetit(const BackgroundPetit&) = delete;
  BackgroundPetit& operator=(const BackgroundPetit&) = delete;

  pid_t pid() const { return pid_; }

  void Signal(int signal_number) {
    if (pid_ > 0) kill(pid_, signal_number);
  }

  // Its exit code once it has exited (-1 when a signal ended it).
  int Wait() {
    int status = 0;
    if (pid_ <= 0 || waitpid(pid_, &status, 0) != pid_) return -1;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string out() const { return ReadFile(out_); }
  std::string err() const { return ReadFile(err_); }
  const std::filesystem::path& err_path() const { return err_; }

 private:
  std::filesystem::path out_;
  std::filesystem::path err_;
  pid_t pid_ = -1;
};

}  // namespace petit::testing

#endif  // PETIT_TESTS_INTEGRATION_PETIT_PROCESS_H_
