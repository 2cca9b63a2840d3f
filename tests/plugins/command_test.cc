// The command plugin's normal behaviour, through FakeHost with the plugin's code linked in.
// Timeouts, cancellation and signals are in command_termination_test.cc.
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <algorithm>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "command_test_support.h"
#include "realtime_limit.h"

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

// The host notes the child so that, should it die first, its next start ends the child's group.
TEST_F(CommandTest, TellsTheHostTheChildItsProcessGroupAndStartTime) {
  // The shell reports its pid and group, and its start time from /proc while it still runs.
  const RunResult result = Run(
      R"json({"shell": "echo $$ $(ps -o pgid= -p $$) $(cut -d')' -f2 /proc/$$/stat | cut -d' ' -f21)"})json");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  std::istringstream reported(result.stdout_data);
  int64_t pid = 0;
  int64_t group = 0;
  uint64_t start_ticks = 0;
  ASSERT_TRUE(reported >> pid >> group >> start_ticks) << result.stdout_data;
  ASSERT_EQ(result.processes.size(), 1u);
  EXPECT_EQ(result.processes[0].pid, pid);
  EXPECT_EQ(result.processes[0].process_group, group);
  EXPECT_EQ(group, pid);
  EXPECT_EQ(result.processes[0].start_ticks, start_ticks);
}

