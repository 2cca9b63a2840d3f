// The command plugin's normal behaviour, through FakeHost with the plugin's code linked in.
// Timeouts, cancellation and signals are in command_termination_test.cc.
#include <algorithm>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "command_test_support.h"

namespace petit::command_test {
namespace {

using testing::RunResult;

TEST_F(CommandTest, DeclaresACancellableTypeWithASchema) {
  const petit_task_type* type = host_.FindTaskType("command");
  ASSERT_NE(type, nullptr);
  EXPECT_EQ(type->flags, PETIT_TASK_CANCELLABLE);
  EXPECT_NE(type->cancel, nullptr);
  ASSERT_NE(type->params_schema_json, nullptr);
  EXPECT_TRUE(sdk::Json::Parse(type->params_schema_json).ok());
}

TEST_F(CommandTest, PassesArgumentsIntactWithoutAShell) {
  const RunResult result = Run(R"({"command": "printf", "args": ["[%s]", "a b", "\"q\"", "it's",
                                    "", "$HOME", "*", "x\\y", "tab\there"]})");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.stdout_data, "[a b][\"q\"][it's][][$HOME][*][x\\y][tab\there]");
}

TEST_F(CommandTest, RunsAProgramByAbsolutePath) {
  const RunResult result = Run(R"({"command": "/bin/echo", "args": ["hi"]})");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.stdout_data, "hi\n");
}

TEST_F(CommandTest, RunsAShellScriptWithBothStreams) {
  const RunResult result = Run(R"({"shell": "echo one; echo two >&2; echo three"})");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.stdout_data, "one\nthree\n");
  EXPECT_EQ(result.stderr_data, "two\n");
}

TEST_F(CommandTest, SuccessRecordsExitCodeZero) {
  const RunResult result = Run(R"({"command": "true"})");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.outputs.at("exit_code"), "0");
  EXPECT_TRUE(result.error.empty());
}

TEST_F(CommandTest, NonZeroExitFailsAndNamesTheCode) {
  const RunResult result = Run(R"({"shell": "echo partial; exit 3"})");
  EXPECT_EQ(result.status, PETIT_ERROR);
  EXPECT_EQ(result.error, "exited with code 3");
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.outputs.at("exit_code"), "3");
  EXPECT_EQ(result.stdout_data, "partial\n");
}

TEST_F(CommandTest, InheritsTheHostEnvironmentAndAppliesOverrides) {
  ASSERT_EQ(setenv("PETIT_TEST_INHERITED", "inherited", 1), 0);
  ASSERT_EQ(setenv("PETIT_TEST_REPLACED", "old", 1), 0);
  const RunResult result = Run(R"({
    "shell": "echo \"$PETIT_TEST_INHERITED|$PETIT_TEST_REPLACED|$PETIT_TEST_ADDED|$PETIT_TEST_NUMBER\"; env | grep -c '^PETIT_TEST_REPLACED='",
    "environment": {"PETIT_TEST_REPLACED": "new", "PETIT_TEST_ADDED": "a b=c", "PETIT_TEST_NUMBER": 42}
  })");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.stdout_data, "inherited|new|a b=c|42\n1\n");
  unsetenv("PETIT_TEST_INHERITED");
  unsetenv("PETIT_TEST_REPLACED");
}

TEST_F(CommandTest, OverridesReplaceInheritedVariablesWhateverTheirNames) {
  // "X" < "X.Y" as names, but "X.Y=" < "X=" as the strings the child's environment holds.
  const char* names[] = {"PETIT_T", "PETIT_T.Y", "PETIT_T-Z", "PETIT_T_W"};
  for (const char* name : names) ASSERT_EQ(setenv(name, "old", 1), 0);
  const RunResult result = Run(R"({"command": "/usr/bin/env", "environment": {
    "PETIT_T": "1", "PETIT_T.Y": "2", "PETIT_T-Z": "3", "PETIT_T_W": "4"}})");
  for (const char* name : names) unsetenv(name);
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  std::multiset<std::string> ours;
  std::istringstream lines(result.stdout_data);
  for (std::string line; std::getline(lines, line);) {
    const std::string name = line.substr(0, line.find('='));
    if (std::find(std::begin(names), std::end(names), name) != std::end(names)) ours.insert(line);
  }
  EXPECT_EQ(ours,
            (std::multiset<std::string>{"PETIT_T=1", "PETIT_T.Y=2", "PETIT_T-Z=3", "PETIT_T_W=4"}));
}

