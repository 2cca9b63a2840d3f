// End to end: `petit cancel RUN` with the real binary and plugins on SQLite. A `petit trigger` of
// a long task runs in the background; `petit cancel` from another process stops it through its
// owner; a daemon's run, a dead owner's run, unknown and ended runs are refused, changing nothing.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/api_any_port.h"
#include "integration/petit_process.h"
#include "petit/core/state_store.h"
#include "petit/storage/open.h"
#include "runtime/recovery.h"

extern char** environ;

namespace petit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Outcome;
using testing::ShellQuote;

// Bounds every wait so a broken build fails instead of hanging; nothing waits for it to elapse.
constexpr int kPatienceMs = 60'000;

// A `petit` of this build in the background (petit_process.h).
class Background : public testing::BackgroundPetit {
 public:
  Background(const std::vector<std::string>& args, const fs::path& dir, const std::string& name)
      : BackgroundPetit(PETIT_EXE, args, dir, name) {}
};

class CancelCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "petit-cancel-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    jobs_ = dir_ / "jobs";
    fs::create_directories(jobs_);
    const fs::path fifo = dir_ / "pid.fifo";
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
    // Read-write, so neither side's open blocks and the pipe never reports a hang-up.
    fifo_fd_ = open(fifo.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(fifo_fd_, 0) << std::strerror(errno);
    WriteLongJob("");
  }

  // The job `long`, whose task tells the test its pid through the FIFO, then waits for ever.
  void WriteLongJob(const std::string& schedule) {
    std::ofstream(jobs_ / "long.yaml")
        << "id: long\n"
        << (schedule.empty() ? "" : "schedule: \"" + schedule + "\"\n")
        << "tasks:\n"
           "  - id: wait\n"
           "    type: command\n"
           "    command: sh\n"
           "    args: [\"-c\", \"echo $$ > '"
        << (dir_ / "pid.fifo").string() << "'; exec sleep 1000\"]\n";
  }
  void TearDown() override {
    if (fifo_fd_ >= 0) close(fifo_fd_);
    fs::remove_all(dir_);
  }

  std::string StorageUri() const { return "sqlite://" + (dir_ / "petit.db").string(); }

  Outcome Run(const std::string& args) {
    return testing::RunPetit(PETIT_EXE, "--storage " + ShellQuote(StorageUri()) + " " + args, dir_);
  }

  std::unique_ptr<StateStore> Store() {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(StorageUri());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // The pid the task wrote to the FIFO; 0 when it never did.
  pid_t ReadTaskPid() {
    std::string text;
    while (text.find('\n') == std::string::npos) {
      pollfd fd{fifo_fd_, POLLIN, 0};
      if (poll(&fd, 1, kPatienceMs) != 1) return 0;
      char buffer[64];
      const ssize_t n = read(fifo_fd_, buffer, sizeof buffer);
      if (n > 0) text.append(buffer, static_cast<size_t>(n));
    }
    return static_cast<pid_t>(std::stol(text));
  }

  RunRecord OnlyRun() {
    std::unique_ptr<StateStore> store = Store();
    if (store == nullptr) return {};
    Result<std::vector<RunRecord>> runs = store->ListRuns(JobId(), 10);
    EXPECT_TRUE(runs.ok() && runs->size() == 1);
    return runs.ok() && runs->size() == 1 ? runs->front() : RunRecord{};
  }

  // A run recorded directly as `owner` would have, still running.
  RunId RecordRunningRun(const std::string& owner) {
    RunRecord run;
    run.id = RunId::Generate();
    run.job = JobId("long");
    run.status = RunStatus::kRunning;
    run.owner = owner;
    run.created_us = run.started_us = 1'700'000'000'000'000;
    std::unique_ptr<StateStore> store = Store();
    EXPECT_TRUE(store != nullptr && store->CreateRun(run).ok());
    return run.id;
  }

  RunStatus StatusOf(const RunId& id) {
    std::unique_ptr<StateStore> store = Store();
    if (store == nullptr) return RunStatus::kQueued;
    Result<std::optional<RunRecord>> run = store->GetRun(id);
    EXPECT_TRUE(run.ok() && run->has_value());
    return run.ok() && run->has_value() ? (*run)->status : RunStatus::kQueued;
  }

  fs::path dir_;
  fs::path jobs_;
  int fifo_fd_ = -1;
};

