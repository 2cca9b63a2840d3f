// End to end: `petit run DIR` as a real process with the real plugins and a SQLite store; the test
// follows its stderr through a pipe and stops it with SIGTERM, as systemd does.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/api_any_port.h"
#include "integration/daemon_process.h"
#include "petit/core/state_store.h"
#include "petit/storage/open.h"
#include "runtime/proc_files.h"
#include "runtime/process_registry.h"
#include "runtime/task_cgroups.h"

extern char** environ;

namespace petit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// Bounds every wait so a broken daemon fails the test instead of hanging it; nothing waits for it
// to elapse.
constexpr auto kPatience = std::chrono::seconds(60);

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int MillisLeft(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// A running `petit` of this build (daemon_process.h).
class Daemon : public testing::DaemonProcess {
 public:
  explicit Daemon(const std::vector<std::string>& args,
                  const std::vector<std::string>& extra_env = {})
      : DaemonProcess(PETIT_EXE, args, extra_env) {}
};

class RunDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "petit-run-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    jobs_ = dir_ / "jobs";
    fs::create_directories(jobs_);
    std::ofstream(jobs_ / "petit.yaml") << petit::testing::kApiAnyPort;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string StorageUri() const { return "sqlite://" + (dir_ / "state" / "petit.db").string(); }

  std::vector<std::string> RunArgs() const {
    return {"run", jobs_.string(), "--storage", StorageUri()};
  }

  void WriteJob(const std::string& name, const std::string& yaml) {
    std::ofstream(jobs_ / name) << yaml;
  }

  // A job that succeeds every second.
  void WriteTickJob() {
    WriteJob("tick.yaml",
             "id: tick\n"
             "schedule: \"@every 1s\"\n"
             "tasks:\n"
             "  - id: noop\n"
             "    type: command\n"
             "    command: \"true\"\n");
  }

  std::vector<RunRecord> Runs(const std::string& job) {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(StorageUri());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return {};
    Result<std::vector<RunRecord>> runs = (*store)->ListRuns(JobId(job), 100);
    EXPECT_TRUE(runs.ok()) << runs.status().ToString();
    return runs.ok() ? *runs : std::vector<RunRecord>{};
  }

  // A job whose one task runs `before` (shell), tells the test its pid through a FIFO, then runs
  // `then`; `task_yaml` adds keys to the task. Returns the FIFO's read end.
  int WriteTaskThatReportsItsPid(const std::string& then, const std::string& before = "",
                                 const std::string& task_yaml = "") {
    const fs::path fifo = dir_ / "pid.fifo";
    EXPECT_EQ(mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
    // Read-write, so neither side's open blocks and the pipe never reports a hang-up.
    const int fifo_fd = open(fifo.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    EXPECT_GE(fifo_fd, 0) << std::strerror(errno);
    WriteJob("long.yaml",
             "id: long\n"
             "schedule: \"@every 1s\"\n"
             "tasks:\n"
             "  - id: wait\n"
             "    type: command\n"
             "    command: sh\n"
             "    args: [\"-c\", \"" +
                 before + "echo $$ > '" + fifo.string() + "'; " + then + "\"]\n" + task_yaml);
    return fifo_fd;
  }

  // The pid the task wrote to the FIFO; 0 when it never did.
  static pid_t ReadPid(int fifo_fd) {
    std::string pid_text;
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (pid_text.find('\n') == std::string::npos) {
      pollfd fd{fifo_fd, POLLIN, 0};
      if (poll(&fd, 1, MillisLeft(deadline)) != 1) return 0;
      char buffer[64];
      const ssize_t n = read(fifo_fd, buffer, sizeof buffer);
      if (n > 0) pid_text.append(buffer, static_cast<size_t>(n));
    }
    close(fifo_fd);
    return static_cast<pid_t>(std::stol(pid_text));
  }

  fs::path dir_;
  fs::path jobs_;
};

TEST_F(RunDaemonTest, FiresAScheduledJobAndExitsZeroOnSigtermWithTheRunRecorded) {
  const fs::path out = dir_ / "ticks.txt";
  WriteJob("tick.yaml",
           "id: tick\n"
           "schedule: \"@every 1s\"\n"
           "tasks:\n"
           "  - id: write\n"
           "    type: command\n"
           "    command: sh\n"
           "    args: [\"-c\", \"echo tick >> '" +
               out.string() + "'\"]\n");
  Daemon daemon(RunArgs());
  ASSERT_TRUE(daemon.WaitFor(" ended: succeeded")) << daemon.err();
  EXPECT_EQ(daemon.Terminate(), 0) << daemon.err();
  EXPECT_THAT(daemon.err(), HasSubstr("(trigger schedule): run started"));
  EXPECT_THAT(daemon.err(), HasSubstr("received SIGTERM"));
  EXPECT_THAT(daemon.err(), HasSubstr("stopped"));
  EXPECT_THAT(ReadFile(out), HasSubstr("tick\n"));

  std::vector<RunRecord> runs = Runs("tick");
  ASSERT_FALSE(runs.empty());
  const RunRecord& first = runs.back();  // newest first
  EXPECT_EQ(first.status, RunStatus::kSucceeded);
  EXPECT_EQ(first.trigger, "schedule");
  EXPECT_FALSE(first.owner.empty());
  for (const RunRecord& run : runs) EXPECT_TRUE(IsTerminal(run.status)) << run.id.str();

  // And through the CLI, as a user would look.
  const std::string command =
      std::string("'") + PETIT_EXE + "' runs --storage '" + StorageUri() + "' 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  ASSERT_NE(pipe, nullptr);
  std::string listing;
  char buffer[1024];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe.get())) listing.append(buffer, n);
  EXPECT_THAT(listing, HasSubstr(first.id.str()));
  EXPECT_THAT(listing, HasSubstr("succeeded"));
}

