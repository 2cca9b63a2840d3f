// Startup recovery: which owners are dead, and what becomes of their runs. Liveness is checked on
// real processes: this one, and a child that is alive, then a zombie, then reaped.
#include "runtime/recovery.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "petit/core/state_store.h"
#include "petit/storage/open.h"
#include "runtime/process_registry.h"

namespace petit::host {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr int64_t kNow = 1'700'000'000'000'000;

std::string CurrentOwner() {
  Result<std::string> owner = CurrentProcessOwner();
  EXPECT_TRUE(owner.ok()) << owner.status().ToString();
  return owner.ok() ? *owner : "";
}

std::string Hostname() {
  char name[256] = {};
  EXPECT_EQ(gethostname(name, sizeof name - 1), 0);
  return name;
}

// "<this host>/<pid>/<start time>" of this process with another start time: what a run of a
// process that died, its pid since reused by this one, looks like.
std::string WithOtherStartTime(const std::string& owner) {
  const std::string prefix = owner.substr(0, owner.rfind('/') + 1);
  const std::string start = owner.substr(owner.rfind('/') + 1);
  return prefix + (start == "1" ? "2" : "1");
}

// A child process that blocks until Release(), then exits; its state is observed without sleeps.
class Child {
 public:
  Child() {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    pid_ = fork();
    if (pid_ == 0) {
      close(fds[1]);
      char byte;
      // Returns 0 (end of file) when the parent closes its end.
      while (read(fds[0], &byte, 1) > 0) {
      }
      _exit(0);
    }
    close(fds[0]);
    release_fd_ = fds[1];
  }
  ~Child() {
    Release();
    if (!reaped_) Reap();
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }

  // Lets the child exit and waits until it has, leaving it a zombie (not reaped).
  void ReleaseAndWaitForExit() {
    Release();
    siginfo_t info{};
    ASSERT_EQ(waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT), 0);
  }

  void Reap() {
    int status = 0;
    ASSERT_EQ(waitpid(pid_, &status, 0), pid_);
    reaped_ = true;
  }

 private:
  void Release() {
    if (release_fd_ < 0) return;
    close(release_fd_);
    release_fd_ = -1;
  }

  pid_t pid_ = -1;
  int release_fd_ = -1;
  bool reaped_ = false;
};

TEST(ProcessOwnerTest, NamesThisHostThisPidAndAStartTime) {
  const std::string owner = CurrentOwner();
  const std::string prefix = Hostname() + "/" + std::to_string(getpid()) + "/";
  ASSERT_EQ(owner.rfind(prefix, 0), 0u) << owner;
  const std::string start = owner.substr(prefix.size());
  EXPECT_FALSE(start.empty());
  EXPECT_EQ(start.find_first_not_of("0123456789"), std::string::npos) << owner;
  EXPECT_EQ(CurrentOwner(), owner);
}

TEST(ProcessOwnerTest, UnknownPidIsNotFound) {
  Child child;
  child.ReleaseAndWaitForExit();
  child.Reap();
  Result<std::string> owner = ProcessOwner(child.pid());
  EXPECT_EQ(owner.status().code(), StatusCode::kNotFound) << owner.status().ToString();
}

TEST(CheckOwnerTest, ThisProcessIsAlive) {
  const std::string self = CurrentOwner();
  EXPECT_EQ(CheckOwner(self, self), OwnerState::kAlive);
}

TEST(CheckOwnerTest, ChildIsAliveThenDeadAsAZombieAndOnceReaped) {
  const std::string self = CurrentOwner();
  Child child;
  Result<std::string> owner = ProcessOwner(child.pid());
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  EXPECT_EQ(CheckOwner(*owner, self), OwnerState::kAlive);

  child.ReleaseAndWaitForExit();
  EXPECT_EQ(CheckOwner(*owner, self), OwnerState::kDead);
  child.Reap();
  EXPECT_EQ(CheckOwner(*owner, self), OwnerState::kDead);
}

TEST(CheckOwnerTest, ReusedPidIsDead) {
  const std::string self = CurrentOwner();
  EXPECT_EQ(CheckOwner(WithOtherStartTime(self), self), OwnerState::kDead);
}

