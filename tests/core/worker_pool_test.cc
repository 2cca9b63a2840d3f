// The process's shared worker threads (core/src/executor/worker_pool.h) as runs see them: runs
// start no threads of their own, concurrent runs each get a worker, and a worker that finishes an
// attempt settles it and starts the next ones (retries and cancels included) with the run's state
// as consistent as when the coordinator alone drove it.
#include "executor/worker_pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/fn_runner.h"
#include "petit/core/execute_run.h"
#include "petit/storage/open.h"

namespace petit {
namespace {

// A generous bound for waits that only time out when the code under test is broken.
constexpr auto kBrokenAfter = std::chrono::seconds(60);

using testing::FnRunner;

AttemptResult Ok() { return {AttemptOutcome::kSucceeded, 0, ""}; }

// Counts the threads that ever ran an attempt: a thread_local is constructed once per thread,
// even when a new thread reuses an ended one's id.
std::atomic<int> g_attempt_threads{0};
struct ThreadMark {
  ThreadMark() { g_attempt_threads.fetch_add(1); }
};
void MarkThread() {
  thread_local ThreadMark mark;
  (void)mark;
}

class WorkerPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore("memory:");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  void Register(const std::string& type, FnRunner::Fn fn) {
    ASSERT_TRUE(runners_.Register(type, std::make_shared<FnRunner>(std::move(fn))).ok());
  }

  static Job Flat(size_t tasks, const std::string& type, uint32_t max_retries = 0) {
    Job job;
    job.id = JobId("job");
    for (size_t i = 0; i < tasks; ++i) {
      TaskSpec spec;
      spec.id = TaskId("t" + std::to_string(i));
      spec.type = type;
      spec.retry.max_retries = max_retries;
      job.dag.AddTask(std::move(spec));
    }
    EXPECT_TRUE(job.dag.Validate().ok());
    return job;
  }

  // The latest attempt of each task of `run`, and how many attempts each had.
  std::map<std::string, std::pair<AttemptRecord, size_t>> Latest(const RunId& run) {
    std::map<std::string, std::pair<AttemptRecord, size_t>> latest;
    Result<std::vector<AttemptRecord>> attempts = store_->ListAttempts(run);
    EXPECT_TRUE(attempts.ok());
    for (const AttemptRecord& a : *attempts) {
      auto& [record, count] = latest[a.task.str()];
      if (a.attempt >= record.attempt) record = a;
      ++count;
    }
    return latest;
  }

  std::unique_ptr<StateStore> store_;
  TaskRunnerRegistry runners_;
};

TEST_F(WorkerPoolTest, OneTaskRunsReuseTheSameFewThreads) {
  Register("ok", [](const AttemptRequest&, AttemptControl&) {
    MarkThread();
    return Ok();
  });
  const Job job = Flat(1, "ok");
  RunOptions options;
  options.max_parallel_tasks = 2;
  const int before = g_attempt_threads.load();
  constexpr int kRuns = 300;
  for (int i = 0; i < kRuns; ++i) {
    Result<RunRecord> run = ExecuteRun(job, RunId::Generate(), runners_, *store_, options);
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    ASSERT_EQ(run->status, RunStatus::kSucceeded);
  }
  // One thread per run before; now a thread is started only while none is idle, which between
  // consecutive one-task runs is at most a passing moment.
  EXPECT_LE(g_attempt_threads.load() - before, 8);
  EXPECT_LE(internal::WorkerPool::Shared().threads(), 8u + static_cast<size_t>(before));
}

TEST_F(WorkerPoolTest, ConcurrentRunsEachGetAWorkerAtOnce) {
  // Each run's only task waits until the other run's has started: a pool that made one run's
  // attempt wait for the other's would never finish either.
  std::mutex mu;
  std::condition_variable cv;
  int started = 0;
  Register("meet", [&](const AttemptRequest&, AttemptControl&) {
    std::unique_lock lock(mu);
    ++started;
    cv.notify_all();
    const bool met = cv.wait_for(lock, kBrokenAfter, [&] { return started >= 2; });
    return met ? Ok() : AttemptResult{AttemptOutcome::kFailed, {}, "the other run never started"};
  });
  Job job = Flat(1, "meet");
  job.max_active_runs = 2;
  RunOptions options;
  options.max_parallel_tasks = 1;
  Result<RunRecord> first = Internal("not run");
  Result<RunRecord> second = Internal("not run");
  std::thread a([&] { first = ExecuteRun(job, RunId::Generate(), runners_, *store_, options); });
  std::thread b([&] { second = ExecuteRun(job, RunId::Generate(), runners_, *store_, options); });
  a.join();
  b.join();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(first->status, RunStatus::kSucceeded) << first->error;
  EXPECT_EQ(second->status, RunStatus::kSucceeded) << second->error;
}

TEST_F(WorkerPoolTest, WorkersSettleRetriesOfAWideRunAndEveryTaskRunsTwice) {
  std::atomic<int> calls{0};
  Register("flaky", [&](const AttemptRequest& request, AttemptControl&) {
    ++calls;
    if (request.attempt == 1) return AttemptResult{AttemptOutcome::kTransientFailure, 75, "again"};
    return Ok();
  });
  constexpr size_t kTasks = 500;
  const Job job = Flat(kTasks, "flaky", /*max_retries=*/1);
  RunOptions options;
  options.max_parallel_tasks = 2;
  Result<RunRecord> run = ExecuteRun(job, RunId::Generate(), runners_, *store_, options);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->status, RunStatus::kSucceeded);
  EXPECT_EQ(calls.load(), static_cast<int>(2 * kTasks));
  auto latest = Latest(run->id);
  ASSERT_EQ(latest.size(), kTasks);
  for (const auto& [task, entry] : latest) {
    EXPECT_EQ(entry.first.state, TaskState::kSucceeded) << task;
    EXPECT_EQ(entry.first.attempt, 2u) << task;
    EXPECT_EQ(entry.second, 2u) << task;
  }
}

TEST_F(WorkerPoolTest, ACancelDuringAWideRunLeavesEveryTaskEndedAndNoneRunning) {
  RunCanceller canceller;
  std::atomic<int> calls{0};
  Register("ok", [&](const AttemptRequest&, AttemptControl&) {
    if (++calls == 100) canceller.Cancel();
    return Ok();
  });
  constexpr size_t kTasks = 1000;
  const Job job = Flat(kTasks, "ok");
  RunOptions options;
  options.max_parallel_tasks = 2;
  options.canceller = &canceller;
  Result<RunRecord> run = ExecuteRun(job, RunId::Generate(), runners_, *store_, options);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->status, RunStatus::kCancelled);
  // At most the attempts in flight when the cancel came may start after it.
  EXPECT_LE(calls.load(), 100 + 2);
  auto latest = Latest(run->id);
  ASSERT_EQ(latest.size(), kTasks);
  size_t succeeded = 0;
  for (const auto& [task, entry] : latest) {
    const TaskState state = entry.first.state;
    EXPECT_TRUE(state == TaskState::kSucceeded || state == TaskState::kCancelled)
        << task << " ended " << TaskStateName(state);
    succeeded += state == TaskState::kSucceeded ? 1 : 0;
  }
  EXPECT_EQ(succeeded, static_cast<size_t>(calls.load()));
}

}  // namespace
}  // namespace petit