TEST_F(RunDaemonTest, SigtermCancelsALongTaskKillsItsProcessGroupAndExitsZero) {
  // The task tells the test its pid through a FIFO, so the test knows it is running.
  const int fifo_fd = WriteTaskThatReportsItsPid("exec sleep 1000");
  ASSERT_GE(fifo_fd, 0) << std::strerror(errno);
  // The task never ends by itself: after a grace of one second SIGTERM cancels it.
  std::ofstream(jobs_ / "petit.yaml") << petit::testing::kApiAnyPort << "shutdown_grace: 1\n";
  Daemon daemon(RunArgs());
  const pid_t task = ReadPid(fifo_fd);
  ASSERT_GT(task, 0) << "the task never started:\n" << daemon.err();

  EXPECT_EQ(daemon.Terminate(), 0) << daemon.err();
  EXPECT_THAT(daemon.err(), HasSubstr("cancelling 1 active run"));
  EXPECT_THAT(daemon.err(), HasSubstr(" ended: cancelled"));
  // The command plugin made the task a process group leader; the group is gone, and was reaped.
  EXPECT_EQ(kill(-task, 0), -1);
  EXPECT_EQ(errno, ESRCH);

  std::vector<RunRecord> runs = Runs("long");
  ASSERT_EQ(runs.size(), 1u) << daemon.err();  // later occurrences were skipped (overlap skip)
  EXPECT_EQ(runs[0].status, RunStatus::kCancelled);
  EXPECT_GT(runs[0].ended_us, 0);
}

TEST_F(RunDaemonTest, SigtermLetsARunningTaskFinishWithinTheGraceAndRecordsItSucceeded) {
  const fs::path release = dir_ / "release";
  const int fifo_fd =
      WriteTaskThatReportsItsPid("while [ ! -e '" + release.string() + "' ]; do sleep 0.05; done");
  std::ofstream(jobs_ / "petit.yaml") << petit::testing::kApiAnyPort << "shutdown_grace: 3600\n";
  Daemon daemon(RunArgs());
  ASSERT_GT(ReadPid(fifo_fd), 0) << "the task never started:\n" << daemon.err();
  daemon.Signal(SIGTERM);
  ASSERT_TRUE(daemon.WaitFor("draining")) << daemon.err();
  // No new fire while draining, and the running task goes on: let it finish now.
  std::ofstream(release) << "";
  EXPECT_EQ(daemon.WaitForExit(), 0) << daemon.err();
  EXPECT_THAT(daemon.err(), HasSubstr(" ended: succeeded"));
  EXPECT_THAT(daemon.err(), Not(HasSubstr("cancelling")));
  std::vector<RunRecord> runs = Runs("long");
  ASSERT_EQ(runs.size(), 1u) << daemon.err();
  EXPECT_EQ(runs[0].status, RunStatus::kSucceeded);
}

TEST_F(RunDaemonTest, ASecondSigtermCancelsTheDrainingRunsAtOnceAndRecordsThem) {
  const int fifo_fd = WriteTaskThatReportsItsPid("exec sleep 1000");
  std::ofstream(jobs_ / "petit.yaml") << petit::testing::kApiAnyPort << "shutdown_grace: 3600\n";
  Daemon daemon(RunArgs());
  const pid_t task = ReadPid(fifo_fd);
  ASSERT_GT(task, 0) << "the task never started:\n" << daemon.err();
  daemon.Signal(SIGTERM);
  ASSERT_TRUE(daemon.WaitFor("draining")) << daemon.err();
  EXPECT_EQ(daemon.Terminate(), 0) << daemon.err();  // the second SIGTERM
  EXPECT_THAT(daemon.err(), HasSubstr("second signal: cancelling 1 active run"));
  EXPECT_THAT(daemon.err(), HasSubstr(" ended: cancelled"));
  EXPECT_EQ(kill(-task, 0), -1);
  std::vector<RunRecord> runs = Runs("long");
  ASSERT_EQ(runs.size(), 1u) << daemon.err();
  EXPECT_EQ(runs[0].status, RunStatus::kCancelled);
}

