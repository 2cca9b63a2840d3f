// End to end: plugins that misbehave under `in_process` isolation (the `misbehaves` fixture run by
// the real petit binary). A plugin's exit() is named and turned into a non-zero status; a task
// that ignores its cancel is failed after the grace, its thread abandoned and replaced, and a
// SIGTERM'd daemon still exits. Process isolation has its own tests
// (tests/host/process_isolation_test.cc).
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/api_any_port.h"
#include "integration/daemon_process.h"
#include "petit_process.h"

namespace petit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

// Bounds every wait so a broken host fails the test instead of hanging it; nothing waits for it
// to elapse.
constexpr auto kPatience = std::chrono::seconds(60);
const std::string kPluginDir = std::string(PETIT_FIXTURE_PLUGIN_DIR) + "/extra";

class PluginFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("petit-plugin-faults-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "jobs");
    Write("petit.yaml", std::string(petit::testing::kApiAnyPort) +
                            "storage: \"memory:\"\n"
                            "max_parallel_tasks: 1\n"
                            "shutdown_grace: 0\n"
                            "plugins:\n"
                            "  isolation: in_process\n"
                            "  cancel_grace_ms: 100\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / "jobs" / name) << text;
  }

  testing::Outcome Trigger(const std::string& job) {
    return testing::RunPetit(PETIT_EXE,
                             "trigger " + testing::ShellQuote((dir_ / "jobs").string()) + " " +
                                 job + " --plugin-dir " + testing::ShellQuote(kPluginDir),
                             dir_);
  }

  fs::path dir_;
};

// exit() with any status, in a task of an in-process plugin: the host names the task and its run
// and exits with 3, never with the plugin's status (0 would read as a clean stop to systemd).
TEST_F(PluginFaultsTest, AnInProcessPluginsExitIsNamedAndTheStatusIsNonZero) {
  for (const int code : {0, 5}) {
    Write("bye.yaml",
          "id: bye\ntasks:\n  - id: bye\n    type: misbehaves.exit\n    params: {code: " +
              std::to_string(code) + "}\n");
    const testing::Outcome outcome = Trigger("bye");
    EXPECT_EQ(outcome.exit_code, 3) << "exit(" << code << ")\n" << outcome.err;
    EXPECT_THAT(outcome.err,
                MatchesRegex("(.|\n)*petit: exit\\(\\) was called by a plugin, not by petit, while "
                             "running task 'bye' \\(type 'misbehaves.exit', attempt 1\\) of run "
                             "[0-9a-f-]+ of job 'bye'; exiting with status 3(.|\n)*"));
  }
}

// What a plugin writes into its error and its log reaches a terminal as visible text: no escape
// sequence moves the cursor or clears the screen, no line is forged, no invalid byte is passed on.
TEST_F(PluginFaultsTest, APluginsErrorAndLogCannotDriveTheTerminal) {
  Write(
      "hostile.yaml",
      "id: hostile\ntasks:\n  - id: t\n    type: misbehaves.ok\n    params: {hostile_error: 1}\n");
  const testing::Outcome outcome = Trigger("hostile");
  EXPECT_EQ(outcome.exit_code, 1) << outcome.out << outcome.err;
  EXPECT_THAT(outcome.out, HasSubstr("\\x1b[2J\\x1b[Hforged\\nrun ok \\u009b31m \xEF\xBF\xBD"));
  for (const std::string& text : {outcome.out, outcome.err}) {
    EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
    EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos) << text;
    EXPECT_EQ(text.find('\xff'), std::string::npos) << text;
    EXPECT_EQ(text.find("\nrun ok"), std::string::npos) << text;
  }
}

// A task that ignores its timeout's cancel fails once the grace is over, and with one worker the
// next task still runs: the abandoned worker was replaced.
TEST_F(PluginFaultsTest, ATaskIgnoringCancelIsFailedAndItsWorkerReplaced) {
  Write("hang.yaml",
        "id: hang\ntasks:\n"
        "  - id: hang\n    type: misbehaves.hang\n    timeout_secs: 1\n"
        "  - id: after\n    type: misbehaves.ok\n");
  const testing::Outcome outcome = Trigger("hang");
  EXPECT_EQ(outcome.exit_code, 1) << outcome.out << outcome.err;
  EXPECT_THAT(outcome.out, HasSubstr("timed out after 1000 ms: task type 'misbehaves.hang' "
                                     "ignored cancel for 100 ms; its worker thread was abandoned"));
  EXPECT_THAT(outcome.out, MatchesRegex("(.|\n)*ok +after +succeeded(.|\n)*"));
}