// The start time comes from the clock read around the spawn where that pins it down, else from
// /proc: either way it is what /proc says, whichever side of a clock tick the spawn fell on.
TEST_F(CommandTest, TheReportedStartTimeIsTheOneInProcForEverySpawn) {
  for (int i = 0; i < 20; ++i) {
    const RunResult result =
        Run(R"json({"shell": "cut -d')' -f2 /proc/$$/stat | cut -d' ' -f21"})json");
    ASSERT_EQ(result.status, PETIT_OK) << result.error;
    ASSERT_EQ(result.processes.size(), 1u);
    EXPECT_EQ(std::to_string(result.processes[0].start_ticks) + "\n", result.stdout_data);
  }
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

// The lines of `env` output other than the variables petit sets for every command.
std::string WithoutPetitVariables(const std::string& env_output) {
  std::string kept;
  std::istringstream lines(env_output);
  for (std::string line; std::getline(lines, line);) {
    const std::string name = line.substr(0, line.find('='));
    if (name == "PETIT_OUTPUT" || name == "PETIT_RUN_ID" || name == "PETIT_JOB_ID" ||
        name == "PETIT_TASK_ID" || name == "PETIT_ATTEMPT") {
      continue;
    }
    kept += line + "\n";
  }
  return kept;
}

TEST_F(CommandTest, EnvClearStartsFromAnEmptyEnvironment) {
  const RunResult result =
      Run(R"({"command": "/usr/bin/env", "env_clear": true, "environment": {"ONLY": "this"}})");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(WithoutPetitVariables(result.stdout_data), "ONLY=this\n");
}

TEST_F(CommandTest, EnvClearWithoutPathStillFindsProgramsInTheDefaultPath) {
  const RunResult result = Run(R"({"command": "env", "env_clear": true})");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(WithoutPetitVariables(result.stdout_data), "");
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

// A program found in PATH is remembered for a moment (command_plugin.cc); one removed meanwhile
// is still reported as not found, and one that lost its execute bit as denied.
TEST_F(CommandTest, AProgramFoundInPathThenRemovedOrMadeNonExecutableIsReportedAsSuch) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::filesystem::path program = dir.path() / "petit-found-once";
  std::ofstream(program) << "#!/bin/sh\necho ran\n";
  ASSERT_EQ(chmod(program.c_str(), 0755), 0);
  const std::string params = R"({"command": "petit-found-once", "environment": {"PATH": )" +
                             JsonString(dir.path().string()) + "}}";
  const RunResult ran = Run(params);
  ASSERT_EQ(ran.status, PETIT_OK) << ran.error;
  EXPECT_EQ(ran.stdout_data, "ran\n");

  ASSERT_EQ(chmod(program.c_str(), 0644), 0);
  const RunResult denied = Run(params);
  EXPECT_EQ(denied.status, PETIT_ERROR);
  EXPECT_EQ(denied.error, "permission denied: petit-found-once");

  ASSERT_TRUE(std::filesystem::remove(program));
  const RunResult missing = Run(params);
  EXPECT_EQ(missing.status, PETIT_ERROR);
  EXPECT_EQ(missing.error, "command not found: petit-found-once");
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

// The host's scheduler thread may be real-time by RLIMIT_RTPRIO (the packaged unit's
// LimitRTPRIO=1); a task that could make itself real-time too would hold a processor from it.
TEST_F(CommandTest, TheTaskMayNotMakeItselfRealTime) {
  RunResult result;
  {
    const testing_support::ScopedRealtimeLimit limit;
    if (!limit.granted()) {
      GTEST_SKIP() << "cannot give this process an RLIMIT_RTPRIO of 1 (its hard limit is "
                   << limit.previous_hard_limit() << ")";
    }
    result = Run(R"({"command": "grep", "args": ["^Max realtime priority", "/proc/self/limits"]})");
  }
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_THAT(result.stdout_data, ::testing::MatchesRegex("Max realtime priority +0 +0 *\n"));
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
      {R"({"command": "a", "environment": {"PETIT_OUTPUT": "/tmp/x"}})",
       "environment variable 'PETIT_OUTPUT' is set by petit for every command and cannot be "
       "overridden"},
      {R"({"command": "a", "environment": {"PETIT_ATTEMPT": 1}})",
       "environment variable 'PETIT_ATTEMPT' is set by petit for every command and cannot be "
       "overridden"},
  };
  for (const auto& [params, error] : cases) {
    const RunResult result = Run(params);
    EXPECT_EQ(result.status, PETIT_INVALID_PARAMS) << params;
    EXPECT_EQ(result.error, error) << params;
  }
}

// Outputs: $PETIT_OUTPUT, the PETIT_* variables, and the captured streams.

class CommandOutputTest : public CommandTest {
 protected:
  RunResult RunShell(std::string_view script, testing::AttemptOptions options = {}) {
    return Run(R"({"shell": )" + JsonString(script) + "}", std::move(options));
  }
};

std::vector<std::string> Warnings(const RunResult& result) {
  std::vector<std::string> warnings;
  for (const testing::LogRecord& log : result.logs) {
    if (log.level == PETIT_LOG_WARN) warnings.push_back(log.message);
  }
  return warnings;
}

// The outputs other than the three the plugin always sets.
std::map<std::string, std::string> FileOutputs(const RunResult& result) {
  std::map<std::string, std::string> outputs(result.outputs.begin(), result.outputs.end());
  outputs.erase("exit_code");
  outputs.erase("stdout");
  outputs.erase("stderr");
  return outputs;
}

// Points TMPDIR at a fresh directory for the scope, so a test sees every file the plugin creates.
class ScopedTmpdir {
 public:
  ScopedTmpdir() {
    if (const char* old = getenv("TMPDIR"); old != nullptr) old_ = old;
    setenv("TMPDIR", dir_.path().c_str(), 1);
  }
  ~ScopedTmpdir() {
    if (old_) {
      setenv("TMPDIR", old_->c_str(), 1);
    } else {
      unsetenv("TMPDIR");
    }
  }
  ScopedTmpdir(const ScopedTmpdir&) = delete;
  ScopedTmpdir& operator=(const ScopedTmpdir&) = delete;

  const std::filesystem::path& path() const { return dir_.path(); }
  // Directories (the plugin's own) may remain, but nothing in them.
  bool HoldsNoFiles() const {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.path())) {
      if (!entry.is_directory()) return false;
    }
    return true;
  }

 private:
  TempDir dir_;
  std::optional<std::string> old_;
};

TEST_F(CommandOutputTest, LinesWrittenToPetitOutputBecomeOutputs) {
  const RunResult result = RunShell(
      "echo rows=42 >> \"$PETIT_OUTPUT\"; "
      "echo 'path=/data/a=b.csv' >> \"$PETIT_OUTPUT\"; "
      "echo 'empty=' >> \"$PETIT_OUTPUT\"; "
      "echo 'spaced= value with spaces ' >> \"$PETIT_OUTPUT\"; "
      "printf 'last=no newline' >> \"$PETIT_OUTPUT\"");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(FileOutputs(result),
            (std::map<std::string, std::string>{{"rows", "42"},
                                                {"path", "/data/a=b.csv"},
                                                {"empty", ""},
                                                {"spaced", " value with spaces "},
                                                {"last", "no newline"}}));
  EXPECT_THAT(Warnings(result), ::testing::IsEmpty());
}

