// The commands that drive a running daemon (cli/remote_commands.cc) against the real `petit run`
// and its HTTP API: status, pause and resume, trigger --detach, retry RUN, cancel RUN, reload, and
// what they say once no daemon answers.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/daemon_process.h"
#include "integration/petit_process.h"
#include "petit/core/state_store.h"
#include "petit/host/exit_codes.h"
#include "petit/storage/open.h"

namespace petit::host {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Outcome;

constexpr char kListening[] = "api listening on http://127.0.0.1:";

class RemoteCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "petit-remote-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    jobs_ = dir_ / "jobs";
    fs::create_directories(jobs_);
    // Runs hourly (never during a test), so every run here is one a test started.
    std::ofstream(jobs_ / "hourly.yaml") << "id: hourly\nschedule: \"0 * * * *\"\ntasks:\n"
                                            "  - id: a\n    type: command\n    command: \"true\"\n";
    // Fails until the flag file exists; then its retry succeeds.
    std::ofstream(jobs_ / "flaky.yaml")
        << "id: flaky\ntasks:\n  - id: first\n    type: command\n    command: \"true\"\n"
           "  - id: second\n    type: command\n    command: test\n    args: ['-f', '"
        << (dir_ / "flag").string() << "']\n    depends_on: [first]\n";
    // Says it started, then runs until cancelled.
    std::ofstream(jobs_ / "long.yaml")
        << "id: long\ntasks:\n  - id: sleep\n    type: command\n    command: sh\n"
           "    args: ['-c', 'touch "
        << (dir_ / "started").string() << "; exec sleep 1000']\n";
    std::ofstream(jobs_ / "petit.yaml") << "api: {port: 0}\nshutdown_grace: 1\n";
  }
  void TearDown() override {
    daemon_.reset();
    fs::remove_all(dir_);
  }

  std::string StorageUri() const { return "sqlite://" + (dir_ / "petit.db").string(); }

  // Starts `petit run` and learns the address its API listens on.
  void StartDaemon() {
    daemon_ = std::make_unique<testing::DaemonProcess>(
        PETIT_EXE, std::vector<std::string>{"run", jobs_.string(), "--storage", StorageUri()});
    ASSERT_TRUE(daemon_->WaitForLine(kListening, "")) << daemon_->err();
    const std::string& err = daemon_->err();
    const size_t at = err.find(kListening) + sizeof kListening - 1;
    url_ = "http://127.0.0.1:" + std::to_string(std::stoi(err.substr(at)));
    ASSERT_TRUE(daemon_->WaitFor("running ")) << daemon_->err();
  }

  Outcome Petit(const std::string& words) {
    return testing::RunPetit(PETIT_EXE, words + " --server " + url_, dir_);
  }

  RunRecord StoredRun(const std::string& id) {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(StorageUri());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    Result<RunId> run = RunId::Parse(id);
    EXPECT_TRUE(run.ok()) << id;
    if (!store.ok() || !run.ok()) return {};
    Result<std::optional<RunRecord>> found = (*store)->GetRun(*run);
    EXPECT_TRUE(found.ok() && found->has_value()) << id;
    return found.ok() && found->has_value() ? **found : RunRecord{};
  }

  // The run id `trigger JOB --detach` printed, after checking it printed only that.
  std::string TriggerDetached(const std::string& job) {
    Outcome trigger = Petit("trigger " + job + " --detach");
    EXPECT_EQ(trigger.exit_code, kExitOk) << trigger.out << trigger.err;
    EXPECT_EQ(trigger.out.size(), 37u) << trigger.out;  // the id and a newline
    return trigger.out.substr(0, 36);
  }

  fs::path dir_;
  fs::path jobs_;
  std::string url_;
  std::unique_ptr<testing::DaemonProcess> daemon_;
};