TEST_F(CancelCliTest, CancelStopsATriggeredRunThroughItsProcess) {
  Background trigger({"--storage", StorageUri(), "trigger", jobs_.string(), "long"}, dir_,
                     "trigger");
  const pid_t task = ReadTaskPid();
  ASSERT_GT(task, 0) << "the task never started:\n" << trigger.err();
  const RunRecord run = OnlyRun();
  ASSERT_EQ(run.status, RunStatus::kRunning);

  Outcome cancel = Run("cancel " + run.id.str());
  EXPECT_EQ(cancel.exit_code, 0) << cancel.out << cancel.err;
  EXPECT_THAT(cancel.out, HasSubstr("sent SIGTERM to petit trigger " + run.owner));
  EXPECT_THAT(cancel.out, HasSubstr("run " + run.id.str() + " cancelled"));
  EXPECT_EQ(trigger.Wait(), 1) << trigger.out() << trigger.err();
  EXPECT_EQ(StatusOf(run.id), RunStatus::kCancelled);
  // The command plugin made the task a process group leader; the group is gone.
  EXPECT_EQ(kill(-task, 0), -1);
  EXPECT_EQ(errno, ESRCH);

  // Now it has ended: a second cancel changes nothing.
  Outcome again = Run("cancel " + run.id.str());
  EXPECT_EQ(again.exit_code, 2) << again.out << again.err;
  EXPECT_THAT(again.err, HasSubstr("already ended cancelled"));
  EXPECT_EQ(StatusOf(run.id), RunStatus::kCancelled);
}

TEST_F(CancelCliTest, ADaemonsRunIsNotCancelledAndTheDaemonIsNotSignalled) {
  WriteLongJob("@every 1s");
  std::ofstream(jobs_ / "petit.yaml") << petit::testing::kApiAnyPort << "shutdown_grace: 1\n";
  Background daemon({"--storage", StorageUri(), "run", jobs_.string()}, dir_, "daemon");
  // Its task runs: the daemon is up, its signals handled.
  ASSERT_GT(ReadTaskPid(), 0) << "the task never started:\n" << daemon.err();
  const RunRecord run = OnlyRun();
  ASSERT_EQ(run.status, RunStatus::kRunning);
  Result<std::string> owner = host::ProcessOwner(daemon.pid());
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  ASSERT_EQ(run.owner, *owner);

  Outcome cancel = Run("cancel " + run.id.str());
  EXPECT_EQ(cancel.exit_code, 2) << cancel.out << cancel.err;
  EXPECT_THAT(cancel.err, HasSubstr("belongs to the petit run daemon " + *owner));
  EXPECT_THAT(cancel.err, HasSubstr("needs the daemon's API"));
  EXPECT_THAT(cancel.err, HasSubstr("nothing was signalled"));
  EXPECT_EQ(std::count(cancel.err.begin(), cancel.err.end(), '\n'), 1);
  EXPECT_EQ(StatusOf(run.id), RunStatus::kRunning);
  // The daemon did not drain: it is still there, and the SIGTERM sent now is its first.
  ASSERT_EQ(kill(daemon.pid(), 0), 0);
  EXPECT_THAT(daemon.err(), Not(HasSubstr("received SIGTERM")));
  ASSERT_EQ(kill(daemon.pid(), SIGTERM), 0);
  EXPECT_EQ(daemon.Wait(), 0) << daemon.err();
  EXPECT_THAT(daemon.err(), Not(HasSubstr("again")));
  EXPECT_EQ(StatusOf(run.id), RunStatus::kCancelled);
}

TEST_F(CancelCliTest, ARunOfADeadProcessIsLeftToRecovery) {
  Result<std::string> self = host::CurrentProcessOwner();
  ASSERT_TRUE(self.ok()) << self.status().ToString();
  // This host's name with a pid no process has.
  const std::string hostname = self->substr(0, self->find('/'));
  const RunId run = RecordRunningRun(hostname + "/999999999/1");
  Outcome cancel = Run("cancel " + run.str());
  EXPECT_EQ(cancel.exit_code, 2) << cancel.out << cancel.err;
  EXPECT_THAT(cancel.err, HasSubstr("is gone"));
  EXPECT_THAT(cancel.err, HasSubstr("records it interrupted"));
  EXPECT_EQ(StatusOf(run), RunStatus::kRunning);
}

TEST_F(CancelCliTest, UnknownAndMalformedRunsAreOneLineErrors) {
  Outcome unknown = Run("cancel " + RunId::Generate().str());
  EXPECT_EQ(unknown.exit_code, 2) << unknown.out << unknown.err;
  EXPECT_THAT(unknown.err, HasSubstr("no run "));
  EXPECT_EQ(std::count(unknown.err.begin(), unknown.err.end(), '\n'), 1);

  Outcome malformed = Run("cancel not-a-run");
  EXPECT_EQ(malformed.exit_code, 2) << malformed.out << malformed.err;
  EXPECT_EQ(std::count(malformed.err.begin(), malformed.err.end(), '\n'), 1);

  Outcome missing = Run("cancel");
  EXPECT_EQ(missing.exit_code, 2) << missing.out << missing.err;
}

}  // namespace
}  // namespace petit
