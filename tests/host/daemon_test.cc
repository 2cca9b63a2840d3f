// The Daemon in process: started on a memory store with the real builtin plugin, driven through
// its methods as the CLI and the API drive it.
#include "runtime/daemon.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/job_loader.h"
#include "host/scratch_dir.h"
#include "runtime/host_env.h"
#include "runtime/load_jobs.h"

namespace petit::host {
namespace {

using ::petit::host::testing::ScratchDir;

std::unique_ptr<HostEnv> Host(const std::string& storage_uri) {
  HostOptions options;
  options.storage_uri = storage_uri;
  options.plugin_dirs = {PETIT_PLUGIN_DIR};
  Result<std::unique_ptr<HostEnv>> env = HostEnv::Create(options);
  EXPECT_TRUE(env.ok()) << env.status().message();
  if (!env.ok()) return nullptr;
  (*env)->LoadPlugins();
  return std::move(env).value();
}

std::unique_ptr<HostEnv> MemoryHost() { return Host("memory:"); }

std::vector<Job> Jobs(const std::string& yaml) {
  JobLoaderOptions options;
  LoadedJobs loaded = LoadJobFromString(yaml, "test.yaml", options);
  EXPECT_TRUE(loaded.errors.empty()) << loaded.errors.front().ToString();
  return std::move(loaded.jobs);
}

constexpr const char* kTwoTasks = R"(
id: two
max_concurrency: 1
tasks:
  - id: a
    type: noop
  - id: b
    type: noop
    depends_on: [a]
)";

TEST(HostEnvTest, CreatingTheEnvironmentLoadsNoPlugin) {
  HostOptions options;
  options.storage_uri = "memory:";
  options.plugin_dirs = {"/nonexistent/plugin/dir"};
  Result<std::unique_ptr<HostEnv>> env = HostEnv::Create(options);
  ASSERT_TRUE(env.ok()) << env.status().message();
  EXPECT_FALSE((*env)->plugins_loaded());
  (*env)->LoadPlugins();
  EXPECT_TRUE((*env)->plugins_loaded());
  ASSERT_FALSE((*env)->plugin_errors().empty());
  EXPECT_NE((*env)->plugin_errors().front().find("/nonexistent/plugin/dir"), std::string::npos);
}

TEST(DaemonTest, TriggerRunsTheJobAndTheStoreHasItsEnd) {
  DaemonLog log;
  Result<std::unique_ptr<Daemon>> daemon = Daemon::Start(MemoryHost(), Jobs(kTwoTasks), log);
  ASSERT_TRUE(daemon.ok()) << daemon.status().message();
  Result<RunId> run = (*daemon)->Trigger(JobId("two"));
  ASSERT_TRUE(run.ok()) << run.status().message();
  (*daemon)->Stop(StopMode::kWaitForRuns);
  Result<std::optional<RunRecord>> record = (*daemon)->GetRun(*run);
  ASSERT_TRUE(record.ok()) << record.status().message();
  ASSERT_TRUE(record->has_value());
  EXPECT_EQ((*record)->status, RunStatus::kSucceeded);
  EXPECT_EQ((*record)->trigger, "manual");
  EXPECT_EQ((*daemon)->State().active_runs, 0u);
}

TEST(DaemonTest, TriggerOfAnUnknownJobIsNotFound) {
  DaemonLog log;
  Result<std::unique_ptr<Daemon>> daemon = Daemon::Start(MemoryHost(), Jobs(kTwoTasks), log);
  ASSERT_TRUE(daemon.ok()) << daemon.status().message();
  Result<RunId> run = (*daemon)->Trigger(JobId("nope"));
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), StatusCode::kNotFound);
}

TEST(DaemonTest, AStoppedDaemonRefusesTriggers) {
  DaemonLog log;
  Result<std::unique_ptr<Daemon>> daemon = Daemon::Start(MemoryHost(), Jobs(kTwoTasks), log);
  ASSERT_TRUE(daemon.ok()) << daemon.status().message();
  (*daemon)->Stop(StopMode::kCancelRuns);
  Result<RunId> run = (*daemon)->Trigger(JobId("two"));
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), StatusCode::kFailedPrecondition);
}

TEST(DaemonTest, PausingAnUnknownJobIsNotFoundAndAKnownOneIsPersisted) {
  DaemonLog log;
  Result<std::unique_ptr<Daemon>> daemon = Daemon::Start(MemoryHost(), Jobs(kTwoTasks), log);
  ASSERT_TRUE(daemon.ok()) << daemon.status().message();
  EXPECT_EQ((*daemon)->SetPaused(JobId("nope"), true).code(), StatusCode::kNotFound);
  EXPECT_TRUE((*daemon)->SetPaused(JobId("two"), true).ok());
}