TEST_F(RunDaemonTest, SighupReloadsChangedRemovedNewAndBrokenFilesWithoutTouchingARunningRun) {
  const fs::path release = dir_ / "release";
  const fs::path out = dir_ / "out.txt";
  const fs::path added_out = dir_ / "added.txt";
  // "long": its first run waits for the test, then writes "old"; the reload changes it to write
  // "new", which only its next run may do.
  const int fifo_fd =
      WriteTaskThatReportsItsPid("while [ ! -e '" + release.string() +
                                 "' ]; do sleep 0.05; done; echo old >> '" + out.string() + "'");
  const std::string hourly_task =
      "schedule: \"@every 1h\"\n"
      "tasks:\n"
      "  - id: t\n"
      "    type: command\n"
      "    command: \"true\"\n";
  WriteJob("gone.yaml", "id: gone\n" + hourly_task);
  WriteJob("broken.yaml", "id: broken\n" + hourly_task);
  std::ofstream(jobs_ / "petit.yaml") << petit::testing::kApiAnyPort << "shutdown_grace: 3600\n";
  Daemon daemon(RunArgs());
  ASSERT_GT(ReadPid(fifo_fd), 0) << "the task never started:\n" << daemon.err();
  ASSERT_TRUE(daemon.WaitFor("job broken (@every 1h, UTC) fires next")) << daemon.err();

  WriteJob("long.yaml",
           "id: long\n"
           "schedule: \"@every 1s\"\n"
           "tasks:\n"
           "  - id: wait\n"
           "    type: command\n"
           "    command: sh\n"
           "    args: [\"-c\", \"echo new >> '" +
               out.string() + "'\"]\n");
  fs::remove(jobs_ / "gone.yaml");
  WriteJob("added.yaml",
           "id: added\n"
           "schedule: \"@every 1s\"\n"
           "tasks:\n"
           "  - id: write\n"
           "    type: command\n"
           "    command: sh\n"
           "    args: [\"-c\", \"echo added >> '" +
               added_out.string() + "'\"]\n");
  WriteJob("broken.yaml", "id: broken\nschedule: \"@every 1h\"\ntasks: [\n");
  std::ofstream(jobs_ / "petit.yaml")
      << petit::testing::kApiAnyPort << "shutdown_grace: 3600\npools: {gpu: 1}\n";
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(daemon.WaitFor("plugins are not reloaded")) << daemon.err();
  EXPECT_THAT(daemon.err(), HasSubstr("received SIGHUP: reloading"));
  EXPECT_THAT(daemon.err(),
              HasSubstr("reload: 3 jobs; added added; changed long; removed gone; kept the "
                        "previous definition of broken (errors above); 0 unchanged; 1 error;"));
  // The broken file, one line per error as `petit validate` prints it.
  EXPECT_THAT(daemon.err(), HasSubstr("petit: error: " + (jobs_ / "broken.yaml").string() + ":"));
  EXPECT_THAT(daemon.err(), HasSubstr("has errors: its jobs keep their previous definition"));
  EXPECT_THAT(daemon.err(), HasSubstr("reload: petit.yaml: pools changed: needs a restart"));
  EXPECT_THAT(daemon.err(), Not(HasSubstr("cancelling")));

  // The run in progress ends on the definition it started with; the next one uses the new one.
  std::ofstream(release) << "";
  ASSERT_TRUE(daemon.WaitForLine("job long run ", " ended: succeeded")) << daemon.err();
  ASSERT_TRUE(daemon.WaitForLine("job added run ", " ended: succeeded")) << daemon.err();
  ASSERT_TRUE(daemon.WaitFor("job long run ", 4)) << daemon.err();  // a second run started
  EXPECT_EQ(daemon.Terminate(), 0) << daemon.err();
  const std::string written = ReadFile(out);
  EXPECT_EQ(written.rfind("old\n", 0), 0u) << written;
  EXPECT_THAT(written, HasSubstr("new\n"));
  EXPECT_THAT(written, Not(HasSubstr("old\nold")));
  EXPECT_THAT(ReadFile(added_out), HasSubstr("added\n"));

  std::vector<RunRecord> long_runs = Runs("long");
  ASSERT_GE(long_runs.size(), 2u) << daemon.err();
  for (const RunRecord& run : long_runs) EXPECT_TRUE(IsTerminal(run.status)) << run.id.str();
  EXPECT_EQ(long_runs.back().status, RunStatus::kSucceeded);  // the first one, newest first
  EXPECT_FALSE(Runs("added").empty());
  EXPECT_TRUE(Runs("gone").empty());
}

// A datagram socket standing in for systemd's NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const fs::path& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd_, 0) << std::strerror(errno);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0)
        << std::strerror(errno);
  }
  ~NotifySocket() { close(fd_); }

  // Receives until a message containing `text` has come `count` times in all.
  bool WaitFor(const std::string& text, size_t count = 1) {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (Count(text) < count) {
      pollfd fd{fd_, POLLIN, 0};
      if (poll(&fd, 1, MillisLeft(deadline)) != 1) return false;
      char buffer[4096];
      const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
      if (n > 0) messages_.emplace_back(buffer, static_cast<size_t>(n));
    }
    return true;
  }

  size_t Count(const std::string& text) const {
    size_t count = 0;
    for (const std::string& message : messages_) count += message.find(text) != std::string::npos;
    return count;
  }

  std::string All() const {
    std::string all;
    for (const std::string& message : messages_) all += "[" + message + "] ";
    return all;
  }

 private:
  fs::path path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
};

