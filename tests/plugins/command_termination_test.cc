// How the command plugin ends a process: timeouts (its own and the attempt's), cancel from
// another thread, SIGKILL after the grace period, death by a signal, and background processes
// that outlive the command. Every kill must reach the whole process group, grandchildren
// included; the tests watch grandchildren through pidfds instead of sleeping.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "cgroup_base.h"
#include "command_test_support.h"
#include "task_cgroup.h"

namespace petit::command_test {
namespace {

using testing::RunResult;
using namespace std::chrono_literals;

// Generous: only reached when something is broken.
constexpr auto kExitLimit = 30s;

// Runs `params` on a worker thread, learns the pid the script prints first, and returns the
// attempt's result; `act` runs once the pid is known (to cancel, for instance).
template <typename Act>
RunResult RunWatchingGrandchild(testing::FakeHost& host, const std::string& params,
                                std::unique_ptr<ProcessWatch>& watch, Act act) {
  auto attempt = host.Start("command", params);
  EXPECT_TRUE(attempt->created()) << attempt->Snapshot().error;
  RunResult result;
  std::thread worker([&] { result = attempt->Execute(); });
  const pid_t pid = WaitForPid(*attempt);
  if (pid > 0) watch = std::make_unique<ProcessWatch>(pid);
  act(*attempt);
  worker.join();
  EXPECT_GT(pid, 0) << "the script never printed its background pid; stdout: " << result.stdout_data
                    << " error: " << result.error;
  return result;
}

TEST_F(CommandTest, TimeoutTerminatesTheWholeProcessGroupIncludingGrandchildren) {
  std::unique_ptr<ProcessWatch> grandchild;
  const RunResult result =
      RunWatchingGrandchild(host_, R"({"shell": "sleep 1000 & echo $!; wait", "timeout_secs": 1})",
                            grandchild, [](testing::Attempt&) {});
  EXPECT_EQ(result.status, PETIT_TIMED_OUT);
  EXPECT_EQ(result.error,
            "timed out after 1000 ms (timeout_secs); sent SIGTERM to the process group");
  EXPECT_EQ(result.exit_code, 128 + SIGTERM);
  ASSERT_NE(grandchild, nullptr);
  EXPECT_TRUE(grandchild->WaitForExit(kExitLimit));
}

TEST_F(CommandTest, TimeoutEscalatesToSigkillAfterTheGracePeriod) {
  std::unique_ptr<ProcessWatch> grandchild;
  // Both the shell and its background child ignore SIGTERM (an ignored signal survives exec).
  const RunResult result = RunWatchingGrandchild(
      host_,
      R"({"shell": "trap '' TERM; sleep 1000 & echo $!; wait", "timeout_secs": 1,
          "kill_grace_ms": 200})",
      grandchild, [](testing::Attempt&) {});
  EXPECT_EQ(result.status, PETIT_TIMED_OUT);
  EXPECT_EQ(result.error,
            "timed out after 1000 ms (timeout_secs); sent SIGTERM to the process group, then "
            "SIGKILL after the 200 ms grace period");
  EXPECT_EQ(result.exit_code, 128 + SIGKILL);
  ASSERT_NE(grandchild, nullptr);
  EXPECT_TRUE(grandchild->WaitForExit(kExitLimit));
}

TEST_F(CommandTest, ZeroGraceSendsSigkillAtOnce) {
  std::unique_ptr<ProcessWatch> grandchild;
  const RunResult result = RunWatchingGrandchild(
      host_,
      R"({"shell": "trap '' TERM; sleep 1000 & echo $!; wait", "timeout_secs": 1,
          "kill_grace_ms": 0})",
      grandchild, [](testing::Attempt&) {});
  EXPECT_EQ(result.status, PETIT_TIMED_OUT);
  EXPECT_EQ(result.error,
            "timed out after 1000 ms (timeout_secs); sent SIGKILL to the process group");
  ASSERT_NE(grandchild, nullptr);
  EXPECT_TRUE(grandchild->WaitForExit(kExitLimit));
}

TEST_F(CommandTest, TheAttemptTimeoutAppliesWhenItIsSmaller) {
  testing::AttemptOptions options;
  options.timeout_ms = 300;
  const RunResult result =
      Run(R"({"command": "sleep", "args": ["1000"], "timeout_secs": 100})", options);
  EXPECT_EQ(result.status, PETIT_TIMED_OUT);
  EXPECT_EQ(result.error,
            "timed out after 300 ms (the attempt timeout); sent SIGTERM to the process group");
}