TEST(DaemonTest, AnUnreachableStoreFailsStartAndStartsNothing) {
  HostOptions options;
  options.storage_uri = "sqlite:///dev/null/petit/test.db";
  options.plugin_dirs = {PETIT_PLUGIN_DIR};
  Result<std::unique_ptr<HostEnv>> env = HostEnv::Create(options);
  ASSERT_TRUE(env.ok()) << env.status().message();
  (*env)->LoadPlugins();
  DaemonLog log;
  Result<std::unique_ptr<Daemon>> daemon =
      Daemon::Start(std::move(env).value(), Jobs(kTwoTasks), log);
  EXPECT_FALSE(daemon.ok());
}

std::vector<std::string> Ids(const std::vector<JobId>& ids) {
  std::vector<std::string> names;
  for (const JobId& id : ids) names.push_back(id.str());
  return names;
}

TEST(DaemonTest, ReloadKeepsThePreviousDefinitionOfADuplicatedIdAndOfABrokenFile) {
  std::string pattern = (std::filesystem::temp_directory_path() / "petit-reload-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path dir = pattern;
  auto write = [&](const std::string& name, const std::string& yaml) {
    std::ofstream(dir / name) << yaml;
  };
  write("a.yaml", "id: a\ntasks:\n  - id: t\n    type: noop\n");
  write("b.yaml", "id: b\ntasks:\n  - id: t\n    type: noop\n");
  std::unique_ptr<HostEnv> env = MemoryHost();
  ASSERT_NE(env, nullptr);
  LoadedJobs loaded = LoadHostJobs(*env, dir.string());
  ASSERT_TRUE(loaded.errors.empty());
  DaemonLog log;
  Result<std::unique_ptr<Daemon>> daemon =
      Daemon::Start(std::move(env), std::move(loaded.jobs), log);
  ASSERT_TRUE(daemon.ok()) << daemon.status().message();
  HostOptions host;
  host.jobs_dir = dir.string();

  // "a" declared twice, "b" broken, "c" new: only "c" changes anything.
  write("a.yaml", "id: a\ndescription: edited\ntasks:\n  - id: t\n    type: noop\n");
  write("a2.yaml", "id: a\ntasks:\n  - id: t\n    type: noop\n");
  write("b.yaml", "id: b\ntasks:\n  - id: t\n    type: no_such_type\n");
  write("c.yaml", "id: c\ntasks:\n  - id: t\n    type: noop\n");
  Result<ReloadSummary> summary = (*daemon)->Reload(host);
  ASSERT_TRUE(summary.ok()) << summary.status().message();
  EXPECT_EQ(Ids(summary->added), std::vector<std::string>{"c"});
  EXPECT_TRUE(summary->changed.empty());
  EXPECT_TRUE(summary->removed.empty());
  EXPECT_EQ(Ids(summary->kept), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(summary->unchanged, 0u);
  EXPECT_EQ(summary->errors, 2u);
  EXPECT_TRUE(summary->needs_restart.empty());
  EXPECT_EQ((*daemon)->State().jobs, 3u);
  EXPECT_TRUE((*daemon)->Trigger(JobId("b")).ok());

  // Fixed: "a" takes its edited definition, "b" its new one, "c" is as it was.
  std::filesystem::remove(dir / "a2.yaml");
  write("b.yaml", "id: b\ntasks:\n  - id: t2\n    type: noop\n");
  summary = (*daemon)->Reload(host);
  ASSERT_TRUE(summary.ok()) << summary.status().message();
  EXPECT_EQ(Ids(summary->changed), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(summary->unchanged, 1u);
  EXPECT_EQ(summary->errors, 0u);
  (*daemon)->Stop(StopMode::kWaitForRuns);
  std::filesystem::remove_all(dir);
}

// A subdirectory that cannot be read (here a symlink whose target moved, which stops root too) is
// an error, and its jobs keep their previous definition instead of vanishing from the daemon.
TEST(DaemonTest, ReloadKeepsTheJobsOfASubdirectoryThatCannotBeRead) {
  std::string pattern = (std::filesystem::temp_directory_path() / "petit-reload-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path dir = pattern;
  const std::filesystem::path team = dir.string() + "-team";
  std::filesystem::create_directories(dir);
  std::filesystem::create_directories(team);
  std::ofstream(dir / "a.yaml") << "id: a\ntasks:\n  - id: t\n    type: noop\n";
  std::ofstream(team / "b.yaml") << "id: b\ntasks:\n  - id: t\n    type: noop\n";
  std::filesystem::create_symlink(team, dir / "team");
  std::unique_ptr<HostEnv> env = MemoryHost();
  ASSERT_NE(env, nullptr);
  LoadedJobs loaded = LoadHostJobs(*env, dir.string());
  ASSERT_TRUE(loaded.errors.empty());
  ASSERT_EQ(loaded.jobs.size(), 2u);
  DaemonLog log;
  Result<std::unique_ptr<Daemon>> daemon =
      Daemon::Start(std::move(env), std::move(loaded.jobs), log);
  ASSERT_TRUE(daemon.ok()) << daemon.status().message();
  HostOptions host;
  host.jobs_dir = dir.string();

  std::filesystem::rename(team, team.string() + "-moved");
  Result<ReloadSummary> summary = (*daemon)->Reload(host);
  ASSERT_TRUE(summary.ok()) << summary.status().message();
  EXPECT_EQ(Ids(summary->kept), std::vector<std::string>{"b"});
  EXPECT_TRUE(summary->removed.empty());
  EXPECT_EQ(summary->errors, 1u);
  EXPECT_EQ((*daemon)->State().jobs, 2u);
  EXPECT_TRUE((*daemon)->Trigger(JobId("b")).ok());

  // Readable again and then removed on purpose: now its jobs go.
  std::filesystem::rename(team.string() + "-moved", team);
  std::filesystem::remove(dir / "team");
  summary = (*daemon)->Reload(host);
  ASSERT_TRUE(summary.ok()) << summary.status().message();
  EXPECT_EQ(Ids(summary->removed), std::vector<std::string>{"b"});
  EXPECT_EQ(summary->errors, 0u);
  (*daemon)->Stop(StopMode::kWaitForRuns);
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(team);
}

TEST(DaemonTest, CancelEndsOneRunCancelledAndKillsItsProcessGroup) {
  ScratchDir scratch;
  // The task tells the test its pid through a FIFO, so the test knows it is running; read-write,
  // so neither side's open blocks.
  const std::filesystem::path fifo = scratch.path() / "pid.fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  const int fifo_fd = open(fifo.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(fifo_fd, 0) << std::strerror(errno);
  DaemonLog log;
  Result<std::unique_ptr<Daemon>> daemon =
      Daemon::Start(MemoryHost(),
                    Jobs("id: long\n"
                         "tasks:\n"
                         "  - id: wait\n"
                         "    type: command\n"
                         "    command: sh\n"
                         "    args: [\"-c\", \"echo $$ > '" +
                         fifo.string() + "'; exec sleep 1000\"]\n"),
                    log);
  ASSERT_TRUE(daemon.ok()) << daemon.status().message();
  Result<RunId> run = (*daemon)->Trigger(JobId("long"));
  ASSERT_TRUE(run.ok()) << run.status().message();

  std::string pid_text;
  while (pid_text.find('\n') == std::string::npos) {
    pollfd fd{fifo_fd, POLLIN, 0};
    ASSERT_EQ(poll(&fd, 1, 60'000), 1) << "the task never started";
    char buffer[64];
    const ssize_t n = read(fifo_fd, buffer, sizeof buffer);
    if (n > 0) pid_text.append(buffer, static_cast<size_t>(n));
  }
  close(fifo_fd);
  const pid_t task = static_cast<pid_t>(std::stol(pid_text));
  ASSERT_GT(task, 0);

  EXPECT_EQ((*daemon)->Cancel(RunId::GenerateAt(1)).code(), StatusCode::kNotFound);
  ASSERT_TRUE((*daemon)->Cancel(*run).ok());
  (*daemon)->Stop(StopMode::kWaitForRuns);  // returns once the cancelled run has ended
  Result<std::optional<RunRecord>> record = (*daemon)->GetRun(*run);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->status, RunStatus::kCancelled);
  EXPECT_GT((*record)->ended_us, 0);
  EXPECT_EQ(kill(-task, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  EXPECT_EQ((*daemon)->Cancel(*run).code(), StatusCode::kNotFound);  // ended
}

TEST(DaemonTest, APausedSchedulerStaysPausedAfterARestartAndStillRunsTriggers) {
  ScratchDir scratch;
  const std::string uri = "sqlite://" + (scratch.path() / "state.db").string();
  DaemonLog log;
  {
    Result<std::unique_ptr<Daemon>> daemon = Daemon::Start(Host(uri), Jobs(kTwoTasks), log);
    ASSERT_TRUE(daemon.ok()) << daemon.status().message();
    EXPECT_FALSE((*daemon)->State().scheduler_paused);
    ASSERT_TRUE((*daemon)->PauseScheduler().ok());
    EXPECT_TRUE((*daemon)->State().scheduler_paused);
  }
  Result<std::unique_ptr<Daemon>> daemon = Daemon::Start(Host(uri), Jobs(kTwoTasks), log);
  ASSERT_TRUE(daemon.ok()) << daemon.status().message();
  EXPECT_TRUE((*daemon)->State().scheduler_paused);
  Result<RunId> run = (*daemon)->Trigger(JobId("two"));
  ASSERT_TRUE(run.ok()) << run.status().message();
  ASSERT_TRUE((*daemon)->ResumeScheduler().ok());
  EXPECT_FALSE((*daemon)->State().scheduler_paused);
  (*daemon)->Stop(StopMode::kWaitForRuns);
  Result<std::optional<RunRecord>> record = (*daemon)->GetRun(*run);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->status, RunStatus::kSucceeded);
  EXPECT_EQ((*daemon)->PauseScheduler().code(), StatusCode::kFailedPrecondition);  // stopped
}

}  // namespace
}  // namespace petit::host
