// What the end-to-end tests share: running the real `petit` binary with its output captured, in a
// scratch directory of the test's own. Header-only; every test binary includes it once.
#ifndef PETIT_TESTS_INTEGRATION_PETIT_PROCESS_H_
#define PETIT_TESTS_INTEGRATION_PETIT_PROCESS_H_

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

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

}  // namespace petit::testing

#endif  // PETIT_TESTS_INTEGRATION_PETIT_PROCESS_H_
