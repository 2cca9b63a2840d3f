// End to end: `petit retry DIR RUN` with the real binary and plugins on SQLite: a failed run is
// retried inside the same run, succeeded tasks are kept, bad requests change nothing.
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/petit_process.h"
#include "petit/core/state_store.h"
#include "petit/storage/open.h"
#include "runtime/recovery.h"

namespace petit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::Outcome;
using testing::ShellQuote;

class RetryCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "petit-retry-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    jobs_ = dir_ / "jobs";
    fs::create_directories(jobs_);
    // extract writes a file (counting its runs); transform fails until the marker exists; load
    // needs transform.
    std::ofstream(jobs_ / "etl.yaml") << "id: etl\n"
                                         "tasks:\n"
                                         "  - id: extract\n"
                                         "    type: command\n"
                                         "    shell: echo x >> '"
                                      << (dir_ / "extract.count").string()
                                      << "'\n"
                                         "  - id: transform\n"
                                         "    type: command\n"
                                         "    shell: test -e '"
                                      << (dir_ / "healed").string()
                                      << "'\n"
                                         "    depends_on: [extract]\n"
                                         "  - id: load\n"
                                         "    type: command\n"
                                         "    command: /bin/true\n"
                                         "    depends_on: [transform]\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string StorageUri() const { return "sqlite://" + (dir_ / "petit.db").string(); }

  Outcome Run(const std::string& args) {
    return testing::RunPetit(PETIT_EXE, "--storage " + ShellQuote(StorageUri()) + " " + args, dir_);
  }

  // The id of the only run, after a failed trigger.
  std::string FailedRun() {
    Outcome trigger = Run("trigger " + ShellQuote(jobs_.string()) + " etl --quiet");
    EXPECT_EQ(trigger.exit_code, 1) << trigger.err;
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(StorageUri());
    EXPECT_TRUE(store.ok());
    Result<std::vector<RunRecord>> runs = (*store)->ListRuns(JobId(), 10);
    EXPECT_TRUE(runs.ok() && runs->size() == 1);
    return runs.ok() && !runs->empty() ? runs->front().id.str() : "";
  }

  // The last attempt of each task of `run`, and the run itself.
  std::map<std::string, AttemptRecord> Attempts(const std::string& run, RunRecord* record) {
    std::map<std::string, AttemptRecord> by_task;
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(StorageUri());
    if (!store.ok()) return by_task;
    RunId id = *RunId::Parse(run);
    Result<std::optional<RunRecord>> stored = (*store)->GetRun(id);
    if (stored.ok() && stored->has_value()) *record = **stored;
    Result<std::vector<AttemptRecord>> attempts = (*store)->ListAttempts(id);
    if (!attempts.ok()) return by_task;
    for (const AttemptRecord& a : *attempts) {
      if (!by_task.count(a.task.str()) || by_task[a.task.str()].attempt < a.attempt) {
        by_task[a.task.str()] = a;
      }
    }
    return by_task;
  }

  size_t ExtractRuns() { return testing::ReadFile(dir_ / "extract.count").size() / 2; }

  fs::path dir_;
  fs::path jobs_;
};

TEST_F(RetryCliTest, RetryRerunsTheFailedTaskAndItsDownstreamInTheSameRun) {
  const std::string run = FailedRun();
  std::ofstream(dir_ / "healed") << "";
  Outcome retry = Run("retry " + ShellQuote(jobs_.string()) + " " + run);
  EXPECT_EQ(retry.exit_code, 0) << retry.out << retry.err;
  EXPECT_THAT(retry.out, HasSubstr("retry " + run));
  RunRecord record;
  auto attempts = Attempts(run, &record);
  EXPECT_EQ(record.status, RunStatus::kSucceeded);
  EXPECT_EQ(record.retries, 1u);
  EXPECT_EQ(attempts["extract"].attempt, 1u);
  EXPECT_EQ(attempts["transform"].attempt, 2u);
  EXPECT_EQ(attempts["transform"].state, TaskState::kSucceeded);
  EXPECT_EQ(attempts["load"].state, TaskState::kSucceeded);
  EXPECT_EQ(ExtractRuns(), 1u);
}

TEST_F(RetryCliTest, DryRunPrintsThePlanAndChangesNothing) {
  const std::string run = FailedRun();
  Outcome dry = Run("retry " + ShellQuote(jobs_.string()) + " " + run + " --dry-run");
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("keep  extract  (succeeded)"));
  EXPECT_THAT(dry.out, HasSubstr("run   transform  (attempt 2, was failed)"));
  EXPECT_THAT(dry.out, HasSubstr("run   load  (attempt 1, was upstream_failed)"));
  RunRecord record;
  auto attempts = Attempts(run, &record);
  EXPECT_EQ(record.status, RunStatus::kFailed);
  EXPECT_EQ(record.retries, 0u);
  EXPECT_EQ(attempts["transform"].attempt, 1u);
}