TEST_F(RunDaemonTest, TellsSystemdReadyReloadingStoppingAndFeedsTheWatchdog) {
  WriteJob("hourly.yaml",
           "id: hourly\n"
           "schedule: \"@every 1h\"\n"
           "tasks:\n"
           "  - id: t\n"
           "    type: command\n"
           "    command: \"true\"\n");
  NotifySocket systemd(dir_ / "notify.sock");
  // No WATCHDOG_PID: sd_watchdog_enabled then accepts WATCHDOG_USEC for any process.
  Daemon daemon(RunArgs(),
                {"NOTIFY_SOCKET=" + (dir_ / "notify.sock").string(), "WATCHDOG_USEC=200000"});
  ASSERT_TRUE(systemd.WaitFor("READY=1")) << systemd.All() << daemon.err();
  EXPECT_TRUE(daemon.WaitFor("fires next at")) << daemon.err();  // armed before READY
  // Fed every 100 ms while nothing is due for an hour.
  ASSERT_TRUE(systemd.WaitFor("WATCHDOG=1", 3)) << systemd.All();

  daemon.Signal(SIGHUP);
  ASSERT_TRUE(systemd.WaitFor("RELOADING=1")) << systemd.All() << daemon.err();
  EXPECT_EQ(systemd.Count("MONOTONIC_USEC="), 1u) << systemd.All();
  ASSERT_TRUE(systemd.WaitFor("READY=1", 2)) << systemd.All() << daemon.err();
  EXPECT_TRUE(daemon.WaitFor("plugins are not reloaded")) << daemon.err();

  EXPECT_EQ(daemon.Terminate(), 0) << daemon.err();
  EXPECT_TRUE(systemd.WaitFor("STOPPING=1")) << systemd.All();
}

TEST_F(RunDaemonTest, RefusesToStartWithAnInvalidJobFile) {
  WriteJob("broken.yaml", "id: broken\nschedule: \"61 * * * *\"\ntasks: []\n");
  Daemon daemon(RunArgs());
  // It exits by itself, so its stderr ends without the line.
  EXPECT_FALSE(daemon.WaitFor("running "));
  EXPECT_THAT(daemon.err(), HasSubstr("not starting"));
  EXPECT_EQ(daemon.Terminate(), 2) << daemon.err();
}