TEST(CheckOwnerTest, EmptyOwnerIsDead) {
  EXPECT_EQ(CheckOwner("", CurrentOwner()), OwnerState::kDead);
}

TEST(CheckOwnerTest, AnotherHostsProcessIsUnknownEvenWithADeadPid) {
  const std::string self = CurrentOwner();
  Child child;
  child.ReleaseAndWaitForExit();
  child.Reap();
  const std::string other_host = "not-" + Hostname() + "/" + std::to_string(child.pid()) + "/1";
  EXPECT_EQ(CheckOwner(other_host, self), OwnerState::kUnknown);
}

TEST(CheckOwnerTest, MalformedOwnersAreUnknownAndNeverSignalAProcessGroup) {
  const std::string self = CurrentOwner();
  const std::string host = Hostname();
  for (const std::string& owner :
       {std::string("garbage"), host + "/0/1", host + "/-1/1", host + "//1", host + "/12x/1",
        host + "/1/", std::string("/1/1"), host + "/99999999999999999999/1"}) {
    EXPECT_EQ(CheckOwner(owner, self), OwnerState::kUnknown) << owner;
  }
}

class RecoverInterruptedRunsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore("memory:");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    self_ = CurrentOwner();
  }

  RunRecord CreateRun(const std::string& job, const std::string& owner, RunStatus status,
                      int64_t created_us) {
    RunRecord run;
    run.id = RunId::Generate();
    run.job = JobId(job);
    run.status = status;
    run.owner = owner;
    run.created_us = created_us;
    if (IsTerminal(status)) run.ended_us = created_us + 1;
    EXPECT_TRUE(store_->CreateRun(run).ok());
    return run;
  }

  RunRecord Stored(const RunId& id) {
    Result<std::optional<RunRecord>> run = store_->GetRun(id);
    EXPECT_TRUE(run.ok() && run->has_value());
    return run.ok() && run->has_value() ? **run : RunRecord{};
  }

  std::unique_ptr<StateStore> store_;
  std::string self_;
};

TEST_F(RecoverInterruptedRunsTest, InterruptsOnlyRunsOfDeadOwnersOfThisHost) {
  Child child;
  Result<std::string> child_owner = ProcessOwner(child.pid());
  ASSERT_TRUE(child_owner.ok()) << child_owner.status().ToString();
  const RunRecord unowned = CreateRun("a", "", RunStatus::kRunning, 1);
  const RunRecord reused = CreateRun("b", WithOtherStartTime(self_), RunStatus::kQueued, 2);
  const RunRecord concurrent = CreateRun("c", *child_owner, RunStatus::kRunning, 3);
  const RunRecord own = CreateRun("d", self_, RunStatus::kRunning, 4);
  const RunRecord foreign = CreateRun("e", "elsewhere.example/1/1", RunStatus::kRunning, 5);
  const RunRecord finished = CreateRun("f", "", RunStatus::kSucceeded, 6);
  AttemptRecord attempt;
  attempt.run = unowned.id;
  attempt.task = TaskId("t");
  attempt.attempt = 1;
  attempt.state = TaskState::kRunning;
  ASSERT_TRUE(store_->SaveAttempts(std::array{attempt}).ok());

  Result<std::vector<RunRecord>> recovered = RecoverInterruptedRuns(*store_, self_, kNow);
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  ASSERT_EQ(recovered->size(), 2u);
  EXPECT_EQ(recovered->at(0).id, unowned.id);
  EXPECT_EQ(recovered->at(1).id, reused.id);
  for (const RunRecord& run : *recovered) {
    EXPECT_EQ(run.status, RunStatus::kInterrupted);
    EXPECT_EQ(run.ended_us, kNow);
    const RunRecord stored = Stored(run.id);
    EXPECT_EQ(stored.status, RunStatus::kInterrupted);
    EXPECT_EQ(stored.ended_us, kNow);
    EXPECT_EQ(stored.error, run.error);
  }
  EXPECT_EQ(recovered->at(0).error, "the host process (not recorded) died");
  EXPECT_EQ(recovered->at(1).error, "the host process " + reused.owner + " died");
  Result<std::vector<AttemptRecord>> attempts = store_->ListAttempts(unowned.id);
  ASSERT_TRUE(attempts.ok() && attempts->size() == 1);
  EXPECT_EQ(attempts->at(0).state, TaskState::kInterrupted);

  EXPECT_EQ(Stored(concurrent.id).status, RunStatus::kRunning);
  EXPECT_EQ(Stored(own.id).status, RunStatus::kRunning);
  EXPECT_EQ(Stored(foreign.id).status, RunStatus::kRunning);
  EXPECT_EQ(Stored(finished.id).status, RunStatus::kSucceeded);
}