TEST_F(CommandOutputTest, ALaterValueForAKeyReplacesTheEarlierOne) {
  const RunResult result = RunShell("printf 'k=1\\nk=2\\n\\n\\nk=3\\n' > \"$PETIT_OUTPUT\"");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(FileOutputs(result), (std::map<std::string, std::string>{{"k", "3"}}));
}

TEST_F(CommandOutputTest, HeredocValuesSpanSeveralLines) {
  const RunResult result = RunShell(
      "printf 'report<<EOF\\nline 1\\nline=2\\n\\nk<<X\\nEOF\\nafter=1\\nnone<<END\\nEND\\n"
      "blank<<Z\\n\\n\\nZ\\n' > \"$PETIT_OUTPUT\"");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(
      FileOutputs(result),
      (std::map<std::string, std::string>{
          {"report", "line 1\nline=2\n\nk<<X"}, {"after", "1"}, {"none", ""}, {"blank", "\n"}}));
  EXPECT_THAT(Warnings(result), ::testing::IsEmpty());
}

TEST_F(CommandOutputTest, AHeredocWithoutItsClosingLineIsSkippedWithAWarning) {
  const RunResult result =
      RunShell("printf 'before=1\\nnotes<<EOF\\nsome text\\nEO\\n' > \"$PETIT_OUTPUT\"");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(FileOutputs(result), (std::map<std::string, std::string>{{"before", "1"}}));
  EXPECT_THAT(Warnings(result),
              ::testing::ElementsAre(
                  "$PETIT_OUTPUT: line 2: no line 'EOF' ends the value of 'notes'; skipped"));
}

TEST_F(CommandOutputTest, InvalidLinesAndKeysAreSkippedWithAWarningEach) {
  const RunResult result = RunShell(
      "printf 'a.b=1\\n=2\\nrows = 3\\nexit_code=9\\nstdout=x\\n"
      "no separator\\nok=1\\ntab\\tkey=4\\nk<<\\n' > "
      "\"$PETIT_OUTPUT\"");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(FileOutputs(result), (std::map<std::string, std::string>{{"ok", "1"}}));
  EXPECT_EQ(result.outputs.at("exit_code"), "0");
  EXPECT_EQ(result.outputs.at("stdout"), "");
  EXPECT_THAT(
      Warnings(result),
      ::testing::ElementsAre(
          "$PETIT_OUTPUT: line 1: output key 'a.b' contains '.' (keys are namespaced as "
          "<task>.<key>); skipped",
          "$PETIT_OUTPUT: line 2: empty output key; skipped",
          "$PETIT_OUTPUT: line 3: output key 'rows ' contains a space; skipped",
          "$PETIT_OUTPUT: line 4: output key 'exit_code' is set by the plugin itself; skipped",
          "$PETIT_OUTPUT: line 5: output key 'stdout' is set by the plugin itself; skipped",
          "$PETIT_OUTPUT: line 6: expected key=value or key<<DELIMITER, not 'no separator'; "
          "skipped",
          "$PETIT_OUTPUT: line 8: output key 'tab\\x09key' contains a control character; skipped",
          "$PETIT_OUTPUT: line 9: no delimiter after 'k<<'; skipped"));
}

TEST_F(CommandOutputTest, ManyProblemsAreSummarisedAfterTheFirstTen) {
  const RunResult result = RunShell(
      "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do echo bad.$i=x; done "
      ">> \"$PETIT_OUTPUT\"");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  const std::vector<std::string> warnings = Warnings(result);
  ASSERT_EQ(warnings.size(), 11u);
  EXPECT_EQ(warnings[9],
            "$PETIT_OUTPUT: line 10: output key 'bad.10' contains '.' (keys are namespaced as "
            "<task>.<key>); skipped");
  EXPECT_EQ(warnings[10], "$PETIT_OUTPUT: 5 more problems not shown");
}

TEST_F(CommandOutputTest, ValuesOfMoreThanOneMebibyteAreSkipped) {
  const RunResult result = RunShell(
      "x=$(head -c 1048576 /dev/zero | tr '\\0' x); "
      "echo \"fits=$x\" >> \"$PETIT_OUTPUT\"; "
      "echo \"big=${x}y\" >> \"$PETIT_OUTPUT\"");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  const auto outputs = FileOutputs(result);
  ASSERT_EQ(outputs.count("fits"), 1u);
  EXPECT_EQ(outputs.at("fits"), std::string(1048576, 'x'));
  EXPECT_EQ(outputs.count("big"), 0u);
  EXPECT_THAT(Warnings(result),
              ::testing::ElementsAre("$PETIT_OUTPUT: line 2: the value of 'big' is 1048577 bytes "
                                     "(at most 1048576); skipped"));
}