TEST_F(CommandTest, EnvClearStartsFromAnEmptyEnvironment) {
  const RunResult result =
      Run(R"({"command": "/usr/bin/env", "env_clear": true, "environment": {"ONLY": "this"}})");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.stdout_data, "ONLY=this\n");
}

TEST_F(CommandTest, EnvClearWithoutPathStillFindsProgramsInTheDefaultPath) {
  const RunResult result = Run(R"({"command": "env", "env_clear": true})");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.stdout_data, "");
}

TEST_F(CommandTest, AnOverriddenPathDecidesWhereTheProgramIsFound) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::filesystem::path script = dir.path() / "petit-only-here";
  std::ofstream(script) << "#!/bin/sh\necho found in \"$PATH\"\n";
  ASSERT_EQ(chmod(script.c_str(), 0755), 0);
  const RunResult result = Run(R"({"command": "petit-only-here", "environment": {"PATH": )" +
                               JsonString(dir.path().string()) + "}}");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.stdout_data, "found in " + dir.path().string() + "\n");
}

TEST_F(CommandTest, RunsInTheWorkingDirectory) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const RunResult result =
      Run(R"({"command": "pwd", "working_dir": )" + JsonString(dir.path().string()) + "}");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.stdout_data, dir.path().string() + "\n");
}

TEST_F(CommandTest, MissingWorkingDirectoryIsAClearError) {
  const RunResult result =
      Run(R"({"command": "true", "working_dir": "/nonexistent/petit-working-dir"})");
  EXPECT_EQ(result.status, PETIT_ERROR);
  EXPECT_EQ(result.error, "working directory does not exist: /nonexistent/petit-working-dir");
}

TEST_F(CommandTest, WorkingDirectoryThatIsAFileIsAClearError) {
  const RunResult result = Run(R"({"command": "true", "working_dir": "/bin/sh"})");
  EXPECT_EQ(result.status, PETIT_ERROR);
  EXPECT_EQ(result.error, "working directory is not a directory: /bin/sh");
}

TEST_F(CommandTest, MissingProgramIsCommandNotFound) {
  const RunResult result = Run(R"({"command": "petit-no-such-program", "args": ["x"]})");
  EXPECT_EQ(result.status, PETIT_ERROR);
  EXPECT_EQ(result.error, "command not found: petit-no-such-program");
  EXPECT_EQ(result.exit_code, std::nullopt);
}

TEST_F(CommandTest, MissingProgramPathIsCommandNotFound) {
  const RunResult result = Run(R"({"command": "/nonexistent/petit-program"})");
  EXPECT_EQ(result.status, PETIT_ERROR);
  EXPECT_EQ(result.error, "command not found: /nonexistent/petit-program");
}

TEST_F(CommandTest, NonExecutableFileIsPermissionDenied) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::filesystem::path file = dir.path() / "not-executable";
  std::ofstream(file) << "#!/bin/sh\n";
  const RunResult result = Run(R"({"command": )" + JsonString(file.string()) + "}");
  EXPECT_EQ(result.status, PETIT_ERROR);
  EXPECT_EQ(result.error, "permission denied: " + file.string());
}

TEST_F(CommandTest, StdinIsDevNull) {
  const RunResult result = Run(R"({"command": "readlink", "args": ["/proc/self/fd/0"]})");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.stdout_data, "/dev/null\n");
}

TEST_F(CommandTest, ReadingStdinEndsAtOnce) {
  const RunResult result = Run(R"({"shell": "cat; echo done"})");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.stdout_data, "done\n");
}

std::string Seq(int first, int last) {
  std::string out;
  for (int i = first; i <= last; ++i) out += std::to_string(i) + "\n";
  return out;
}

TEST_F(CommandTest, TenMegabytesOnBothStreamsAtOnceArriveWhole) {
  const RunResult result = Run(R"({"shell": "seq 1 1400000 & seq 2 1400001 >&2; wait"})");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  const std::string expected_out = Seq(1, 1400000);
  const std::string expected_err = Seq(2, 1400001);
  ASSERT_GT(expected_out.size(), 10u * 1000 * 1000);
  EXPECT_EQ(result.stdout_data.size(), expected_out.size());
  EXPECT_EQ(result.stderr_data.size(), expected_err.size());
  EXPECT_TRUE(result.stdout_data == expected_out);
  EXPECT_TRUE(result.stderr_data == expected_err);
}