TEST_F(RunDaemonTest, RefusesToStartOnADamagedStoreAndSaysSoInOneLine) {
  WriteJob("tick.yaml",
           "id: tick\nschedule: \"@every 1s\"\ntasks: [{id: t, type: command, command: "
           "\"true\"}]\n");
  const fs::path db = dir_ / "state" / "petit.db";
  {
    fs::create_directories(db.parent_path());
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(StorageUri());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (int i = 0; i < 400; ++i) {
      RunRecord run;
      run.id = RunId::Generate();
      run.job = JobId("old");
      run.created_us = 1'700'000'000'000'000;
      run.error = std::string(300, 'e');  // a few runs a page, so the table spans many
      ASSERT_TRUE((*store)->CreateRun(run).ok());
    }
  }
  const auto size = fs::file_size(db);
  ASSERT_GT(size, 64u * 4096u);
  {
    // Garbage over the second half, where only old runs are: nothing the daemon's start reads.
    std::fstream file(db, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(size / 2 / 4096 * 4096));
    const std::string garbage(size / 2 / 4096 * 4096, '\x5a');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  Daemon daemon(RunArgs());
  EXPECT_FALSE(daemon.WaitFor("running "));
  EXPECT_EQ(daemon.Terminate(), 3) << daemon.err();
  EXPECT_THAT(daemon.err(), HasSubstr("is damaged"));
  EXPECT_THAT(daemon.err(), HasSubstr(db.string()));
}

TEST_F(RunDaemonTest, ASecondDaemonOnTheStoreExitsThreeNamingTheFirstWhichKeepsFiring) {
  WriteTickJob();
  Daemon first(RunArgs());
  ASSERT_TRUE(first.WaitFor(" ended: succeeded")) << first.err();

  Daemon second(RunArgs());
  // It exits by itself, before recovery and before arming any schedule.
  EXPECT_FALSE(second.WaitFor("running "));
  EXPECT_EQ(second.Terminate(), 3) << second.err();
  EXPECT_THAT(second.err(),
              HasSubstr("not starting: the store " + StorageUri() + " is in use by "));
  EXPECT_THAT(second.err(), HasSubstr("/" + std::to_string(first.pid()) + "/"));
  EXPECT_THAT(second.err(), Not(HasSubstr("interrupted")));

  // Nor through a second name of the file: a hard link would have a lock, a log and a
  // shared-memory index of its own.
  const fs::path link = dir_ / "state" / "second-name.db";
  ASSERT_EQ(::link((dir_ / "state" / "petit.db").c_str(), link.c_str()), 0) << std::strerror(errno);
  Daemon linked({"run", jobs_.string(), "--storage", "sqlite://" + link.string()});
  EXPECT_FALSE(linked.WaitFor("running "));
  EXPECT_EQ(linked.Terminate(), 3) << linked.err();
  EXPECT_THAT(linked.err(), HasSubstr("has 2 hard links"));

  // The first was left alone: it fires again after the refusals.
  ASSERT_TRUE(first.WaitFor(" ended: succeeded", first.Count(" ended: succeeded") + 1))
      << first.err();
  EXPECT_EQ(first.Terminate(), 0) << first.err();
}

// The same petit.yaml twice: the second finds the API's port taken by the first, but what it must
// say is the store's refusal, which names the daemon to look at.
TEST_F(RunDaemonTest, ASecondDaemonOfTheSamePortNamesTheFirstRatherThanThePort) {
  WriteTickJob();
  Daemon first(RunArgs());
  ASSERT_TRUE(first.WaitFor("api listening on http://127.0.0.1:")) << first.err();
  const std::string log = first.err();
  const size_t at = log.find("api listening on http://127.0.0.1:");
  const std::string port =
      log.substr(at + 34, log.find_first_not_of("0123456789", at + 34) - at - 34);
  ASSERT_FALSE(port.empty()) << log;
  const fs::path config = dir_ / "same-port.yaml";
  std::ofstream(config) << "api: {port: " << port << "}\n";

  std::vector<std::string> args = RunArgs();
  args.insert(args.end(), {"--config", config.string()});
  Daemon second(args);
  EXPECT_FALSE(second.WaitFor("running "));
  EXPECT_EQ(second.Terminate(), 3) << second.err();
  EXPECT_THAT(second.err(),
              HasSubstr("not starting: the store " + StorageUri() + " is in use by "));
  EXPECT_THAT(second.err(), HasSubstr("/" + std::to_string(first.pid()) + "/"));
  EXPECT_THAT(second.err(), Not(HasSubstr("cannot listen")));
  EXPECT_EQ(first.Terminate(), 0) << first.err();
}

TEST_F(RunDaemonTest, ADaemonKilledWithSigkillMidRunLeavesNoLockBehind) {
  // A task that outlives its daemon: the lock must die with the daemon, not with the task. The
  // task tells the test its pid through a FIFO, as above. It ignores SIGTERM (which survives
  // exec), the signal the command plugin's children get when the host dies, so it does outlive it.
  const int fifo_fd = WriteTaskThatReportsItsPid("trap '' TERM; exec sleep 1000");
  ASSERT_GE(fifo_fd, 0) << std::strerror(errno);
  Daemon first(RunArgs());
  const pid_t task = ReadPid(fifo_fd);
  ASSERT_GT(task, 0) << "the task never started:\n" << first.err();

  Daemon refused(RunArgs());
  EXPECT_FALSE(refused.WaitFor("running "));
  EXPECT_EQ(refused.Terminate(), 3) << refused.err();
  EXPECT_THAT(refused.err(), HasSubstr("/" + std::to_string(first.pid()) + "/"));

  first.Kill();
  ASSERT_EQ(kill(-task, 0), 0) << "the orphaned task should still run";
  Daemon next(RunArgs());
  const bool started = next.WaitFor("running ");
  // The orphan is not this test's subject (recovery's is); end it before anything can fail.
  kill(-task, SIGKILL);
  ASSERT_TRUE(started) << next.err();
  EXPECT_THAT(next.err(), Not(HasSubstr("in use by")));
  EXPECT_EQ(next.Terminate(), 0) << next.err();
}

// The pid written to `path`; 0 when there is none.
pid_t ReadPidFile(const fs::path& path) {
  pid_t pid = 0;
  std::ifstream(path) >> pid;
  return pid;
}

TEST_F(RunDaemonTest, ProcessesOfADaemonKilledWithSigkillEndWithItOrAtTheNextStart) {
  // The shell (the command plugin's child) reports its pid last, once its two descendants have
  // reported theirs: one in its process group, one in a session of its own.
  const fs::path escaped = dir_ / "escaped";
  const fs::path member = dir_ / "member";
  const int fifo_fd = WriteTaskThatReportsItsPid(
      "wait", "setsid sleep 1000 & echo $! > '" + escaped.string() + "'; sleep 1000 & echo $! > '" +
                  member.string() + "'; ");
  ASSERT_GE(fifo_fd, 0) << std::strerror(errno);
  std::ofstream(jobs_ / "petit.yaml") << petit::testing::kApiAnyPort << "shutdown_grace: 1\n";
  Daemon first(RunArgs());
  const pid_t shell = ReadPid(fifo_fd);
  ASSERT_GT(shell, 0) << "the task never started:\n" << first.err();
  const pid_t escaped_pid = ReadPidFile(escaped);
  const pid_t member_pid = ReadPidFile(member);
  ASSERT_GT(escaped_pid, 0);
  ASSERT_GT(member_pid, 0);

  first.Kill();
  // The child learns of the host's death at once (PR_SET_PDEATHSIG).
  EXPECT_TRUE(testing::WaitForProcessExit(shell));

  // Its descendants are the next start's: recovery ends them before the daemon runs anything.
  Daemon next(RunArgs());
  const bool started = next.WaitFor("running ");
  const bool escaped_gone = testing::WaitForProcessExit(escaped_pid);
  const bool member_gone = testing::WaitForProcessExit(member_pid);
  if (!escaped_gone) kill(escaped_pid, SIGKILL);
  if (!member_gone) kill(member_pid, SIGKILL);
  ASSERT_TRUE(started) << next.err();
  EXPECT_TRUE(escaped_gone) << next.err();
  EXPECT_TRUE(member_gone) << next.err();
  EXPECT_THAT(next.err(), HasSubstr("terminated process " + std::to_string(escaped_pid) +
                                    ", left behind by run "));
  EXPECT_THAT(next.err(), HasSubstr("terminated process " + std::to_string(member_pid) +
                                    ", left behind by run "));
  EXPECT_EQ(next.Terminate(), 0) << next.err();

  // The killed daemon's run was resumed: its task, allowed no retry, stays interrupted and the
  // run ends failed; nothing is left running.
  std::vector<RunRecord> runs = Runs("long");
  ASSERT_FALSE(runs.empty());
  for (const RunRecord& run : runs) EXPECT_TRUE(IsTerminal(run.status)) << run.id.str();
  const RunRecord& killed = runs.back();  // newest first
  EXPECT_EQ(killed.status, RunStatus::kFailed) << next.err();
  Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(StorageUri());
  ASSERT_TRUE(store.ok());
  Result<std::vector<AttemptRecord>> attempts = (*store)->ListAttempts(killed.id);
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_EQ(attempts->front().state, TaskState::kInterrupted);
}

// A `petit trigger` and a daemon on one store share the job's max_concurrency (1): the
// daemon's occurrences are refused while the trigger's run is active, the daemon's run starts only
// after it ended, and a trigger beside the daemon's run is refused in turn.
TEST_F(RunDaemonTest, ATriggerAndADaemonOnOneStoreNeverRunAJobPastItsMaxConcurrency) {
  const fs::path fifo = dir_ / "pid.fifo";
  int fifo_fd = WriteTaskThatReportsItsPid("exec sleep 1000");
  ASSERT_GE(fifo_fd, 0) << std::strerror(errno);
  std::ofstream(jobs_ / "petit.yaml") << petit::testing::kApiAnyPort << "shutdown_grace: 0\n";
  const std::vector<std::string> trigger_args = {"trigger", jobs_.string(), "long", "--storage",
                                                 StorageUri()};
  Daemon trigger(trigger_args);
  const pid_t trigger_task = ReadPid(fifo_fd);
  ASSERT_GT(trigger_task, 0) << "the trigger's task never started:\n" << trigger.err();

  Daemon daemon(RunArgs());
  ASSERT_TRUE(daemon.WaitFor("refused: 1 active run of max 1 (max_concurrency)")) << daemon.err();
  EXPECT_THAT(daemon.err(), Not(HasSubstr("run started"))) << daemon.err();
  ASSERT_EQ(Runs("long").size(), 1u) << daemon.err();

  // Reopened before the daemon's task can write to it.
  fifo_fd = open(fifo.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(fifo_fd, 0) << std::strerror(errno);
  ASSERT_EQ(kill(trigger_task, SIGKILL), 0);
  EXPECT_EQ(trigger.WaitForExit(), 1) << trigger.err();
  const pid_t daemon_task = ReadPid(fifo_fd);
  ASSERT_GT(daemon_task, 0) << "the daemon's run never started:\n" << daemon.err();

  Daemon refused(trigger_args);
  EXPECT_EQ(refused.WaitForExit(), 1) << refused.err();
  EXPECT_THAT(refused.err(),
              HasSubstr("job 'long' already has 1 active run(s) (max_concurrency 1)"));

  ASSERT_EQ(kill(daemon_task, SIGKILL), 0);
  ASSERT_TRUE(daemon.WaitFor(" ended: failed")) << daemon.err();
  EXPECT_EQ(daemon.Terminate(), 0) << daemon.err();

  // Never two at once: each run started after the one before had ended.
  std::vector<RunRecord> runs = Runs("long");
  ASSERT_GE(runs.size(), 2u);
  std::sort(runs.begin(), runs.end(),
            [](const RunRecord& a, const RunRecord& b) { return a.created_us < b.created_us; });
  EXPECT_EQ(runs[0].trigger, "manual");
  EXPECT_EQ(runs[1].trigger, "schedule");
  for (size_t i = 1; i < runs.size(); ++i) {
    ASSERT_TRUE(IsTerminal(runs[i - 1].status)) << runs[i - 1].id.str();
    EXPECT_GE(runs[i].created_us, runs[i - 1].ended_us) << runs[i].id.str();
  }
}

// A `petit trigger` killed with SIGKILL while a daemon runs on its store: the daemon finds its
// run (every kDeadOwnerSweepInterval, and at a reload), records it interrupted (ending what it
// left running, as a start's recovery does), and the job's schedule, held by that run's
// max_concurrency, fires again.
TEST_F(RunDaemonTest, ARunOfATriggerKilledWithSigkillStopsHoldingItsJobOnALiveDaemon) {
  const fs::path fifo = dir_ / "pid.fifo";
  int fifo_fd = WriteTaskThatReportsItsPid("exec sleep 1000");
  ASSERT_GE(fifo_fd, 0) << std::strerror(errno);
  std::ofstream(jobs_ / "petit.yaml") << petit::testing::kApiAnyPort << "shutdown_grace: 0\n";
  Daemon trigger({"trigger", jobs_.string(), "long", "--storage", StorageUri()});
  const pid_t trigger_task = ReadPid(fifo_fd);
  ASSERT_GT(trigger_task, 0) << "the trigger's task never started:\n" << trigger.err();
  Daemon daemon(RunArgs());
  ASSERT_TRUE(daemon.WaitFor("refused: 1 active run of max 1 (max_concurrency)")) << daemon.err();
  ASSERT_EQ(Runs("long").size(), 1u);
  const std::string held = Runs("long").front().id.str();

  fifo_fd = open(fifo.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(fifo_fd, 0) << std::strerror(errno);
  trigger.Kill();
  daemon.Signal(SIGHUP);  // a reload looks at once rather than at the next sweep
  ASSERT_TRUE(daemon.WaitFor("interrupted run " + held + " of job long: the host process"))
      << daemon.err();
  const pid_t daemon_task = ReadPid(fifo_fd);
  ASSERT_GT(daemon_task, 0) << "the schedule stayed held:\n" << daemon.err();
  EXPECT_EQ(daemon.Terminate(), 0) << daemon.err();
  std::vector<RunRecord> runs = Runs("long");
  auto it = std::find_if(runs.begin(), runs.end(),
                         [&](const RunRecord& run) { return run.id.str() == held; });
  ASSERT_NE(it, runs.end());
  EXPECT_EQ(it->status, RunStatus::kInterrupted);
}

TEST_F(RunDaemonTest, AGroupMemberThatClearedItsEnvironmentEndsAtTheNextStartWithoutCgroups) {
  const fs::path cleared = dir_ / "cleared";
  const int fifo_fd = WriteTaskThatReportsItsPid(
      "wait", "env -i sleep 1000 & echo $! > '" + cleared.string() + "'; ");
  ASSERT_GE(fifo_fd, 0) << std::strerror(errno);
  Daemon first(RunArgs(), {"PETIT_TASK_CGROUPS=off"});
  const pid_t shell = ReadPid(fifo_fd);
  ASSERT_GT(shell, 0) << "the task never started:\n" << first.err();
  const pid_t cleared_pid = ReadPidFile(cleared);
  ASSERT_GT(cleared_pid, 0);
  // The host notes the task's process group once the spawn has returned, which may be after the
  // task reported: without cgroups that note is all the next start can go by, so wait for it.
  const std::optional<std::string> ticks = host::StartTicksOf(std::to_string(first.pid()));
  ASSERT_TRUE(ticks.has_value());
  const auto noted_by = std::chrono::steady_clock::now() + kPatience;
  while (host::ReadProcessNotes(first.pid(), *ticks).empty() &&
         std::chrono::steady_clock::now() < noted_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(host::ReadProcessNotes(first.pid(), *ticks).empty()) << first.err();
  first.Kill();
  EXPECT_TRUE(testing::WaitForProcessExit(shell));

  Daemon next(RunArgs(), {"PETIT_TASK_CGROUPS=off"});
  const bool started = next.WaitFor("running ");
  const bool gone = testing::WaitForProcessExit(cleared_pid);
  if (!gone) kill(cleared_pid, SIGKILL);
  ASSERT_TRUE(started) << next.err();
  EXPECT_TRUE(gone) << next.err();
  EXPECT_THAT(next.err(), HasSubstr("terminated process " + std::to_string(cleared_pid) +
                                    ", left behind by run "));
  EXPECT_EQ(next.Terminate(), 0) << next.err();
}

TEST_F(RunDaemonTest, ADescendantThatLeftTheGroupAndClearedItsEnvironmentEndsAtTheNextStart) {
  if (!host::TaskCgroupsBase().has_value()) {
    GTEST_SKIP() << "no cgroup v2 this process may write (run as root, or under systemd with "
                    "Delegate=yes)";
  }
  const fs::path hidden = dir_ / "hidden";
  const int fifo_fd = WriteTaskThatReportsItsPid(
      "wait", "env -i setsid sleep 1000 & echo $! > '" + hidden.string() + "'; ");
  ASSERT_GE(fifo_fd, 0) << std::strerror(errno);
  Daemon first(RunArgs());
  const pid_t shell = ReadPid(fifo_fd);
  ASSERT_GT(shell, 0) << "the task never started:\n" << first.err();
  const pid_t hidden_pid = ReadPidFile(hidden);
  ASSERT_GT(hidden_pid, 0);
  first.Kill();
  EXPECT_TRUE(testing::WaitForProcessExit(shell));

  Daemon next(RunArgs());
  const bool started = next.WaitFor("running ");
  const bool gone = testing::WaitForProcessExit(hidden_pid);
  if (!gone) kill(hidden_pid, SIGKILL);
  ASSERT_TRUE(started) << next.err();
  EXPECT_TRUE(gone) << next.err();
  EXPECT_THAT(next.err(), HasSubstr("terminated process " + std::to_string(hidden_pid) +
                                    ", left behind by a task of a dead host"));
  EXPECT_EQ(next.Terminate(), 0) << next.err();
}

// kill -9 of the daemon while a task runs; the next daemon continues the run.
class RecoveryTest : public RunDaemonTest {
 protected:
  // The first attempt reports its pid and hangs; any later attempt succeeds at once.
  pid_t StartAndKillMidTask(const std::string& task_yaml, std::string* run_id) {
    const fs::path marker = dir_ / "attempted";
    const int fifo_fd = WriteTaskThatReportsItsPid(
        "exec sleep 1000",
        "if [ -e '" + marker.string() + "' ]; then exit 0; fi; touch '" + marker.string() + "'; ",
        task_yaml);
    Daemon first(RunArgs());
    const pid_t task = ReadPid(fifo_fd);
    EXPECT_GT(task, 0) << "the task never started:\n" << first.err();
    first.Kill();
    std::vector<RunRecord> runs = Runs("long");
    EXPECT_EQ(runs.size(), 1u);
    if (!runs.empty()) *run_id = runs.back().id.str();
    return task;
  }

  // The last attempt of each task of `run`, and the run.
  std::map<std::string, std::vector<AttemptRecord>> AttemptsOf(const std::string& run,
                                                               RunRecord* record) {
    std::map<std::string, std::vector<AttemptRecord>> by_task;
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(StorageUri());
    if (!store.ok()) return by_task;
    const RunId id = *RunId::Parse(run);
    Result<std::optional<RunRecord>> stored = (*store)->GetRun(id);
    if (stored.ok() && stored->has_value()) *record = **stored;
    Result<std::vector<AttemptRecord>> attempts = (*store)->ListAttempts(id);
    if (!attempts.ok()) return by_task;
    for (const AttemptRecord& a : *attempts) by_task[a.task.str()].push_back(a);
    return by_task;
  }

  bool NothingRunning() {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(StorageUri());
    if (!store.ok()) return false;
    Result<std::vector<RunRecord>> incomplete = (*store)->ListIncompleteRuns();
    return incomplete.ok() && incomplete->empty();
  }
};

TEST_F(RecoveryTest, AfterKillNineTheLostTaskIsRetriedOnceAndTheRunSucceeds) {
  std::string run;
  const pid_t orphan = StartAndKillMidTask("    retry: {max_attempts: 1}\n", &run);
  ASSERT_FALSE(run.empty());
  Daemon second(RunArgs());
  ASSERT_TRUE(second.WaitFor("resuming interrupted run " + run)) << second.err();
  ASSERT_TRUE(second.WaitFor("run " + run + " ended: succeeded")) << second.err();
  EXPECT_THAT(second.err(), HasSubstr("1 task to run, 0 interrupted for good"));
  EXPECT_EQ(second.Terminate(), 0) << second.err();
  RunRecord record;
  auto attempts = AttemptsOf(run, &record);
  EXPECT_EQ(record.status, RunStatus::kSucceeded);
  EXPECT_EQ(record.retries, 1u);
  ASSERT_EQ(attempts["wait"].size(), 2u);
  EXPECT_EQ(attempts["wait"][0].state, TaskState::kInterrupted);
  EXPECT_EQ(attempts["wait"][1].attempt, 2u);
  EXPECT_EQ(attempts["wait"][1].state, TaskState::kSucceeded);
  EXPECT_TRUE(NothingRunning());
  if (orphan > 0) kill(-orphan, SIGKILL);
}

// What a daemon killed right after its recovery took the run over leaves: the run still running,
// owned by a dead process, its lost attempt interrupted, one retry counted. Never interrupted for
// good: the next daemon takes it over in turn and resumes it.
TEST_F(RecoveryTest, ARunTakenOverByADaemonKilledBeforeResumingItIsResumedByTheNext) {
  std::string run;
  const pid_t orphan = StartAndKillMidTask("    retry: {max_attempts: 1}\n", &run);
  ASSERT_FALSE(run.empty());
  {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(StorageUri());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    const RunId id = *RunId::Parse(run);
    Result<std::optional<RunRecord>> killed = (*store)->GetRun(id);
    ASSERT_TRUE(killed.ok() && killed->has_value());
    // The killed daemon's pid with another start time: a process of this host that is gone.
    const std::string& owner = (**killed).owner;
    const std::string dead_taker =
        owner.substr(0, owner.rfind('/') + 1) + (owner.ends_with("/1") ? "2" : "1");
    Result<bool> taken = (*store)->TakeOverRun(id, owner, dead_taker, "the host died", 1);
    ASSERT_TRUE(taken.ok() && *taken) << taken.status().ToString();
  }
  Daemon second(RunArgs());
  ASSERT_TRUE(second.WaitFor("resuming interrupted run " + run)) << second.err();
  ASSERT_TRUE(second.WaitFor("run " + run + " ended: succeeded")) << second.err();
  // Taken over again in one step, never marked interrupted in between.
  EXPECT_THAT(second.err(), HasSubstr("died; taken over to resume it"));
  EXPECT_THAT(second.err(), HasSubstr("1 task to run, 0 interrupted for good"));
  EXPECT_EQ(second.Terminate(), 0) << second.err();
  RunRecord record;
  auto attempts = AttemptsOf(run, &record);
  EXPECT_EQ(record.status, RunStatus::kSucceeded);
  EXPECT_EQ(record.retries, 2u);  // one per takeover
  ASSERT_EQ(attempts["wait"].size(), 2u);
  EXPECT_EQ(attempts["wait"][0].state, TaskState::kInterrupted);
  EXPECT_EQ(attempts["wait"][1].state, TaskState::kSucceeded);
  EXPECT_TRUE(NothingRunning());
  if (orphan > 0) kill(-orphan, SIGKILL);
}

TEST_F(RecoveryTest, AfterKillNineATaskWithoutRetriesIsInterruptedAndTheRunFails) {
  std::string run;
  const pid_t orphan = StartAndKillMidTask("", &run);
  ASSERT_FALSE(run.empty());
  Daemon second(RunArgs());
  ASSERT_TRUE(second.WaitFor("run " + run + " ended: failed")) << second.err();
  EXPECT_THAT(second.err(), HasSubstr("0 tasks to run, 1 interrupted for good"));
  EXPECT_EQ(second.Terminate(), 0) << second.err();
  RunRecord record;
  auto attempts = AttemptsOf(run, &record);
  EXPECT_EQ(record.status, RunStatus::kFailed);
  ASSERT_EQ(attempts["wait"].size(), 1u);
  EXPECT_EQ(attempts["wait"][0].state, TaskState::kInterrupted);
  EXPECT_TRUE(NothingRunning());
  if (orphan > 0) kill(-orphan, SIGKILL);
}

}  // namespace
}  // namespace petit