TEST_F(RecoverInterruptedRunsTest, AttemptsLeftRunningInAnEndedRunAreInterruptedAndSaidSo) {
  // What a host that lost its store mid-run may leave: the run's end landed, an attempt's did not.
  const RunRecord ended = CreateRun("a", self_, RunStatus::kFailed, 1);
  const RunRecord live = CreateRun("b", self_, RunStatus::kRunning, 2);
  AttemptRecord stranded;
  stranded.run = ended.id;
  stranded.task = TaskId("t");
  stranded.attempt = 2;
  stranded.state = TaskState::kRunning;
  AttemptRecord queued = stranded;
  queued.task = TaskId("u");
  queued.attempt = 1;
  queued.state = TaskState::kQueued;
  AttemptRecord running_elsewhere = stranded;
  running_elsewhere.run = live.id;
  ASSERT_TRUE(store_->SaveAttempts(std::array{stranded, queued, running_elsewhere}).ok());

  std::ostringstream log;
  Result<std::vector<RunRecord>> recovered = RecoverInterruptedRuns(*store_, self_, kNow, &log);
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  EXPECT_TRUE(recovered->empty());
  Result<std::vector<AttemptRecord>> attempts = store_->ListAttempts(ended.id);
  ASSERT_TRUE(attempts.ok() && attempts->size() == 2);
  for (const AttemptRecord& attempt : *attempts) {
    EXPECT_EQ(attempt.state, TaskState::kInterrupted) << attempt.task.str();
    EXPECT_EQ(attempt.ended_us, kNow);
    EXPECT_THAT(attempt.error, HasSubstr("never recorded"));
  }
  EXPECT_EQ(Stored(ended.id).status, RunStatus::kFailed);
  attempts = store_->ListAttempts(live.id);
  ASSERT_TRUE(attempts.ok() && attempts->size() == 1);
  EXPECT_EQ(attempts->at(0).state, TaskState::kRunning);
  EXPECT_EQ(log.str(), "petit: run " + ended.id.str() +
                           " had ended with attempts still marked running or queued, now "
                           "interrupted: t (attempt 2), u (attempt 1)\n");
}

TEST_F(RecoverInterruptedRunsTest, RunsOfAChildThatDiedAreInterruptedOnTheNextStart) {
  Child child;
  Result<std::string> child_owner = ProcessOwner(child.pid());
  ASSERT_TRUE(child_owner.ok()) << child_owner.status().ToString();
  const RunRecord run = CreateRun("a", *child_owner, RunStatus::kRunning, 1);
  Result<std::vector<RunRecord>> while_alive = RecoverInterruptedRuns(*store_, self_, kNow);
  ASSERT_TRUE(while_alive.ok()) << while_alive.status().ToString();
  EXPECT_TRUE(while_alive->empty());

  child.ReleaseAndWaitForExit();
  child.Reap();
  Result<std::vector<RunRecord>> after_death = RecoverInterruptedRuns(*store_, self_, kNow + 1);
  ASSERT_TRUE(after_death.ok()) << after_death.status().ToString();
  ASSERT_EQ(after_death->size(), 1u);
  EXPECT_EQ(after_death->at(0).id, run.id);
  EXPECT_THAT(Stored(run.id).error, HasSubstr(*child_owner));

  // Nothing is left to recover, and a second pass changes nothing.
  Result<std::vector<RunRecord>> again = RecoverInterruptedRuns(*store_, self_, kNow + 2);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->empty());
  EXPECT_EQ(Stored(run.id).ended_us, kNow + 1);
}

