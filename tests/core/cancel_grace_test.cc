// RunOptions::cancel_grace on a virtual clock: an attempt whose runner ignores its cancel is
// failed once the grace is over and its worker abandoned and replaced; a runner that promises to
// stop (TaskRunner::stops_on_cancel) is waited for however long it takes.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "petit/core/clock.h"
#include "petit/core/execute_run.h"
#include "petit/storage/open.h"

namespace petit {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kBrokenAfter = std::chrono::seconds(60);
constexpr int64_t kStartUs = 1'700'000'000'000'000;
constexpr std::chrono::milliseconds kTimeout{1000};
constexpr std::chrono::milliseconds kGrace{250};

// A one-shot signal with a bounded wait.
class Signal {
 public:
  void Set() {
    std::lock_guard lock(mu_);
    set_ = true;
    cv_.notify_all();
  }
  bool Wait() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kBrokenAfter, [this] { return set_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

// Runs until the test releases it, whatever the cancel says; says when it starts, when it was
// cancelled and when it has returned, and writes output once released (after being abandoned,
// that output must go nowhere).
class DeafRunner final : public TaskRunner {
 public:
  explicit DeafRunner(bool stops_on_cancel) : stops_on_cancel_(stops_on_cancel) {}
  AttemptResult Run(const AttemptRequest&, AttemptControl& control) override {
    control.OnCancel([this] { cancelled.Set(); });
    started.Set();
    release.Wait();
    control.AppendOutput(OutputStream::kStdout, "late output\n");
    (void)control.SetOutput("late", "1");
    returned.Set();
    return {AttemptOutcome::kFailed, {}, "returned at last"};
  }
  bool stops_on_cancel() const override { return stops_on_cancel_; }

  Signal started;
  Signal cancelled;
  Signal release;
  Signal returned;

 private:
  const bool stops_on_cancel_;
};

class OkRunner final : public TaskRunner {
 public:
  AttemptResult Run(const AttemptRequest&, AttemptControl&) override {
    return {AttemptOutcome::kSucceeded, 0, ""};
  }
};

class CancelGraceTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore("memory:");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    ASSERT_TRUE(runners_.Register("deaf", deaf_).ok());
    ASSERT_TRUE(runners_.Register("ok", std::make_shared<OkRunner>()).ok());
  }

  // `deaf` (timing out) and then, on the run's only worker, `after`.
  Job MakeJob() {
    Job job;
    job.id = JobId("job");
    TaskSpec deaf;
    deaf.id = TaskId("deaf");
    deaf.type = "deaf";
    deaf.timeout = kTimeout;
    job.dag.AddTask(std::move(deaf));
    TaskSpec after;
    after.id = TaskId("after");
    after.type = "ok";
    job.dag.AddTask(std::move(after));
    EXPECT_TRUE(job.dag.Validate().ok());
    return job;
  }

  std::map<std::string, AttemptRecord> Attempts(const RunId& run) {
    std::map<std::string, AttemptRecord> by_task;
    Result<std::vector<AttemptRecord>> attempts = store_->ListAttempts(run);
    EXPECT_TRUE(attempts.ok());
    for (const AttemptRecord& a : *attempts) by_task[a.task.str()] = a;
    return by_task;
  }

  std::string Logs(const RunId& run) {
    LogQuery query;
    query.task = TaskId("deaf");
    Result<std::vector<LogChunk>> chunks = store_->ReadLogs(run, query);
    EXPECT_TRUE(chunks.ok());
    std::string text;
    for (const LogChunk& chunk : *chunks) text += chunk.data;
    return text;
  }

  std::shared_ptr<DeafRunner> deaf_ = std::make_shared<DeafRunner>(GetParam());
  std::unique_ptr<StateStore> store_;
  TaskRunnerRegistry runners_;
};

TEST_P(CancelGraceTest, AnAttemptIgnoringItsCancelIsAbandonedUnlessItsRunnerPromisesToStop) {
  const bool promises_to_stop = GetParam();
  ManualClock clock(kStartUs);
  RunOptions options;
  options.clock = &clock;
  options.max_parallel_tasks = 1;
  options.cancel_grace = kGrace;
  const Job job = MakeJob();
  const size_t abandoned_before = AbandonedWorkerThreads();
  Result<RunRecord> run = Internal("not run");
  std::thread executor(
      [&] { run = ExecuteRun(job, RunId::Generate(), runners_, *store_, options); });

  ASSERT_TRUE(deaf_->started.Wait());
  clock.Advance(kTimeout.count() * 1000);
  ASSERT_TRUE(deaf_->cancelled.Wait());
  clock.Advance(kGrace.count() * 1000);
  if (promises_to_stop) {
    clock.Advance(kGrace.count() * 1000 * 100);  // far past the grace: still waited for
    deaf_->release.Set();
    executor.join();
  } else {
    executor.join();  // the run ends with the runner still blocked
    deaf_->release.Set();
  }
  ASSERT_TRUE(deaf_->returned.Wait());
  ASSERT_TRUE(run.ok()) << run.status().ToString();

  EXPECT_EQ(run->status, RunStatus::kFailed);
  auto attempts = Attempts(run->id);
  EXPECT_EQ(attempts["deaf"].state, TaskState::kFailed);
  EXPECT_THAT(attempts["deaf"].error, HasSubstr("timed out after 1000 ms"));
  EXPECT_EQ(attempts["after"].state, TaskState::kSucceeded)
      << "the run's only worker was replaced, or freed";
  if (promises_to_stop) {
    EXPECT_THAT(attempts["deaf"].error, HasSubstr("returned at last"));
    EXPECT_EQ(AbandonedWorkerThreads(), abandoned_before);
    EXPECT_THAT(Logs(run->id), HasSubstr("late output"));
  } else {
    EXPECT_THAT(attempts["deaf"].error, HasSubstr("task type 'deaf' ignored cancel for 250 ms; " +
                                                  std::string(kAbandonedWorkerNote)));
    EXPECT_EQ(attempts["deaf"].ended_us, kStartUs + (kTimeout + kGrace).count() * 1000);
    EXPECT_EQ(AbandonedWorkerThreads(), abandoned_before + 1);
    EXPECT_THAT(Logs(run->id), HasSubstr("[warn] task type 'deaf' ignored cancel"));
    EXPECT_THAT(Logs(run->id), Not(HasSubstr("late output")));
    EXPECT_EQ(attempts["deaf"].outputs.count("late"), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Runners, CancelGraceTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "StopsOnCancel" : "IgnoresCancel";
                         });

}  // namespace
}  // namespace petit