TEST_F(CommandTest, CancelFromAnotherThreadTerminatesTheProcessGroup) {
  std::unique_ptr<ProcessWatch> grandchild;
  const RunResult result =
      RunWatchingGrandchild(host_, R"({"shell": "sleep 1000 & echo $!; wait"})", grandchild,
                            [](testing::Attempt& attempt) { attempt.Cancel(); });
  EXPECT_EQ(result.status, PETIT_CANCELLED);
  EXPECT_EQ(result.error, "cancelled; sent SIGTERM to the process group");
  ASSERT_NE(grandchild, nullptr);
  EXPECT_TRUE(grandchild->WaitForExit(kExitLimit));
}

// setsid takes the grandchild out of the process group, so the group kill alone misses it; it
// keeps the attempt's $PETIT_OUTPUT entry in its environment, and is found by that.
TEST_F(CommandTest, TimeoutAlsoEndsADescendantThatLeftTheProcessGroup) {
  std::unique_ptr<ProcessWatch> grandchild;
  const RunResult result = RunWatchingGrandchild(
      host_, R"({"shell": "setsid sleep 1000 & echo $!; wait", "timeout_secs": 1})", grandchild,
      [](testing::Attempt&) {});
  EXPECT_EQ(result.status, PETIT_TIMED_OUT);
  ASSERT_NE(grandchild, nullptr);
  EXPECT_TRUE(grandchild->WaitForExit(kExitLimit));
  grandchild->Kill();
}