// A caller that resumes runs (a daemon) takes them over in one store step instead: never
// interrupted, they stay active under the new owner with their lost attempts interrupted, and a
// run whose job it would not resume is interrupted as before.
TEST_F(RecoverInterruptedRunsTest, RunsTheCallerResumesAreTakenOverAndTheOthersInterrupted) {
  const RunRecord resumed = CreateRun("kept", "", RunStatus::kRunning, 1);
  const RunRecord queued = CreateRun("kept", WithOtherStartTime(self_), RunStatus::kQueued, 2);
  const RunRecord dropped = CreateRun("gone", "", RunStatus::kRunning, 3);
  AttemptRecord lost;
  lost.run = resumed.id;
  lost.task = TaskId("t");
  lost.attempt = 1;
  lost.state = TaskState::kRunning;
  AttemptRecord done = lost;
  done.task = TaskId("s");
  done.state = TaskState::kSucceeded;
  done.ended_us = 5;
  AttemptRecord lost_elsewhere = lost;
  lost_elsewhere.run = dropped.id;
  ASSERT_TRUE(store_->SaveAttempts(std::array{lost, done, lost_elsewhere}).ok());

  std::ostringstream log;
  Result<RecoveredRuns> recovered = RecoverDeadRuns(
      *store_, self_, kNow, [](const RunRecord& run) { return run.job == JobId("kept"); }, &log);
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  ASSERT_EQ(recovered->taken_over.size(), 2u);
  EXPECT_EQ(recovered->taken_over[0].id, resumed.id);
  EXPECT_EQ(recovered->taken_over[1].id, queued.id);
  for (const RunRecord& run : recovered->taken_over) {
    const RunRecord stored = Stored(run.id);
    EXPECT_EQ(stored.status, RunStatus::kRunning);
    EXPECT_EQ(stored.owner, self_);
    EXPECT_EQ(stored.retries, 1u);
    EXPECT_EQ(stored.retried_us, kNow);
    EXPECT_EQ(stored.ended_us, 0);
    // What the caller starts as is what the store holds.
    EXPECT_EQ(run.status, stored.status);
    EXPECT_EQ(run.owner, stored.owner);
    EXPECT_EQ(run.retries, stored.retries);
    EXPECT_EQ(run.retried_us, stored.retried_us);
  }
  EXPECT_EQ(recovered->taken_over[0].error, "the host process (not recorded) died");
  EXPECT_EQ(recovered->taken_over[1].error, "the host process " + queued.owner + " died");
  Result<std::vector<AttemptRecord>> attempts = store_->ListAttempts(resumed.id);
  ASSERT_TRUE(attempts.ok() && attempts->size() == 2);
  EXPECT_EQ(attempts->at(0).task, TaskId("s"));
  EXPECT_EQ(attempts->at(0).state, TaskState::kSucceeded);
  EXPECT_EQ(attempts->at(1).state, TaskState::kInterrupted);
  EXPECT_EQ(attempts->at(1).ended_us, kNow);
  EXPECT_EQ(attempts->at(1).error, "the host process (not recorded) died");

  ASSERT_EQ(recovered->interrupted.size(), 1u);
  EXPECT_EQ(recovered->interrupted[0].id, dropped.id);
  EXPECT_EQ(Stored(dropped.id).status, RunStatus::kInterrupted);
  attempts = store_->ListAttempts(dropped.id);
  ASSERT_TRUE(attempts.ok() && attempts->size() == 1);
  EXPECT_EQ(attempts->at(0).state, TaskState::kInterrupted);

  // This process is alive: a second recovery leaves its runs alone.
  Result<RecoveredRuns> again =
      RecoverDeadRuns(*store_, self_, kNow + 1, [](const RunRecord&) { return true; });
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->taken_over.empty());
  EXPECT_TRUE(again->interrupted.empty());
  EXPECT_EQ(Stored(resumed.id).retries, 1u);
}