TEST_F(CommandOutputTest, OnlyTheCompleteLinesOfTheFirstFourMebibytesAreRead) {
  // Five lines of 1,000,004 bytes: four fit in 4 MiB, the fifth is cut and left out.
  const RunResult result = RunShell(
      "x=$(head -c 1000000 /dev/zero | tr '\\0' x); "
      "for i in 1 2 3 4 5; do echo \"v$i=$x\"; done "
      ">> \"$PETIT_OUTPUT\"");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  const auto outputs = FileOutputs(result);
  EXPECT_EQ(outputs.size(), 4u);
  for (const char* key : {"v1", "v2", "v3", "v4"}) {
    ASSERT_EQ(outputs.count(key), 1u) << key;
    EXPECT_EQ(outputs.at(key), std::string(1000000, 'x')) << key;
  }
  EXPECT_THAT(Warnings(result),
              ::testing::ElementsAre("$PETIT_OUTPUT: the file holds more than 4194304 bytes; "
                                     "only the lines complete within them were read"));
}

TEST_F(CommandOutputTest, OutputsAreReportedWhenTheCommandFailsToo) {
  const RunResult result = RunShell("echo k=v >> \"$PETIT_OUTPUT\"; echo partial; exit 2");
  EXPECT_EQ(result.status, PETIT_ERROR);
  EXPECT_EQ(result.outputs.at("k"), "v");
  EXPECT_EQ(result.outputs.at("stdout"), "partial\n");
  EXPECT_EQ(result.outputs.at("exit_code"), "2");
}

TEST_F(CommandOutputTest, TheOutputFileIsNamedInAPrivateDirectoryInTmpdir) {
  ScopedTmpdir tmpdir;
  ASSERT_FALSE(tmpdir.path().empty());
  const RunResult result = RunShell(
      "d=$(dirname \"$PETIT_OUTPUT\"); dirname \"$d\"; stat -c %a \"$d\"; "
      "test -e \"$PETIT_OUTPUT\" || echo absent; "
      "echo k=v >> \"$PETIT_OUTPUT\"; stat -c %F \"$PETIT_OUTPUT\"");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.stdout_data, tmpdir.path().string() + "\n700\nabsent\nregular file\n");
  EXPECT_EQ(result.outputs.at("k"), "v");
}

// Without TMPDIR the directory goes on tmpfs where there is one: on a journalled /tmp, making and
// removing it cost half a millisecond per process.
TEST_F(CommandOutputTest, WithoutTmpdirTheOutputFileIsOnDevShmWhenThatIsATmpfs) {
  std::optional<std::string> old;
  if (const char* value = getenv("TMPDIR"); value != nullptr) old = value;
  unsetenv("TMPDIR");
  const RunResult result = RunShell("dirname \"$(dirname \"$PETIT_OUTPUT\")\"");
  if (old) setenv("TMPDIR", old->c_str(), 1);
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  struct statfs shm {};
  const bool tmpfs = statfs("/dev/shm", &shm) == 0 && shm.f_type == TMPFS_MAGIC &&
                     access("/dev/shm", W_OK | X_OK) == 0;
  EXPECT_EQ(result.stdout_data, tmpfs ? "/dev/shm\n" : "/tmp\n");
}

TEST_F(CommandOutputTest, EveryAttemptGetsAFileOfItsOwn) {
  const RunResult first = RunShell("printf %s \"$PETIT_OUTPUT\"");
  const RunResult second = RunShell("printf %s \"$PETIT_OUTPUT\"");
  ASSERT_EQ(first.status, PETIT_OK) << first.error;
  ASSERT_EQ(second.status, PETIT_OK) << second.error;
  EXPECT_FALSE(first.stdout_data.empty());
  EXPECT_NE(first.stdout_data, second.stdout_data);
}