TEST_F(RetryCliTest, FromATaskRerunsItAndEverythingDownstream) {
  std::ofstream(dir_ / "healed") << "";
  Outcome trigger = Run("trigger " + ShellQuote(jobs_.string()) + " etl --quiet");
  ASSERT_EQ(trigger.exit_code, 0) << trigger.err;
  Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(StorageUri());
  Result<std::vector<RunRecord>> runs = (*store)->ListRuns(JobId(), 1);
  ASSERT_TRUE(runs.ok() && !runs->empty());
  const std::string run = runs->front().id.str();
  Outcome retry = Run("retry " + ShellQuote(jobs_.string()) + " " + run + " --from extract");
  EXPECT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_EQ(ExtractRuns(), 2u);
}

TEST_F(RetryCliTest, BadRequestsAreOneLineErrorsWithExitTwoAndChangeNothing) {
  const std::string run = FailedRun();
  const std::string dir = ShellQuote(jobs_.string());
  Outcome unknown_run = Run("retry " + dir + " 01a233c6-42e8-72b9-a6bb-000000000000");
  EXPECT_EQ(unknown_run.exit_code, 2);
  EXPECT_THAT(unknown_run.err, HasSubstr("no run 01a233c6-42e8-72b9-a6bb-000000000000"));
  Outcome malformed = Run("retry " + dir + " not-a-run-id");
  EXPECT_EQ(malformed.exit_code, 2);
  Outcome unknown_task = Run("retry " + dir + " " + run + " --from transfrom");
  EXPECT_EQ(unknown_task.exit_code, 2);
  EXPECT_THAT(unknown_task.err, HasSubstr("no task 'transfrom'"));
  EXPECT_THAT(unknown_task.err, HasSubstr("did you mean 'transform'?"));
  Outcome both = Run("retry " + dir + " " + run + " --from extract --task load");
  EXPECT_EQ(both.exit_code, 2);
  RunRecord record;
  auto attempts = Attempts(run, &record);
  EXPECT_EQ(record.status, RunStatus::kFailed);
  EXPECT_EQ(record.retries, 0u);
  EXPECT_EQ(attempts["transform"].attempt, 1u);
  EXPECT_EQ(ExtractRuns(), 1u);
}

TEST_F(RetryCliTest, ARunThatIsStillRunningIsRefused) {
  RunRecord running;
  running.id = RunId::Generate();
  running.job = JobId("etl");
  running.status = RunStatus::kRunning;
  // Owned by this live test process, so recovery leaves it alone.
  running.owner = *host::CurrentProcessOwner();
  running.created_us = running.started_us = 1;
  {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(StorageUri());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->CreateRun(running).ok());
  }
  Outcome retry = Run("retry " + ShellQuote(jobs_.string()) + " " + running.id.str());
  EXPECT_EQ(retry.exit_code, 2);
  EXPECT_THAT(retry.err, HasSubstr("is still running"));
}

// Another run of the job held by a live process fills its max_concurrency (1): the retry is
// refused, exit 1, and the failed run stays as it was; once the other run ended, it is retried.
TEST_F(RetryCliTest, ARetryOfAJobAtItsMaxConcurrencyIsRefusedAndChangesNothing) {
  const std::string run = FailedRun();
  RunRecord other;
  other.id = RunId::Generate();
  other.job = JobId("etl");
  other.status = RunStatus::kRunning;
  other.owner = *host::CurrentProcessOwner();
  other.created_us = other.started_us = 1;
  {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(StorageUri());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->CreateRun(other).ok());
  }
  std::ofstream(dir_ / "healed") << "";
  Outcome refused = Run("retry " + ShellQuote(jobs_.string()) + " " + run);
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("job 'etl' already has 1 active run(s) (max_concurrency 1), "
                                     "newest " +
                                     other.id.str()));
  RunRecord record;
  Attempts(run, &record);
  EXPECT_EQ(record.status, RunStatus::kFailed);
  EXPECT_EQ(record.retries, 0u);

  {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(StorageUri());
    ASSERT_TRUE(store.ok());
    other.status = RunStatus::kSucceeded;
    other.ended_us = 2;
    ASSERT_TRUE((*store)->UpdateRun(other).ok());
  }
  Outcome retried = Run("retry " + ShellQuote(jobs_.string()) + " " + run);
  EXPECT_EQ(retried.exit_code, 0) << retried.out << retried.err;
  Attempts(run, &record);
  EXPECT_EQ(record.status, RunStatus::kSucceeded);
  EXPECT_EQ(record.retries, 1u);
}

}  // namespace
}  // namespace petit