// The gap the takeover closes: a host that dies right after recovery, before it resumed anything,
// leaves the run active under its own (now dead) owner, never interrupted for good, so the next
// start takes it over again and resumes it.
TEST_F(RecoverInterruptedRunsTest, ARunWhoseNewOwnerDiesBeforeResumingItIsTakenOverAgain) {
  Child first;
  Result<std::string> first_owner = ProcessOwner(first.pid());
  ASSERT_TRUE(first_owner.ok()) << first_owner.status().ToString();
  const RunRecord run = CreateRun("a", *first_owner, RunStatus::kRunning, 1);
  AttemptRecord lost;
  lost.run = run.id;
  lost.task = TaskId("t");
  lost.attempt = 1;
  lost.state = TaskState::kRunning;
  ASSERT_TRUE(store_->SaveAttempts(std::array{lost}).ok());
  const auto resume_all = [](const RunRecord&) { return true; };

  // The first owner dies; the second recovers and takes the run over, then dies at once. (Forked
  // only now: it would keep the first's pipe open.)
  first.ReleaseAndWaitForExit();
  first.Reap();
  Child second;
  Result<std::string> second_owner = ProcessOwner(second.pid());
  ASSERT_TRUE(second_owner.ok()) << second_owner.status().ToString();
  Result<RecoveredRuns> taken = RecoverDeadRuns(*store_, *second_owner, kNow, resume_all);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  ASSERT_EQ(taken->taken_over.size(), 1u);
  second.ReleaseAndWaitForExit();
  second.Reap();
  EXPECT_EQ(Stored(run.id).status, RunStatus::kRunning);
  EXPECT_EQ(Stored(run.id).owner, *second_owner);

  // The next host finds it active under a dead owner: it takes it over in turn.
  std::ostringstream err;
  Result<Recovery> recovery = RecoverHost(*store_, err, resume_all);
  ASSERT_TRUE(recovery.ok()) << recovery.status().ToString();
  EXPECT_TRUE(recovery->interrupted.empty());
  ASSERT_EQ(recovery->taken_over.size(), 1u);
  EXPECT_EQ(recovery->taken_over[0].id, run.id);
  EXPECT_THAT(recovery->taken_over[0].error, HasSubstr(*second_owner));
  const RunRecord stored = Stored(run.id);
  EXPECT_EQ(stored.status, RunStatus::kRunning);
  EXPECT_EQ(stored.owner, self_);
  EXPECT_EQ(stored.retries, 2u);
  EXPECT_THAT(err.str(), HasSubstr("petit: interrupted run " + run.id.str() +
                                   " of job a: " + "the host process " + *second_owner +
                                   " died; taken over to resume it\n"));
  // The attempt the first owner lost ended when that loss was found, and stays so.
  Result<std::vector<AttemptRecord>> attempts = store_->ListAttempts(run.id);
  ASSERT_TRUE(attempts.ok() && attempts->size() == 1);
  EXPECT_EQ(attempts->at(0).state, TaskState::kInterrupted);
  EXPECT_EQ(attempts->at(0).ended_us, kNow);
  EXPECT_THAT(attempts->at(0).error, HasSubstr(*first_owner));
}