// The file descriptors (other than 0-2) that every child inherits from this process anyway.
std::set<std::string> InheritableFds() {
  std::set<std::string> fds;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    const std::string name = entry.path().filename().string();
    const int fd = std::stoi(name);
    const int flags = fcntl(fd, F_GETFD);
    if (fd > 2 && flags >= 0 && !(flags & FD_CLOEXEC)) fds.insert(name);
  }
  return fds;
}

TEST_F(CommandTest, ConcurrentCommandsNeverInheritEachOthersPipes) {
  const std::set<std::string> inherited = InheritableFds();
  constexpr int kThreads = 6;
  constexpr int kRunsPerThread = 15;
  std::vector<std::string> listings(kThreads * kRunsPerThread);
  std::vector<int> statuses(listings.size(), -1);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRunsPerThread; ++i) {
        const RunResult result =
            host_.Run("command", R"({"command": "ls", "args": ["/proc/self/fd"]})");
        statuses[t * kRunsPerThread + i] = result.status;
        listings[t * kRunsPerThread + i] = result.stdout_data;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (size_t i = 0; i < listings.size(); ++i) {
    ASSERT_EQ(statuses[i], PETIT_OK);
    std::set<std::string> fds;
    std::istringstream lines(listings[i]);
    for (std::string line; std::getline(lines, line);) {
      if (line != "0" && line != "1" && line != "2" && inherited.count(line) == 0) fds.insert(line);
    }
    // What remains is the descriptor ls opened on /proc/self/fd itself.
    EXPECT_EQ(fds.size(), 1u) << "child saw descriptors:\n" << listings[i];
  }
}

TEST_F(CommandTest, RejectsParamsThatNameNoProgram) {
  const RunResult result = Run(R"({"args": ["x"]})");
  EXPECT_EQ(result.status, PETIT_INVALID_PARAMS);
  EXPECT_EQ(result.error, "missing required parameter 'command' (or 'shell')");
}

TEST_F(CommandTest, RejectsInconsistentOrMalformedParams) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"command": "a", "shell": "b"})",
       "parameters 'command' and 'shell' are mutually exclusive"},
      {R"({"shell": "b", "args": []})",
       "parameter 'args' cannot be combined with 'shell' (write the arguments in the script)"},
      {R"({"command": ""})", "parameter 'command' must not be empty"},
      {R"({"command": "a", "args": "b"})",
       "parameter 'args' must be an array of strings, not a string"},
      {R"({"command": "a", "args": ["\u0000"]})", "parameter 'args[0]' contains a NUL byte"},
      {R"({"command": "a", "cmd": "b"})",
       "unknown parameter 'cmd' (expected one of: command, args, shell, environment, env_clear, "
       "working_dir, timeout_secs, kill_grace_ms)"},
      {R"({"command": "a", "environment": {"A=B": "c"}})",
       "environment variable name 'A=B' is empty or contains '='"},
      {R"({"command": "a", "environment": {"A": [1]}})",
       "parameter 'environment.A' must be a string, number or boolean, not an array"},
      {R"({"command": "a", "environment": []})",
       "parameter 'environment' must be an object, not an array"},
      {R"({"command": "a", "timeout_secs": 0})",
       "parameter 'timeout_secs' must be > 0 and at most 1e9, not 0"},
      {R"({"command": "a", "timeout_secs": "5"})",
       "parameter 'timeout_secs' must be a number, not a string"},
      {R"({"command": "a", "kill_grace_ms": -1})", "parameter 'kill_grace_ms' must be >= 0"},
      {R"({"command": "a", "working_dir": ""})", "parameter 'working_dir' must not be empty"},
      {R"({"command": "a", "env_clear": "yes"})",
       "parameter 'env_clear' must be a boolean, not a string"},
  };
  for (const auto& [params, error] : cases) {
    const RunResult result = Run(params);
    EXPECT_EQ(result.status, PETIT_INVALID_PARAMS) << params;
    EXPECT_EQ(result.error, error) << params;
  }
}

}  // namespace
}  // namespace petit::command_test