TEST_F(CommandTest, CancelAlsoEndsADescendantThatLeftTheProcessGroup) {
  std::unique_ptr<ProcessWatch> grandchild;
  // The inner shell exits at once: the grandchild is an orphan in a session of its own by the
  // time it is cancelled, out of reach of anything that walks the process tree from the child.
  const RunResult result = RunWatchingGrandchild(
      host_, R"({"shell": "setsid sh -c 'sleep 1000 & echo $!'; sleep 1000"})", grandchild,
      [](testing::Attempt& attempt) { attempt.Cancel(); });
  EXPECT_EQ(result.status, PETIT_CANCELLED);
  ASSERT_NE(grandchild, nullptr);
  EXPECT_TRUE(grandchild->WaitForExit(kExitLimit));
  grandchild->Kill();
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A descendant that left the process group and cleared its environment carries nothing the
// group kill or the marker can find; the attempt's cgroup still holds it.
class CommandCgroupTest : public CommandTest {
 protected:
  void SetUp() override {
    CommandTest::SetUp();
    if (!command::TaskCgroupBase().has_value()) {
      GTEST_SKIP() << "no cgroup v2 this process may write (run as root, or under systemd with "
                      "Delegate=yes)";
    }
  }
};

TEST_F(CommandCgroupTest, TimeoutEndsADescendantThatLeftTheGroupAndClearedItsEnvironment) {
  std::unique_ptr<ProcessWatch> grandchild;
  const RunResult result = RunWatchingGrandchild(
      host_, R"({"shell": "env -i setsid sleep 1000 & echo $!; wait", "timeout_secs": 1})",
      grandchild, [](testing::Attempt&) {});
  EXPECT_EQ(result.status, PETIT_TIMED_OUT);
  ASSERT_NE(grandchild, nullptr);
  EXPECT_TRUE(grandchild->WaitForExit(kExitLimit));
  grandchild->Kill();
}

TEST_F(CommandCgroupTest, CancelEndsAnOrphanThatLeftTheGroupAndClearedItsEnvironment) {
  std::unique_ptr<ProcessWatch> grandchild;
  // The inner shell exits at once, so the grandchild is an orphan by the time it is cancelled.
  const RunResult result = RunWatchingGrandchild(
      host_, R"({"shell": "env -i setsid sh -c 'sleep 1000 & echo $!'; sleep 1000"})", grandchild,
      [](testing::Attempt& attempt) { attempt.Cancel(); });
  EXPECT_EQ(result.status, PETIT_CANCELLED);
  ASSERT_NE(grandchild, nullptr);
  EXPECT_TRUE(grandchild->WaitForExit(kExitLimit));
  grandchild->Kill();
}

// Attempts reuse the host's cgroups (making one costs as much as a spawn); each gives its cgroup
// back empty after a normal end, its background processes moved out. One whose processes were
// killed through cgroup.kill is removed instead: a child made into it by CLONE_INTO_CGROUP would be
// killed too on some kernels (task_cgroup.h).
TEST_F(CommandCgroupTest, AnAttemptLeavesItsCgroupEmptyForTheNext) {
  const std::string script = "echo $$; cat /proc/self/cgroup | grep '^0::'; sleep 1000 & echo $!";
  auto first = host_.Start("command", R"({"shell": ")" + script + R"(; wait", "timeout_secs": 1})");
  ASSERT_TRUE(first->created());
  const RunResult timed_out = first->Execute();
  EXPECT_EQ(timed_out.status, PETIT_TIMED_OUT);
  std::istringstream lines(timed_out.stdout_data);
  std::string shell, cgroup, sleeper;
  ASSERT_TRUE(lines >> shell >> cgroup >> sleeper) << timed_out.stdout_data;
  ASSERT_EQ(cgroup.rfind("0::/", 0), 0u);
  const std::string killed_dir = *command::TaskCgroupBase() + cgroup.substr(cgroup.rfind('/'));
  EXPECT_FALSE(std::filesystem::exists(killed_dir)) << "a killed cgroup is removed, not reused";

  // The background process of a task that ended normally is left running, outside the cgroup.
  auto second = host_.Start("command", R"({"shell": ")" + script + R"("})");
  ASSERT_TRUE(second->created());
  const RunResult ended = second->Execute();
  ASSERT_EQ(ended.status, PETIT_OK) << ended.error;
  std::istringstream second_lines(ended.stdout_data);
  std::string second_cgroup;
  ASSERT_TRUE(second_lines >> shell >> second_cgroup >> sleeper) << ended.stdout_data;
  EXPECT_NE(second_cgroup, cgroup);
  const std::string dir = *command::TaskCgroupBase() + second_cgroup.substr(cgroup.rfind('/'));
  ProcessWatch survivor(static_cast<pid_t>(std::stol(sleeper)));
  EXPECT_FALSE(survivor.Exited());
  EXPECT_EQ(ReadText(dir + "/cgroup.procs"), "");
  survivor.Kill();

  auto third = host_.Start("command", R"({"shell": "cat /proc/self/cgroup | grep '^0::'"})");
  ASSERT_TRUE(third->created());
  const RunResult reused = third->Execute();
  ASSERT_EQ(reused.status, PETIT_OK) << reused.error;
  std::istringstream third_lines(reused.stdout_data);
  std::string third_cgroup;
  ASSERT_TRUE(third_lines >> third_cgroup) << reused.stdout_data;
  EXPECT_EQ(third_cgroup, second_cgroup) << "the free cgroup was not reused";
}

// A /proc/self/mountinfo text, the process's cgroup as /proc/self/cgroup names it, and the
// directory expected (empty: none).
struct CgroupMountCase {
  const char* name;
  const char* mountinfo;
  const char* own;
  const char* dir;
};

constexpr char kUnifiedMounts[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

constexpr char kHybridMounts[] =
    "25 21 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 "
    "cgroup2 rw,nsdelegate\n"
    "28 25 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup "
    "rw,memory";

// A container without a cgroup namespace: /sys/fs/cgroup shows only the container's sub-tree.
constexpr char kContainerMounts[] =
    "610 600 0:30 /docker/abc /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime master:9 - cgroup2 "
    "cgroup rw\n";

constexpr CgroupMountCase kCgroupMountCases[] = {
    {"a systemd service under the unified hierarchy", kUnifiedMounts, "/system.slice/petit.service",
     "/sys/fs/cgroup/system.slice/petit.service"},
    {"the root cgroup", kUnifiedMounts, "/", "/sys/fs/cgroup"},
    {"the hybrid layout's unified mount, its last line without a newline", kHybridMounts,
     "/user.slice/session-1.scope", "/sys/fs/cgroup/unified/user.slice/session-1.scope"},
    {"the container's own cgroup, its mount's root", kContainerMounts, "/docker/abc",
     "/sys/fs/cgroup"},
    {"a cgroup inside the container's", kContainerMounts, "/docker/abc/inner",
     "/sys/fs/cgroup/inner"},
    {"a cgroup outside the mounted sub-tree", kContainerMounts, "/system.slice/other.service", ""},
    {"a name that only starts like the mounted sub-tree", kContainerMounts, "/docker/abcdef", ""},
    {"cgroup v1 only", "28 25 0:25 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", "/",
     ""},
    {"no mount at all", "", "/", ""},
    {"a line cut short", "35 24 0:30 / - cgroup2 cgroup2 rw\n", "/", ""},
};

TEST(CgroupDirFromMountinfoTest, FindsTheCgroupUnderTheFirstCgroup2Mount) {
  for (const CgroupMountCase& c : kCgroupMountCases) {
    EXPECT_EQ(cgroups::CgroupDirFromMountinfo(c.mountinfo, c.own), c.dir) << c.name;
  }
}

TEST_F(CommandCgroupTest, TheBaseIsTheCgroupThatListsThisProcessWhereMountinfoPutsIt) {
  const std::string& base = *command::TaskCgroupBase();
  std::istringstream procs(ReadText(base + "/cgroup.procs"));
  bool listed = false;
  for (pid_t pid = 0; procs >> pid;) listed = listed || pid == getpid();
  EXPECT_TRUE(listed) << base << "/cgroup.procs does not list this process";
  std::istringstream cgroups(ReadText("/proc/self/cgroup"));
  std::string own;
  for (std::string line; std::getline(cgroups, line);) {
    if (line.rfind("0::", 0) == 0) own = line.substr(3);
  }
  EXPECT_EQ(base, cgroups::CgroupDirFromMountinfo(ReadText("/proc/self/mountinfo"), own));
}

TEST_F(CommandTest, CancelBeforeExecuteStartsNothing) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::filesystem::path marker = dir.path() / "ran";
  auto attempt = host_.Start(
      "command", R"({"command": "touch", "args": [)" + JsonString(marker.string()) + "]}");
  ASSERT_TRUE(attempt->created());
  attempt->Cancel();
  const RunResult result = attempt->Execute();
  EXPECT_EQ(result.status, PETIT_CANCELLED);
  EXPECT_EQ(result.error, "cancelled before the command started");
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST_F(CommandTest, DeathBySignalFailsNamingTheSignal) {
  const RunResult result = Run(R"({"shell": "kill -9 $$"})");
  EXPECT_EQ(result.status, PETIT_ERROR);
  EXPECT_EQ(result.error, "killed by signal 9 (SIGKILL)");
  EXPECT_EQ(result.exit_code, 128 + SIGKILL);
  EXPECT_EQ(result.outputs.at("exit_code"), "137");
}

TEST_F(CommandTest, ASignalTheHostIgnoresStillKillsTheChild) {
  // A host commonly ignores SIGPIPE; the child must get the default action back.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction previous {};
  ASSERT_EQ(sigaction(SIGPIPE, &ignore, &previous), 0);
  const RunResult result = Run(R"({"shell": "kill -PIPE $$"})");
  sigaction(SIGPIPE, &previous, nullptr);
  EXPECT_EQ(result.status, PETIT_ERROR);
  EXPECT_EQ(result.error, "killed by signal 13 (SIGPIPE)");
}

TEST_F(CommandTest, ASignalMaskOfTheCallingThreadDoesNotReachTheChild) {
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigset_t previous;
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &block, &previous), 0);
  const RunResult result = Run(R"({"shell": "kill -TERM $$; echo survived"})");
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  EXPECT_EQ(result.error, "killed by signal 15 (SIGTERM)");
  EXPECT_EQ(result.stdout_data, "");
}