// A per_plugin or per_type name that matches no loaded plugin is most likely a typo: said once,
// with the file and line, and the closest name.
TEST_F(PluginFaultsTest, AnIsolationSettingNamingNoLoadedPluginIsAWarning) {
  Write("petit.yaml",
        "storage: \"memory:\"\nplugins:\n  per_plugin: {misbehave: process}\n"
        "  per_type: {misbehaves.ok: process, misbehaves.okk: process}\n");
  const testing::Outcome outcome =
      testing::RunPetit(PETIT_EXE,
                        "list " + testing::ShellQuote((dir_ / "jobs").string()) + " --plugin-dir " +
                            testing::ShellQuote(kPluginDir),
                        dir_);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_THAT(outcome.err, HasSubstr("petit.yaml:3: plugins.per_plugin names 'misbehave', which no "
                                     "loaded plugin provides (did you mean 'misbehaves'?)"));
  EXPECT_THAT(outcome.err, HasSubstr("petit.yaml:4: plugins.per_type names 'misbehaves.okk', "
                                     "which no loaded plugin provides (did you mean "
                                     "'misbehaves.ok'?)"));
  EXPECT_THAT(outcome.err, Not(HasSubstr("names 'misbehaves.ok',")));
}

// Waits for `fifo` to carry a line (a pid the task writes once it runs); 0 after kPatience.
pid_t ReadStarted(const fs::path& fifo) {
  const int fd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  if (fd < 0) return 0;
  pollfd poll_fd{fd, POLLIN, 0};
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (text.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || ::poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) break;
    char buffer[64];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return static_cast<pid_t>(std::atol(text.c_str()));
}

// SIGTERM stops the daemon although its running task ignores the cancel: shutdown_grace 0 cancels
// at once, the task is abandoned after cancel_grace_ms, the run is recorded and petit exits.
TEST_F(PluginFaultsTest, ASigtermedDaemonExitsThoughATaskIgnoresCancel) {
  const fs::path started = dir_ / "started";
  ASSERT_EQ(::mkfifo(started.c_str(), 0600), 0);
  Write("hang.yaml",
        "id: hang\nschedule: \"@every 1s\"\ntasks:\n"
        "  - id: hang\n    type: misbehaves.hang\n"
        "    params: {started_fifo: \"" +
            started.string() + "\"}\n");
  const std::string err = (dir_ / "stderr.txt").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> args = {PETIT_EXE, "run", (dir_ / "jobs").string(), "--plugin-dir",
                                   kPluginDir};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t daemon = -1;
  ASSERT_EQ(posix_spawn(&daemon, PETIT_EXE, &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);

  const pid_t task = ReadStarted(started);
  EXPECT_EQ(task, daemon) << "in_process: the task runs in the daemon";
  ::kill(daemon, SIGTERM);
  const bool ended = testing::WaitForProcessExit(daemon, kPatience);
  if (!ended) ::kill(daemon, SIGKILL);
  int status = 0;
  ::waitpid(daemon, &status, 0);
  EXPECT_TRUE(ended) << "petit run did not exit after SIGTERM:\n" << testing::ReadFile(err);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << testing::ReadFile(err);
  EXPECT_THAT(testing::ReadFile(err), HasSubstr("ignored cancel for 100 ms"));
}

// A plugin's own thread, started in its init hook before the daemon set up its signals, never
// takes them: SIGHUP reloads and SIGTERM drains, as without the plugin (the thread's mask would
// otherwise be the only one that lets them in, and their default action would end petit).
TEST_F(PluginFaultsTest, APluginsOwnThreadLeavesTheDaemonsSignalsToTheDaemon) {
  Write("tick.yaml",
        "id: tick\nschedule: \"@every 1s\"\ntasks: [{id: t, type: background_thread.ok}]\n");
  testing::DaemonProcess daemon(PETIT_EXE,
                                {"run", (dir_ / "jobs").string(), "--plugin-dir",
                                 std::string(PETIT_FIXTURE_PLUGIN_DIR) + "/background_thread"});
  ASSERT_TRUE(daemon.WaitForLine("job tick run ", " ended: succeeded")) << daemon.err();
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(daemon.WaitFor("received SIGHUP: reloading")) << daemon.err();
  EXPECT_EQ(daemon.Terminate(), 0) << daemon.err();
}

// A shutdown hook that never returns holds petit for the shutdown limit (cancel_grace_ms, here
// 100, and at least a second), no longer: petit says which plugin and exits 3, its output printed.
TEST_F(PluginFaultsTest, AShutdownHookThatNeverReturnsIsNamedAndPetitExitsThree) {
  const testing::Outcome outcome = testing::RunPetit(
      PETIT_EXE,
      "plugins --config " + testing::ShellQuote((dir_ / "jobs" / "petit.yaml").string()) +
          " --plugin-dir " +
          testing::ShellQuote(std::string(PETIT_FIXTURE_PLUGIN_DIR) + "/shutdown_hangs"),
      dir_);
  EXPECT_EQ(outcome.exit_code, 3) << outcome.err;
  EXPECT_THAT(outcome.out, HasSubstr("shutdown_hangs.ok"));
  EXPECT_THAT(outcome.err,
              HasSubstr("plugin 'shutdown_hangs' (" + std::string(PETIT_FIXTURE_PLUGIN_DIR) +
                        "/shutdown_hangs/shutdown_hangs.so) did not return from its shutdown hook "
                        "within 1000 ms"));
}

}  // namespace
}  // namespace petit