TEST_F(RemoteCliTest, StatusShowsTheDaemonAndFollowsPauseAndResume) {
  StartDaemon();
  Outcome status = Petit("status");
  ASSERT_EQ(status.exit_code, kExitOk) << status.out << status.err;
  EXPECT_THAT(status.out, HasSubstr("daemon       " + url_));
  EXPECT_THAT(status.out, HasSubstr("), running\n"));
  EXPECT_THAT(status.out, HasSubstr("store        reachable"));
  EXPECT_THAT(status.out, HasSubstr("paused jobs  none\n"));
  EXPECT_THAT(status.out, HasSubstr("active runs  0\n"));

  Outcome pause_job = Petit("pause hourly");
  EXPECT_EQ(pause_job.exit_code, kExitOk) << pause_job.err;
  EXPECT_EQ(pause_job.out, "job hourly paused\n");
  Outcome pause = Petit("pause");
  EXPECT_EQ(pause.exit_code, kExitOk) << pause.err;
  EXPECT_THAT(pause.out, HasSubstr("scheduler paused"));
  status = Petit("status");
  EXPECT_THAT(status.out, HasSubstr("), paused\n"));
  EXPECT_THAT(status.out, HasSubstr("paused jobs  hourly\n"));
  Outcome json = Petit("status --json");
  EXPECT_EQ(json.exit_code, kExitOk) << json.err;
  EXPECT_THAT(json.out, HasSubstr("\"paused_jobs\":[\"hourly\"]"));

  EXPECT_EQ(Petit("resume hourly").exit_code, kExitOk);
  EXPECT_EQ(Petit("resume").exit_code, kExitOk);
  status = Petit("status");
  EXPECT_THAT(status.out, HasSubstr("), running\n"));
  EXPECT_THAT(status.out, HasSubstr("paused jobs  none\n"));
  EXPECT_TRUE(daemon_->WaitFor("scheduler resumed")) << daemon_->err();

  // An unknown job is the daemon's one-line error.
  Outcome unknown = Petit("pause nosuchjob");
  EXPECT_EQ(unknown.exit_code, kExitUsage) << unknown.err;
  EXPECT_THAT(unknown.err, HasSubstr("nosuchjob"));
  EXPECT_EQ(std::count(unknown.err.begin(), unknown.err.end(), '\n'), 1) << unknown.err;
}

TEST_F(RemoteCliTest, TriggerDetachedAndRetryFromATaskThroughTheDaemon) {
  StartDaemon();
  const std::string run = TriggerDetached("flaky");
  ASSERT_TRUE(daemon_->WaitForLine("run " + run, "ended: failed")) << daemon_->err();

  Outcome dry = Petit("retry " + run + " --dry-run");
  EXPECT_EQ(dry.exit_code, kExitOk) << dry.out << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("retry of run " + run + " (job flaky), dry run: nothing changed"));
  EXPECT_THAT(dry.out, HasSubstr("keep"));
  EXPECT_THAT(dry.out, HasSubstr("second"));
  EXPECT_EQ(StoredRun(run).retries, 0u);

  std::ofstream(dir_ / "flag") << "";
  Outcome retry = Petit("retry " + run + " --from second");
  EXPECT_EQ(retry.exit_code, kExitOk) << retry.out << retry.err;
  EXPECT_THAT(retry.out, HasSubstr("started by the daemon at " + url_));
  ASSERT_TRUE(daemon_->WaitForLine("run " + run, "ended: succeeded")) << daemon_->err();
  const RunRecord retried = StoredRun(run);
  EXPECT_EQ(retried.status, RunStatus::kSucceeded);
  EXPECT_EQ(retried.retries, 1u);

  // A retry of a run that is not ended, or from an unknown task: the daemon refuses, exit 2.
  Outcome unknown_task = Petit("retry " + run + " --from nosuchtask");
  EXPECT_EQ(unknown_task.exit_code, kExitUsage) << unknown_task.out << unknown_task.err;
  EXPECT_THAT(unknown_task.err, HasSubstr("nosuchtask"));
}