TEST_F(CommandOutputTest, TheOutputFileIsRemovedAfterwards) {
  const RunResult result = RunShell("echo k=v >> \"$PETIT_OUTPUT\"; printf %s \"$PETIT_OUTPUT\"");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  ASSERT_FALSE(result.stdout_data.empty());
  EXPECT_EQ(result.outputs.at("k"), "v");
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(result.stdout_data)))
      << result.stdout_data;
}

TEST_F(CommandOutputTest, TheOutputFileIsRemovedWhenTheCommandFails) {
  const RunResult result =
      RunShell("echo k=v >> \"$PETIT_OUTPUT\"; printf %s \"$PETIT_OUTPUT\"; exit 4");
  EXPECT_EQ(result.status, PETIT_ERROR);
  ASSERT_FALSE(result.stdout_data.empty());
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(result.stdout_data)))
      << result.stdout_data;
}

TEST_F(CommandOutputTest, NothingIsLeftInTmpdirWhenTheCommandCannotStart) {
  // Passes the lookup in PATH, then fails in posix_spawn.
  TempDir scripts;
  const std::filesystem::path script = scripts.path() / "bad-interpreter";
  std::ofstream(script) << "#!/nonexistent/petit-interpreter\n";
  ASSERT_EQ(chmod(script.c_str(), 0755), 0);

  ScopedTmpdir tmpdir;
  ASSERT_FALSE(tmpdir.path().empty());
  const RunResult result = Run(R"({"command": )" + JsonString(script.string()) + "}");
  EXPECT_EQ(result.status, PETIT_ERROR);
  EXPECT_EQ(result.error, "command not found: " + script.string());
  EXPECT_TRUE(tmpdir.HoldsNoFiles());
}

// Runs `script`, which must write to $PETIT_OUTPUT and then print its path on a line of its own
// before it blocks; `stop` ends the attempt. Returns whether the file existed before the stop,
// and the result.
template <typename Stop>
std::pair<bool, RunResult> RunStopped(testing::FakeHost& host, std::string_view script,
                                      testing::AttemptOptions options, std::string& path,
                                      Stop stop) {
  auto attempt = host.Start("command", R"({"shell": )" + JsonString(script) + "}", options);
  EXPECT_TRUE(attempt->created());
  RunResult result;
  std::thread worker([&] { result = attempt->Execute(); });
  bool existed = false;
  if (attempt->WaitForOutput(sdk::Stream::kStdout, "\n")) {
    const std::string out = attempt->Snapshot().stdout_data;
    path = out.substr(0, out.find('\n'));
    existed = std::filesystem::exists(path);
  }
  stop(*attempt);
  worker.join();
  return {existed, std::move(result)};
}

TEST_F(CommandOutputTest, TheOutputFileIsRemovedAfterATimeout) {
  testing::AttemptOptions options;
  options.timeout_ms = 1000;
  std::string path;
  const auto [existed, result] =
      RunStopped(host_, "echo k=v >> \"$PETIT_OUTPUT\"; echo \"$PETIT_OUTPUT\"; exec sleep 1000",
                 options, path, [](testing::Attempt&) {});
  EXPECT_EQ(result.status, PETIT_TIMED_OUT) << result.error;
  ASSERT_FALSE(path.empty());
  EXPECT_TRUE(existed);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(path))) << path;
  // An attempt that cannot succeed has its file removed unread.
  EXPECT_EQ(result.outputs.count("k"), 0u);
}

TEST_F(CommandOutputTest, TheOutputFileIsRemovedAfterACancel) {
  std::string path;
  const auto [existed, result] =
      RunStopped(host_, "echo k=v >> \"$PETIT_OUTPUT\"; echo \"$PETIT_OUTPUT\"; exec sleep 1000",
                 {}, path, [](testing::Attempt& attempt) { attempt.Cancel(); });
  EXPECT_EQ(result.status, PETIT_CANCELLED) << result.error;
  ASSERT_FALSE(path.empty());
  EXPECT_TRUE(existed);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(path))) << path;
  EXPECT_EQ(result.outputs.count("k"), 0u);
}

TEST_F(CommandOutputTest, ACommandMayRemoveTheOutputFile) {
  const RunResult result = RunShell("echo k=v >> \"$PETIT_OUTPUT\"; rm \"$PETIT_OUTPUT\"");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_THAT(FileOutputs(result), ::testing::IsEmpty());
  EXPECT_THAT(Warnings(result), ::testing::IsEmpty());
}