TEST_F(CommandTest, AHostThatIgnoresSigchldGetsAClearErrorInsteadOfAHang) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction previous {};
  ASSERT_EQ(sigaction(SIGCHLD, &ignore, &previous), 0);
  const RunResult result = Run(R"({"command": "true"})");
  sigaction(SIGCHLD, &previous, nullptr);
  EXPECT_EQ(result.status, PETIT_ERROR);
  EXPECT_EQ(result.error,
            "the exit status was lost: something else in the host process reaped the child (is "
            "SIGCHLD ignored?)");
}

TEST_F(CommandTest, ABackgroundProcessHoldingThePipesDoesNotHoldTheTask) {
  auto attempt = host_.Start("command", R"({"shell": "sleep 1000 & echo $!"})");
  ASSERT_TRUE(attempt->created());
  const RunResult result = attempt->Execute();
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  ASSERT_FALSE(result.stdout_data.empty());
  ProcessWatch background(static_cast<pid_t>(std::stol(result.stdout_data)));
  // A plain exit leaves background processes alone; only timeout and cancel stop the group.
  EXPECT_FALSE(background.Exited());
  background.Kill();
  EXPECT_TRUE(background.WaitForExit(kExitLimit));
  ASSERT_EQ(result.logs.size(), 1u);
  EXPECT_EQ(result.logs[0].level, PETIT_LOG_WARN);
  EXPECT_EQ(result.logs[0].message,
            "stopped reading output 1000 ms after the command exited: a background process "
            "still holds its stdout or stderr");
}

}  // namespace
}  // namespace petit::command_test