TEST_F(RemoteCliTest, CancelThroughTheDaemonEndsTheRunAndKeepsTheDaemon) {
  StartDaemon();
  const std::string run = TriggerDetached("long");
  // The task's process is a real one: wait for its mark, with a deadline.
  const auto deadline = std::chrono::steady_clock::now() + testing::DaemonProcess::kPatience;
  while (!fs::exists(dir_ / "started") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(fs::exists(dir_ / "started")) << daemon_->err();
  Outcome cancel = Petit("cancel " + run);
  EXPECT_EQ(cancel.exit_code, kExitOk) << cancel.out << cancel.err;
  EXPECT_THAT(cancel.out, HasSubstr("through the daemon at " + url_));
  EXPECT_THAT(cancel.out, HasSubstr("run " + run + " cancelled\n"));
  EXPECT_EQ(StoredRun(run).status, RunStatus::kCancelled);
  // The daemon goes on.
  EXPECT_EQ(Petit("status").exit_code, kExitOk);
  // A second cancel finds the run ended: the daemon's one line, exit 2.
  Outcome again = Petit("cancel " + run);
  EXPECT_EQ(again.exit_code, kExitUsage) << again.out << again.err;
  EXPECT_EQ(again.err, "petit: run " + run + " has already ended (cancelled)\n");
  // So is a run the daemon's store never had.
  const std::string unknown = RunId::Generate().str();
  Outcome missing = Petit("cancel " + unknown);
  EXPECT_EQ(missing.exit_code, kExitUsage) << missing.out << missing.err;
  EXPECT_THAT(missing.err, HasSubstr(unknown));
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;
}

TEST_F(RemoteCliTest, CancelOfARunOfAPetitTriggerGoesThroughItsProcess) {
  StartDaemon();
  testing::BackgroundPetit trigger(
      PETIT_EXE, {"trigger", jobs_.string(), "long", "--storage", StorageUri()}, dir_, "trigger");
  const auto deadline = std::chrono::steady_clock::now() + testing::DaemonProcess::kPatience;
  while (!fs::exists(dir_ / "started") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(fs::exists(dir_ / "started")) << trigger.err();
  Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(StorageUri());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Result<std::vector<RunRecord>> runs = (*store)->ListRuns(JobId("long"), 1);
  ASSERT_TRUE(runs.ok() && runs->size() == 1);
  const std::string run = runs->front().id.str();

  // The daemon does not drive it: the store and the run's owner do the cancel.
  Outcome cancel = Petit("cancel " + run + " --storage " + StorageUri());
  EXPECT_EQ(cancel.exit_code, kExitOk) << cancel.out << cancel.err;
  EXPECT_THAT(cancel.out, HasSubstr("sent SIGTERM to petit trigger"));
  EXPECT_THAT(cancel.out, HasSubstr("run " + run + " cancelled\n"));
  EXPECT_EQ(trigger.Wait(), kExitRunFailed) << trigger.err();
  EXPECT_EQ(StoredRun(run).status, RunStatus::kCancelled);
}

TEST_F(RemoteCliTest, ReloadReportsANewJob) {
  StartDaemon();
  std::ofstream(jobs_ / "fresh.yaml") << "id: fresh\ntasks:\n  - id: a\n    type: command\n"
                                         "    command: \"true\"\n";
  Outcome reload = Petit("reload");
  EXPECT_EQ(reload.exit_code, kExitOk) << reload.out << reload.err;
  EXPECT_THAT(reload.out, HasSubstr("1 added (fresh)"));
  EXPECT_FALSE(TriggerDetached("fresh").empty());
}

TEST_F(RemoteCliTest, OnceTheDaemonHasStoppedEveryCommandSaysNoDaemonAnswers) {
  StartDaemon();
  ASSERT_EQ(daemon_->Terminate(), kExitOk) << daemon_->err();
  for (const std::string& words : {std::string("status"), std::string("pause"),
                                   std::string("reload"), std::string("trigger hourly --detach")}) {
    SCOPED_TRACE(words);
    Outcome outcome = Petit(words);
    EXPECT_EQ(outcome.exit_code, kExitHostError) << outcome.out << outcome.err;
    EXPECT_EQ(outcome.err, "petit: no daemon answers at " + url_ + " (is `petit run` running?)\n");
  }
}

}  // namespace
}  // namespace petit::host