TEST_F(CommandOutputTest, OnlyARegularFileIsReadAndAFifoDoesNotBlock) {
  for (const char* replace : {"ln -s /etc/passwd \"$PETIT_OUTPUT\"", "mkfifo \"$PETIT_OUTPUT\"",
                              "mkdir \"$PETIT_OUTPUT\""}) {
    const RunResult result = RunShell(std::string(replace) + " && printf %s \"$PETIT_OUTPUT\"");
    ASSERT_EQ(result.status, PETIT_OK) << replace << ": " << result.error;
    EXPECT_THAT(FileOutputs(result), ::testing::IsEmpty()) << replace;
    EXPECT_THAT(Warnings(result), ::testing::ElementsAre("$PETIT_OUTPUT: " + result.stdout_data +
                                                         " is not a regular file; ignored"))
        << replace;
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(result.stdout_data)));
  }
}

TEST_F(CommandOutputTest, TheCommandLearnsWhichAttemptItIs) {
  testing::AttemptOptions options;
  options.job_id = "etl";
  options.run_id = "0190a0b0-0000-7000-8000-000000000001";
  options.task_id = "load.v2";
  options.attempt = 3;
  const RunResult result =
      RunShell("echo \"$PETIT_JOB_ID|$PETIT_RUN_ID|$PETIT_TASK_ID|$PETIT_ATTEMPT\"", options);
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.stdout_data, "etl|0190a0b0-0000-7000-8000-000000000001|load.v2|3\n");
}

TEST_F(CommandOutputTest, PetitVariablesReplaceInheritedOnes) {
  ASSERT_EQ(setenv("PETIT_OUTPUT", "/inherited/output", 1), 0);
  ASSERT_EQ(setenv("PETIT_TASK_ID", "inherited", 1), 0);
  ASSERT_EQ(setenv("PETIT_TASK_IDENTITY", "kept", 1), 0);
  // Only the names this test is about: the test process may carry other PETIT_* variables.
  const RunResult result = RunShell(
      "env | grep -E '^PETIT_(ATTEMPT|JOB_ID|OUTPUT|RUN_ID|TASK_ID|TASK_IDENTITY)=' | sort");
  unsetenv("PETIT_OUTPUT");
  unsetenv("PETIT_TASK_ID");
  unsetenv("PETIT_TASK_IDENTITY");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  std::vector<std::string> names;
  std::istringstream lines(result.stdout_data);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("PETIT_OUTPUT=", 0) == 0) {
      EXPECT_NE(line, "PETIT_OUTPUT=/inherited/output");
    }
    names.push_back(line.rfind("PETIT_OUTPUT=", 0) == 0 ? "PETIT_OUTPUT=..." : line);
  }
  EXPECT_THAT(names, ::testing::ElementsAre("PETIT_ATTEMPT=1", "PETIT_JOB_ID=job",
                                            "PETIT_OUTPUT=...", "PETIT_RUN_ID=run-1",
                                            "PETIT_TASK_ID=task", "PETIT_TASK_IDENTITY=kept"));
}

TEST_F(CommandOutputTest, StdoutAndStderrBecomeOutputs) {
  const RunResult result = RunShell("echo out; echo err >&2; printf 'more'");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.outputs.at("stdout"), "out\nmore");
  EXPECT_EQ(result.outputs.at("stderr"), "err\n");
  EXPECT_EQ(result.outputs.at("exit_code"), "0");
}

TEST_F(CommandOutputTest, StdoutAndStderrOutputsKeepTheFirst64KiB) {
  const RunResult result = RunShell(
      "head -c 100000 /dev/zero | tr '\\0' a; "
      "head -c 65536 /dev/zero | tr '\\0' b >&2");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.stdout_data.size(), 100000u);
  EXPECT_TRUE(result.outputs.at("stdout") == std::string(65536, 'a'));
  EXPECT_TRUE(result.outputs.at("stderr") == std::string(65536, 'b'));
}

TEST_F(CommandOutputTest, TheStdoutOutputIsNotCutInsideAUtf8Character) {
  // Byte 65536 is the first half of a two-byte character.
  const RunResult result =
      RunShell("head -c 65535 /dev/zero | tr '\\0' a; printf '\\303\\251 and more'");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.stdout_data.size(), 65535u + 2 + 9);
  EXPECT_TRUE(result.outputs.at("stdout") == std::string(65535, 'a'));
}

}  // namespace
}  // namespace petit::command_test