// A process in a group of its own (as the command plugin starts them) that runs `sleep` with
// PETIT_RUN_ID=<run_id> in its environment; the constructor returns once it has exec'd.
class LeftoverProcess {
 public:
  explicit LeftoverProcess(const std::string& run_id) {
    const std::string variable = "PETIT_RUN_ID=" + run_id;
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      char* const env[] = {const_cast<char*>(variable.c_str()),
                           const_cast<char*>("PATH=/usr/bin:/bin"), nullptr};
      // Straight to its final image: a shell that then exec'd sleep would leave a moment, after
      // the constructor returns, in which /proc/<pid>/environ reads empty mid-exec and the
      // recovery's scan could miss the process (seen once under a loaded CI run).
      execle("/bin/sleep", "sleep", "1000", static_cast<char*>(nullptr), env);
      _exit(127);
    }
    close(fds[1]);
    char byte;
    // End of file once exec closed the write end.
    while (read(fds[0], &byte, 1) > 0) {
    }
    close(fds[0]);
  }
  ~LeftoverProcess() {
    if (!reaped_) {
      kill(pid_, SIGKILL);
      Wait();
    }
  }
  LeftoverProcess(const LeftoverProcess&) = delete;
  LeftoverProcess& operator=(const LeftoverProcess&) = delete;

  pid_t pid() const { return pid_; }

  // The signal that ended it (blocks until it has ended).
  int Wait() {
    int status = 0;
    EXPECT_EQ(waitpid(pid_, &status, 0), pid_);
    reaped_ = true;
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }
  bool Running() const {
    siginfo_t info{};
    info.si_pid = 0;
    return waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == 0;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

TEST_F(RecoverInterruptedRunsTest, ProcessesADeadOwnerLeftRunningAreTerminatedFirst) {
  // The owner's pid is this process's, its start time earlier than this one's: a dead process
  // whose pid was reused, which started before the leftover did.
  const RunRecord run = CreateRun("a", WithOtherStartTime(self_), RunStatus::kRunning, 1);
  LeftoverProcess leftover(run.id.str());
  ASSERT_TRUE(leftover.Running());

  std::ostringstream log;
  Result<std::vector<RunRecord>> recovered = RecoverInterruptedRuns(*store_, self_, kNow, &log);
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  ASSERT_EQ(recovered->size(), 1u);
  EXPECT_EQ(leftover.Wait(), SIGTERM);
  EXPECT_EQ(log.str(), "petit: terminated process " + std::to_string(leftover.pid()) +
                           ", left behind by run " + run.id.str() + "\n");
}

TEST_F(RecoverInterruptedRunsTest, AProcessOlderThanTheDeadOwnerIsNeverSignalled) {
  // The leftover started before the recorded owner did, so it cannot be that owner's descendant.
  const std::string owner = self_.substr(0, self_.rfind('/') + 1) + "999999999999";
  const RunRecord run = CreateRun("a", owner, RunStatus::kRunning, 1);
  LeftoverProcess older(run.id.str());
  const RunRecord live_run = CreateRun("b", self_, RunStatus::kRunning, 2);
  LeftoverProcess of_a_live_run(live_run.id.str());

  std::ostringstream log;
  Result<std::vector<RunRecord>> recovered = RecoverInterruptedRuns(*store_, self_, kNow, &log);
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  ASSERT_EQ(recovered->size(), 1u);
  EXPECT_EQ(recovered->at(0).id, run.id);
  EXPECT_TRUE(older.Running());
  EXPECT_TRUE(of_a_live_run.Running());
  EXPECT_EQ(log.str(), "");
}

// Notes of the host process `owner` (process_registry.h) for a process of `run`, as that host
// would have written them; the registry is the test's own directory.
class NotedGroupTest : public RecoverInterruptedRunsTest {
 protected:
  void SetUp() override {
    RecoverInterruptedRunsTest::SetUp();
    std::string pattern = (std::filesystem::temp_directory_path() / "petit-notes-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    registry_ = pattern;
    setenv("PETIT_RUNTIME_DIR", registry_.c_str(), 1);
  }
  void TearDown() override {
    unsetenv("PETIT_RUNTIME_DIR");
    std::filesystem::remove_all(registry_);
  }

  std::filesystem::path NotesDir(const std::string& owner) const {
    const std::string pid_and_start = owner.substr(owner.find('/') + 1);
    return registry_ / (pid_and_start.substr(0, pid_and_start.find('/')) + "-" +
                        pid_and_start.substr(pid_and_start.find('/') + 1));
  }

  void Note(const std::string& owner, const RunRecord& run, pid_t pid, const std::string& start) {
    std::filesystem::create_directories(NotesDir(owner));
    std::ofstream(NotesDir(owner) / "1")
        << run.id.str() << " t 1 " << pid << " " << pid << " " << start << "\n";
  }

  static std::string StartTicks(pid_t pid) {
    Result<std::string> owner = ProcessOwner(pid);
    EXPECT_TRUE(owner.ok());
    return owner.ok() ? owner->substr(owner->rfind('/') + 1) : "0";
  }

  std::filesystem::path registry_;
};

TEST_F(NotedGroupTest, ANotedGroupIsTerminatedThoughItsMembersClearedTheirEnvironment) {
  const std::string owner = WithOtherStartTime(self_);
  const RunRecord run = CreateRun("a", owner, RunStatus::kRunning, 1);
  // Its PETIT_RUN_ID names no run: only the note leads to it.
  LeftoverProcess leftover("cleared");
  Note(owner, run, leftover.pid(), StartTicks(leftover.pid()));

  std::ostringstream log;
  Result<std::vector<RunRecord>> recovered = RecoverInterruptedRuns(*store_, self_, kNow, &log);
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  EXPECT_EQ(leftover.Wait(), SIGTERM);
  EXPECT_EQ(log.str(), "petit: terminated process " + std::to_string(leftover.pid()) +
                           ", left behind by run " + run.id.str() + "\n");
  // The dead host's notes go once its runs are recovered.
  EXPECT_FALSE(std::filesystem::exists(NotesDir(owner)));
}

TEST_F(NotedGroupTest, AGroupWhoseLeaderPidNamesAProcessStartedAtAnotherTimeIsLeftAlone) {
  const std::string owner = WithOtherStartTime(self_);
  const RunRecord run = CreateRun("a", owner, RunStatus::kRunning, 1);
  LeftoverProcess stranger("cleared");
  // The noted process had this pid but started at another time: the pid was reused since.
  Note(owner, run, stranger.pid(), std::to_string(std::stoull(StartTicks(stranger.pid())) + 1));
  const RunRecord live_run = CreateRun("b", self_, RunStatus::kRunning, 2);
  LeftoverProcess of_a_live_run("cleared");
  Note(self_, live_run, of_a_live_run.pid(), StartTicks(of_a_live_run.pid()));

  std::ostringstream log;
  Result<std::vector<RunRecord>> recovered = RecoverInterruptedRuns(*store_, self_, kNow, &log);
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  ASSERT_EQ(recovered->size(), 1u);
  EXPECT_TRUE(stranger.Running());
  EXPECT_TRUE(of_a_live_run.Running());
  EXPECT_EQ(log.str(), "");
}

// A plugin worker (`process` isolation) dies with its host, but what its plugin started may not:
// its notes go where recovery looks for the host's, beside the host's own, never over them.
// A notes file in the slots a host keeps mapped (process_registry.cc): 512 bytes a note, '+' first.
std::string Slots(const std::vector<std::string>& notes) {
  std::string text;
  for (const std::string& note : notes) {
    std::string slot = "+" + note + "\n";
    slot.resize(512, '\0');
    text += slot;
  }
  return text;
}

// A dead host's notes whose processes have all ended since go at the next start, with the host's
// directory; a file that still names a running process stays for its store's recovery.
TEST_F(NotedGroupTest, ADeadHostsNotesGoOnceEveryProcessTheyNameHasEnded) {
  std::string ended_note;
  {
    LeftoverProcess ended("ended");
    const std::string pid = std::to_string(ended.pid());
    ended_note = "01a1-ended t 1 " + pid + " " + pid + " " + StartTicks(ended.pid());
    kill(ended.pid(), SIGKILL);
    ended.Wait();
  }
  LeftoverProcess running("running");
  const std::string pid = std::to_string(running.pid());
  const std::string running_note =
      "01a1-running t 1 " + pid + " " + pid + " " + StartTicks(running.pid());
  // Two dead hosts: this pid with start times it never had.
  const std::filesystem::path gone = registry_ / (std::to_string(getpid()) + "-7");
  const std::filesystem::path kept = registry_ / (std::to_string(getpid()) + "-8");
  std::filesystem::create_directories(gone);
  std::filesystem::create_directories(kept);
  std::ofstream(gone / "notes", std::ios::binary) << Slots({ended_note});
  std::ofstream(kept / "notes", std::ios::binary) << Slots({ended_note, running_note});

  RemoveEmptyNotesOfDeadHosts();
  EXPECT_FALSE(std::filesystem::exists(gone));
  EXPECT_TRUE(std::filesystem::exists(kept / "notes"));
  EXPECT_TRUE(running.Running());
  ASSERT_EQ(ReadProcessNotes(getpid(), "8").size(), 2u);
}

TEST_F(NotedGroupTest, AWorkersNotesAreItsHostsAndNeverReplaceThem) {
  const pid_t worker = fork();
  ASSERT_GE(worker, 0);
  if (worker == 0) {
    NoteForHost(getppid());
    // Kept past _exit, as a worker killed mid-attempt keeps it.
    (void)ProcessNote::Write("run-w", "t", 1, 4242, 4242, 7).release();
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(worker, &status, 0), worker);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::unique_ptr<ProcessNote> own = ProcessNote::Write("run-h", "t", 1, 4343, 4343, 8);
  ASSERT_NE(own, nullptr);

  std::vector<NotedProcess> notes = ReadProcessNotes(getpid(), StartTicks(getpid()));
  std::vector<std::string> runs;
  for (const NotedProcess& note : notes) runs.push_back(note.run);
  std::sort(runs.begin(), runs.end());
  EXPECT_EQ(runs, (std::vector<std::string>{"run-h", "run-w"}));
}

// A note removed when its attempt ends is not read back, and its slot serves the next one: the
// notes file grows with the notes alive at once, not with the attempts that ran.
TEST_F(NotedGroupTest, ANoteGoesWithItsAttemptAndTheFileHoldsOnlyLiveOnes) {
  std::unique_ptr<ProcessNote> kept = ProcessNote::Write("run-kept", "t", 1, 4141, 4141, 6);
  ASSERT_NE(kept, nullptr);
  for (int i = 0; i < 1000; ++i) {
    std::unique_ptr<ProcessNote> passing =
        ProcessNote::Write("run-" + std::to_string(i), "task", 1, 5000 + i, 5000 + i, 9);
    ASSERT_NE(passing, nullptr);
  }
  // More alive at once than the file's first slots: it grows, and keeps what it held.
  std::vector<std::unique_ptr<ProcessNote>> many;
  for (int i = 0; i < 100; ++i) {
    many.push_back(
        ProcessNote::Write("run-many-" + std::to_string(i), "t", 2, 6000 + i, 6000 + i, 7));
    ASSERT_NE(many.back(), nullptr);
  }
  // The longest note there can be: ids of 128 characters.
  std::unique_ptr<ProcessNote> longest = ProcessNote::Write(
      std::string(128, 'r'), std::string(128, 't'), UINT32_MAX, INT64_MAX, INT64_MAX, UINT64_MAX);
  ASSERT_NE(longest, nullptr);

  std::vector<NotedProcess> notes = ReadProcessNotes(getpid(), StartTicks(getpid()));
  ASSERT_EQ(notes.size(), 102u);
  const auto kept_note = std::find_if(notes.begin(), notes.end(),
                                      [](const NotedProcess& n) { return n.run == "run-kept"; });
  ASSERT_NE(kept_note, notes.end());
  EXPECT_EQ(kept_note->task, "t");
  EXPECT_EQ(kept_note->attempt, 1u);
  EXPECT_EQ(kept_note->pid, 4141);
  EXPECT_EQ(kept_note->process_group, 4141);
  EXPECT_EQ(kept_note->start_ticks, 6u);
  const auto longest_note = std::find_if(notes.begin(), notes.end(), [](const NotedProcess& n) {
    return n.run == std::string(128, 'r');
  });
  ASSERT_NE(longest_note, notes.end());
  EXPECT_EQ(longest_note->task, std::string(128, 't'));
  EXPECT_EQ(longest_note->start_ticks, UINT64_MAX);
  EXPECT_LE(std::filesystem::file_size(NotesDir(self_) / "notes"), 512u * 256);

  kept.reset();
  many.clear();
  longest.reset();
  EXPECT_TRUE(ReadProcessNotes(getpid(), StartTicks(getpid())).empty());
}

TEST_F(RecoverInterruptedRunsTest, OnStartupPrintsOneLinePerInterruptedRunAndReturnsTheOwner) {
  const RunRecord first = CreateRun("etl", "", RunStatus::kRunning, 1);
  const RunRecord second = CreateRun("report", WithOtherStartTime(self_), RunStatus::kQueued, 2);
  CreateRun("live", self_, RunStatus::kRunning, 3);

  std::ostringstream err;
  Result<std::string> owner = RecoverOnStartup(*store_, err);
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  EXPECT_EQ(*owner, self_);
  std::vector<std::string> lines;
  std::istringstream in(err.str());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  EXPECT_THAT(lines, ElementsAre("petit: interrupted run " + first.id.str() +
                                     " of job etl: the host process (not recorded) died",
                                 "petit: interrupted run " + second.id.str() +
                                     " of job report: the host process " + second.owner + " died"));
  Result<std::vector<RunRecord>> incomplete = store_->ListIncompleteRuns();
  ASSERT_TRUE(incomplete.ok());
  std::vector<std::string> jobs;
  for (const RunRecord& run : *incomplete) jobs.push_back(run.job.str());
  EXPECT_THAT(jobs, UnorderedElementsAre("live"));
}

}  // namespace
}  // namespace petit::host
