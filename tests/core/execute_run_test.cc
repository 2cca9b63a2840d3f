// ExecuteRun against in-process runners and the memory store: ordering, trigger rules,
// retries, timeouts, cancellation, context flow and output capture.
#include "petit/core/execute_run.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/fn_runner.h"
#include "petit/storage/open.h"

namespace petit {
namespace {

using ::testing::HasSubstr;

// A generous bound for waits that only time out when the code under test is broken.
constexpr auto kBrokenAfter = std::chrono::seconds(60);

using testing::FnRunner;

AttemptResult Ok() { return {AttemptOutcome::kSucceeded, 0, ""}; }
AttemptResult Fail(std::string error, int32_t code = 1) {
  return {AttemptOutcome::kFailed, code, std::move(error)};
}

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

TaskSpec Spec(const std::string& id, const std::string& type, std::vector<std::string> deps = {},
              TriggerRule trigger = TriggerRule::kAllSuccess) {
  TaskSpec spec;
  spec.id = TaskId(id);
  spec.name = id;
  spec.type = type;
  for (const std::string& dep : deps) spec.depends_on.emplace_back(dep);
  spec.trigger = trigger;
  return spec;
}

class ExecuteRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore("memory:");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    Register("ok", [](const AttemptRequest&, AttemptControl&) { return Ok(); });
    Register("fail", [](const AttemptRequest&, AttemptControl&) { return Fail("boom"); });
  }

  void Register(const std::string& type, FnRunner::Fn fn) {
    ASSERT_TRUE(runners_.Register(type, std::make_shared<FnRunner>(std::move(fn))).ok());
  }

  Job MakeJob(std::vector<TaskSpec> specs) {
    Job job;
    job.id = JobId("job");
    for (TaskSpec& spec : specs) job.dag.AddTask(std::move(spec));
    Status valid = job.dag.Validate();
    EXPECT_TRUE(valid.ok()) << valid.ToString();
    return job;
  }

  RunRecord Execute(const Job& job, RunOptions options = {}) {
    if (options.max_parallel_tasks == 0) options.max_parallel_tasks = 4;
    Result<RunRecord> run = ExecuteRun(job, RunId::Generate(), runners_, *store_, options);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    if (!run.ok()) return {};
    last_run_ = run->id;
    return *run;
  }

  // Retries the last run with `request` (continuing it in the same run), as `owner`.
  RunRecord Retry(const Job& job, RetryRequest request = {}, std::string owner = "retrier/1/1") {
    Result<std::vector<AttemptRecord>> attempts = store_->ListAttempts(last_run_);
    EXPECT_TRUE(attempts.ok());
    Result<RetryPlan> plan = PlanRetry(job.dag, *attempts, request);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    if (!plan.ok()) return {};
    RunResumption resumption{std::move(plan).value(), std::move(attempts).value()};
    RunOptions options;
    options.max_parallel_tasks = 4;
    options.owner = std::move(owner);
    options.resume = &resumption;
    Result<RunRecord> run = ExecuteRun(job, last_run_, runners_, *store_, options);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? *run : RunRecord{};
  }

  // The last attempt of each task of the last run.
  std::map<std::string, AttemptRecord> Attempts() {
    std::map<std::string, AttemptRecord> by_task;
    Result<std::vector<AttemptRecord>> attempts = store_->ListAttempts(last_run_);
    EXPECT_TRUE(attempts.ok());
    for (const AttemptRecord& a : *attempts) {
      if (!by_task.count(a.task.str()) || by_task[a.task.str()].attempt < a.attempt) {
        by_task[a.task.str()] = a;
      }
    }
    return by_task;
  }

  std::vector<AttemptRecord> AttemptsOf(const std::string& task) {
    std::vector<AttemptRecord> result;
    Result<std::vector<AttemptRecord>> attempts = store_->ListAttempts(last_run_);
    EXPECT_TRUE(attempts.ok());
    for (const AttemptRecord& a : *attempts) {
      if (a.task.str() == task) result.push_back(a);
    }
    return result;
  }

  std::unique_ptr<StateStore> store_;
  TaskRunnerRegistry runners_;
  RunId last_run_;
};

TEST_F(ExecuteRunTest, RunsADiamondAndRecordsEveryTaskInOrder) {
  Job job = MakeJob({Spec("join", "ok", {"left", "right"}), Spec("root", "ok"),
                     Spec("left", "ok", {"root"}), Spec("right", "ok", {"root"})});
  RunOptions options;
  options.owner = "host-a/4242/99";
  RunRecord run = Execute(job, options);
  EXPECT_EQ(run.status, RunStatus::kSucceeded);
  auto a = Attempts();
  ASSERT_EQ(a.size(), 4u);
  for (const auto& [id, attempt] : a) EXPECT_EQ(attempt.state, TaskState::kSucceeded) << id;
  EXPECT_GE(a["left"].started_us, a["root"].ended_us);
  EXPECT_GE(a["join"].started_us, a["left"].ended_us);
  EXPECT_GE(a["join"].started_us, a["right"].ended_us);
  Result<std::optional<RunRecord>> stored = store_->GetRun(run.id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->status, RunStatus::kSucceeded);
  EXPECT_EQ((*stored)->owner, "host-a/4242/99");
}

TEST_F(ExecuteRunTest, StartsATaskAsSoonAsItsOwnUpstreamsFinishNotInWaves) {
  Signal late_started;
  std::atomic<bool> blocker_saw_late{false};
  Register("blocker", [&](const AttemptRequest&, AttemptControl&) {
    blocker_saw_late = late_started.Wait();
    return Ok();
  });
  Register("late", [&](const AttemptRequest&, AttemptControl&) {
    late_started.Set();
    return Ok();
  });
  // `late` depends only on `quick`; with waves it would wait for `blocker`, which waits for it.
  Job job =
      MakeJob({Spec("quick", "ok"), Spec("blocker", "blocker"), Spec("late", "late", {"quick"})});
  RunOptions options;
  options.max_parallel_tasks = 2;
  EXPECT_EQ(Execute(job, options).status, RunStatus::kSucceeded);
  EXPECT_TRUE(blocker_saw_late);
}

TEST_F(ExecuteRunTest, TriggerRulesDecideWhatRunsAfterAFailure) {
  Job job = MakeJob({
      Spec("a", "fail"), Spec("b", "ok", {"a"}),        // all_success -> upstream_failed
      Spec("c", "ok", {"b"}),                           // -> upstream_failed
      Spec("d", "ok", {"a"}, TriggerRule::kOnFailure),  // runs
      Spec("e", "ok", {"a"}, TriggerRule::kAllDone),    // runs
      Spec("f", "ok", {"d"}, TriggerRule::kOnFailure),  // skipped: d succeeded
      Spec("g", "ok", {"f"}),                           // skipped: skips propagate
      Spec("h", "ok", {"f"}, TriggerRule::kAlways),     // runs
      Spec("i", "ok", {"f"}, TriggerRule::kAllDone),    // skipped: f was skipped
  });
  RunRecord run = Execute(job);
  EXPECT_EQ(run.status, RunStatus::kFailed);
  auto a = Attempts();
  EXPECT_EQ(a["a"].state, TaskState::kFailed);
  EXPECT_EQ(a["a"].error, "boom");
  EXPECT_EQ(a["b"].state, TaskState::kUpstreamFailed);
  EXPECT_THAT(a["b"].error, HasSubstr("'a'"));
  EXPECT_EQ(a["c"].state, TaskState::kUpstreamFailed);
  EXPECT_EQ(a["d"].state, TaskState::kSucceeded);
  EXPECT_EQ(a["e"].state, TaskState::kSucceeded);
  EXPECT_EQ(a["f"].state, TaskState::kSkipped);
  EXPECT_EQ(a["g"].state, TaskState::kSkipped);
  EXPECT_EQ(a["h"].state, TaskState::kSucceeded);
  EXPECT_EQ(a["i"].state, TaskState::kSkipped);
  EXPECT_EQ(a["b"].attempt, 0u) << "a task that never ran has only attempt 0";
}

TEST_F(ExecuteRunTest, RunSucceedsWhenOnlySkippedTasksDidNotRun) {
  Job job = MakeJob({Spec("a", "ok"), Spec("on_fail", "ok", {"a"}, TriggerRule::kOnFailure)});
  EXPECT_EQ(Execute(job).status, RunStatus::kSucceeded);
  EXPECT_EQ(Attempts()["on_fail"].state, TaskState::kSkipped);
}

TEST_F(ExecuteRunTest, RetriesUntilSuccessAndRecordsEveryAttempt) {
  std::atomic<int> calls{0};
  Register("flaky", [&](const AttemptRequest& request, AttemptControl&) {
    ++calls;
    return request.attempt < 3 ? Fail("attempt " + std::to_string(request.attempt), 7) : Ok();
  });
  TaskSpec spec = Spec("t", "flaky");
  spec.retry.max_retries = 2;
  Job job = MakeJob({spec});
  EXPECT_EQ(Execute(job).status, RunStatus::kSucceeded);
  EXPECT_EQ(calls, 3);
  std::vector<AttemptRecord> attempts = AttemptsOf("t");
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[0].state, TaskState::kFailed);
  EXPECT_EQ(attempts[0].error, "attempt 1");
  EXPECT_EQ(attempts[0].exit_code, 7);
  EXPECT_EQ(attempts[1].state, TaskState::kFailed);
  EXPECT_EQ(attempts[2].state, TaskState::kSucceeded);
  EXPECT_GT(attempts[2].started_us, 0);
}

TEST_F(ExecuteRunTest, GivesUpAfterMaxRetries) {
  TaskSpec spec = Spec("t", "fail");
  spec.retry.max_retries = 1;
  Job job = MakeJob({spec});
  EXPECT_EQ(Execute(job).status, RunStatus::kFailed);
  EXPECT_EQ(AttemptsOf("t").size(), 2u);
}

TEST_F(ExecuteRunTest, RetryConditionTransientOnlyDoesNotRetryPlainFailures) {
  TaskSpec spec = Spec("t", "fail");
  spec.retry.max_retries = 3;
  spec.retry.condition = RetryCondition::kTransientOnly;
  Job job = MakeJob({spec});
  EXPECT_EQ(Execute(job).status, RunStatus::kFailed);
  EXPECT_EQ(AttemptsOf("t").size(), 1u);
}

TEST_F(ExecuteRunTest, InvalidParamsAreNeverRetriedWhateverTheRetryPolicy) {
  std::atomic<int> calls{0};
  Register("picky", [&](const AttemptRequest&, AttemptControl&) {
    ++calls;
    return AttemptResult{AttemptOutcome::kInvalidParams, {}, "'url' is required"};
  });
  TaskSpec spec = Spec("t", "picky");
  spec.retry.max_retries = 5;
  spec.retry.condition = RetryCondition::kAlways;
  Job job = MakeJob({spec});
  EXPECT_EQ(Execute(job).status, RunStatus::kFailed);
  EXPECT_EQ(calls, 1);
  std::vector<AttemptRecord> attempts = AttemptsOf("t");
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].state, TaskState::kFailed);
  EXPECT_NE(attempts[0].error.find("'url' is required"), std::string::npos) << attempts[0].error;
}

TEST_F(ExecuteRunTest, OutputsFlowDownstreamOnlyFromTasksThatSucceeded) {
  Register("producer", [](const AttemptRequest&, AttemptControl& control) {
    EXPECT_TRUE(control.SetOutput("rows", "42").ok());
    return Ok();
  });
  Register("failing_producer", [](const AttemptRequest&, AttemptControl& control) {
    EXPECT_TRUE(control.SetOutput("rows", "13").ok());
    return Fail("no");
  });
  std::string seen_good;
  bool saw_bad = true;
  Register("consumer", [&](const AttemptRequest& request, AttemptControl&) {
    seen_good = std::string(request.inputs->Get("producer.rows").value_or(""));
    saw_bad = request.inputs->Get("bad.rows").has_value();
    EXPECT_EQ(request.config->at("env"), "prod");
    return Ok();
  });
  Job job = MakeJob({Spec("producer", "producer"), Spec("bad", "failing_producer"),
                     Spec("consumer", "consumer", {"producer", "bad"}, TriggerRule::kAllDone)});
  job.config = std::make_shared<const ValueMap>(ValueMap{{"env", "prod"}});
  Execute(job);
  EXPECT_EQ(seen_good, "42");
  EXPECT_FALSE(saw_bad);
  EXPECT_EQ(Attempts()["producer"].outputs.at("rows"), "42");
}

// Outputs live in memory until the attempt ends, then go to the store and downstream: a plugin
// may not grow them without bound, in number or in bytes. Replacing an output frees its room.
TEST_F(ExecuteRunTest, AnAttemptsOutputsAreBoundedInNumberAndBytes) {
  Register("flood", [](const AttemptRequest&, AttemptControl& control) {
    for (int i = 0; i < 10'000; ++i) {
      EXPECT_TRUE(control.SetOutput("k" + std::to_string(i), "v").ok()) << i;
    }
    const Status one_more = control.SetOutput("one_more", "v");
    EXPECT_EQ(one_more.code(), StatusCode::kResourceExhausted);
    EXPECT_NE(one_more.message().find("at most 10000 outputs"), std::string::npos)
        << one_more.message();
    EXPECT_TRUE(control.SetOutput("k0", "replaced").ok()) << "an existing key may change";
    return Ok();
  });
  Register("big", [](const AttemptRequest&, AttemptControl& control) {
    const std::string eight_mib(size_t{8} << 20, 'x');
    EXPECT_TRUE(control.SetOutput("a", eight_mib).ok());
    const Status second = control.SetOutput("b", eight_mib);
    EXPECT_EQ(second.code(), StatusCode::kResourceExhausted);
    EXPECT_NE(second.message().find("at most 16777216 bytes"), std::string::npos)
        << second.message();
    EXPECT_TRUE(control.SetOutput("a", "small").ok());
    EXPECT_TRUE(control.SetOutput("b", eight_mib).ok()) << "replacing 'a' freed its room";
    return Ok();
  });
  Job job = MakeJob({Spec("flood", "flood"), Spec("big", "big")});
  EXPECT_EQ(Execute(job).status, RunStatus::kSucceeded);
  const auto attempts = Attempts();
  EXPECT_EQ(attempts.at("flood").outputs.size(), 10'000u);
  EXPECT_EQ(attempts.at("flood").outputs.at("k0"), "replaced");
  EXPECT_EQ(attempts.at("flood").outputs.count("one_more"), 0u);
  EXPECT_EQ(attempts.at("big").outputs.at("a"), "small");
  EXPECT_EQ(attempts.at("big").outputs.at("b").size(), size_t{8} << 20);
}

TEST_F(ExecuteRunTest, TimeoutCancelsTheAttemptThroughItsCancelHook) {
  Register("hangs", [](const AttemptRequest&, AttemptControl& control) {
    Signal cancelled;
    control.OnCancel([&] { cancelled.Set(); });
    bool stopped = cancelled.Wait();
    return AttemptResult{stopped ? AttemptOutcome::kCancelled : AttemptOutcome::kSucceeded, {}, ""};
  });
  TaskSpec spec = Spec("t", "hangs");
  spec.timeout = std::chrono::milliseconds(20);
  Job job = MakeJob({spec, Spec("after", "ok", {"t"})});
  EXPECT_EQ(Execute(job).status, RunStatus::kFailed);
  auto a = Attempts();
  EXPECT_EQ(a["t"].state, TaskState::kFailed);
  EXPECT_THAT(a["t"].error, HasSubstr("timed out after 20 ms"));
  EXPECT_EQ(a["after"].state, TaskState::kUpstreamFailed);
}

// On a ManualClock, time moves only when the test says so: an hour passes in microseconds, and
// the test moves the clock once the run has reached the point it checks (never after a sleep).
constexpr int64_t kVirtualStart = int64_t{1'700'000'000} * 1'000'000;
constexpr int64_t kHourUs = int64_t{3600} * 1'000'000;

TEST_F(ExecuteRunTest, AnHourLongTimeoutEndsTheAttemptAtTheVirtualHour) {
  ManualClock clock(kVirtualStart);
  Signal running;
  Register("hangs", [&](const AttemptRequest&, AttemptControl& control) {
    Signal cancelled;
    control.OnCancel([&] { cancelled.Set(); });
    running.Set();
    bool stopped = cancelled.Wait();
    return AttemptResult{stopped ? AttemptOutcome::kCancelled : AttemptOutcome::kSucceeded, {}, ""};
  });
  TaskSpec spec = Spec("t", "hangs");
  spec.timeout = std::chrono::hours(1);
  Job job = MakeJob({spec, Spec("after", "ok", {"t"})});
  RunOptions options;
  options.clock = &clock;
  RunRecord run;
  std::thread executor([&] { run = Execute(job, options); });
  EXPECT_TRUE(running.Wait());
  clock.Advance(kHourUs - 1);  // short of the deadline: the attempt keeps running
  clock.Advance(1);
  executor.join();

  EXPECT_EQ(run.status, RunStatus::kFailed);
  EXPECT_EQ(run.ended_us, kVirtualStart + kHourUs);
  auto a = Attempts();
  EXPECT_EQ(a["t"].state, TaskState::kFailed);
  EXPECT_THAT(a["t"].error, HasSubstr("timed out after 3600000 ms"));
  EXPECT_EQ(a["t"].started_us, kVirtualStart);
  EXPECT_EQ(a["t"].ended_us, kVirtualStart + kHourUs);
  EXPECT_EQ(a["after"].state, TaskState::kUpstreamFailed);
}

// Tells the test when a task is waiting to be retried, and when.
class RetryWatcher final : public RunObserver {
 public:
  void OnTaskRetrying(const TaskSpec&, const AttemptRecord& failed, int64_t retry_at_us) override {
    failed_attempt_ = failed.attempt;
    retry_at_us_ = retry_at_us;
    retrying_.Set();
  }
  // Once Wait() returned true, the values below are those of the first retry.
  bool Wait() { return retrying_.Wait(); }
  uint32_t failed_attempt() const { return failed_attempt_; }
  int64_t retry_at_us() const { return retry_at_us_; }

 private:
  Signal retrying_;
  uint32_t failed_attempt_ = 0;  // written before retrying_ is set
  int64_t retry_at_us_ = 0;      // written before retrying_ is set
};

TEST_F(ExecuteRunTest, AnHourLongRetryDelayRetriesAtTheVirtualHour) {
  ManualClock clock(kVirtualStart);
  std::atomic<int> calls{0};
  Register("flaky", [&](const AttemptRequest& request, AttemptControl&) {
    ++calls;
    return request.attempt == 1 ? Fail("first attempt") : Ok();
  });
  TaskSpec spec = Spec("t", "flaky");
  spec.retry.max_retries = 1;
  spec.retry.delay = std::chrono::hours(1);
  Job job = MakeJob({spec});
  RetryWatcher watcher;
  RunOptions options;
  options.clock = &clock;
  options.observer = &watcher;
  RunRecord run;
  std::thread executor([&] { run = Execute(job, options); });
  const bool retrying = watcher.Wait();
  EXPECT_TRUE(retrying);
  if (retrying) {
    EXPECT_EQ(watcher.failed_attempt(), 1u);
    EXPECT_EQ(watcher.retry_at_us(), kVirtualStart + kHourUs);
  }
  EXPECT_EQ(calls, 1) << "the retry waits for the clock";
  clock.Advance(kHourUs - 1);
  clock.Advance(1);
  executor.join();

  EXPECT_EQ(run.status, RunStatus::kSucceeded);
  EXPECT_EQ(calls, 2);
  std::vector<AttemptRecord> attempts = AttemptsOf("t");
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].state, TaskState::kFailed);
  EXPECT_EQ(attempts[0].ended_us, kVirtualStart);
  EXPECT_EQ(attempts[1].state, TaskState::kSucceeded);
  EXPECT_EQ(attempts[1].queued_us, kVirtualStart + kHourUs);
  EXPECT_EQ(attempts[1].started_us, kVirtualStart + kHourUs);
}

TEST_F(ExecuteRunTest, CancellingTheRunStopsRunningTasksAndNeverStartsTheRest) {
  RunCanceller canceller;
  std::atomic<int> later_calls{0};
  Register("cancels_run", [&](const AttemptRequest&, AttemptControl& control) {
    Signal cancelled;
    control.OnCancel([&] { cancelled.Set(); });
    canceller.Cancel();
    bool stopped = cancelled.Wait();
    return AttemptResult{stopped ? AttemptOutcome::kCancelled : AttemptOutcome::kFailed, {}, ""};
  });
  Register("later", [&](const AttemptRequest&, AttemptControl&) {
    ++later_calls;
    return Ok();
  });
  Job job = MakeJob({Spec("first", "cancels_run"), Spec("second", "later", {"first"}),
                     Spec("third", "later", {"second"})});
  RunOptions options;
  options.canceller = &canceller;
  RunRecord run = Execute(job, options);
  EXPECT_EQ(run.status, RunStatus::kCancelled);
  EXPECT_EQ(later_calls, 0);
  auto a = Attempts();
  EXPECT_EQ(a["first"].state, TaskState::kCancelled);
  EXPECT_EQ(a["second"].state, TaskState::kCancelled);
  EXPECT_EQ(a["third"].state, TaskState::kCancelled);
}

TEST_F(ExecuteRunTest, CapturedOutputIsStoredInChunksAndCappedWithAMarker) {
  constexpr size_t kCap = 100 * 1024;
  Register("chatty", [](const AttemptRequest&, AttemptControl& control) {
    std::string block(10 * 1024, 'x');
    for (int i = 0; i < 30; ++i) control.AppendOutput(OutputStream::kStdout, block);
    control.AppendOutput(OutputStream::kStderr, "a warning\n");
    return Ok();
  });
  Job job = MakeJob({Spec("t", "chatty")});
  RunOptions options;
  options.output_cap_bytes = kCap;
  Execute(job, options);
  LogQuery query;
  query.task = TaskId("t");
  query.limit = SIZE_MAX;
  Result<std::vector<LogChunk>> chunks = store_->ReadLogs(last_run_, query);
  ASSERT_TRUE(chunks.ok());
  std::string out, err;
  for (const LogChunk& chunk : *chunks) {
    (chunk.stream == OutputStream::kStdout ? out : err) += chunk.data;
  }
  EXPECT_EQ(std::count(out.begin(), out.end(), 'x'), static_cast<long>(kCap));
  EXPECT_THAT(out, HasSubstr("output truncated"));
  EXPECT_EQ(err, "a warning\n");
}

TEST_F(ExecuteRunTest, ATasksOwnOutputCapOverridesTheRunsCap) {
  Register("chatty", [](const AttemptRequest&, AttemptControl& control) {
    control.AppendOutput(OutputStream::kStdout, std::string(5000, 'x'));
    return Ok();
  });
  TaskSpec capped = Spec("capped", "chatty");
  capped.output_cap_bytes = 1024;
  Job job = MakeJob({capped, Spec("free", "chatty")});
  RunOptions options;
  options.output_cap_bytes = 4096;
  Execute(job, options);
  auto stdout_of = [&](const std::string& task) {
    LogQuery query;
    query.task = TaskId(task);
    query.limit = SIZE_MAX;
    Result<std::vector<LogChunk>> chunks = store_->ReadLogs(last_run_, query);
    std::string out;
    if (chunks.ok()) {
      for (const LogChunk& chunk : *chunks) out += chunk.data;
    }
    return out;
  };
  const std::string capped_out = stdout_of("capped");
  const std::string free_out = stdout_of("free");
  EXPECT_EQ(std::count(capped_out.begin(), capped_out.end(), 'x'), 1024);
  EXPECT_THAT(capped_out, HasSubstr("more than 1024 bytes"));
  EXPECT_EQ(std::count(free_out.begin(), free_out.end(), 'x'), 4096);
}

TEST_F(ExecuteRunTest, NeverRunsMoreTasksAtOnceThanTheLimit) {
  std::mutex mu;
  int running = 0;
  int peak = 0;
  Register("counted", [&](const AttemptRequest&, AttemptControl&) {
    {
      std::lock_guard lock(mu);
      peak = std::max(peak, ++running);
    }
    std::lock_guard lock(mu);
    --running;
    return Ok();
  });
  std::vector<TaskSpec> specs;
  for (int i = 0; i < 50; ++i) specs.push_back(Spec("t" + std::to_string(i), "counted"));
  Job job = MakeJob(specs);
  RunOptions options;
  options.max_parallel_tasks = 3;
  EXPECT_EQ(Execute(job, options).status, RunStatus::kSucceeded);
  EXPECT_LE(peak, 3);
}

TEST_F(ExecuteRunTest, HigherPriorityReadyTasksStartFirst) {
  std::mutex mu;
  std::vector<std::string> order;
  Register("record", [&](const AttemptRequest& request, AttemptControl&) {
    std::lock_guard lock(mu);
    order.push_back(request.task.str());
    return Ok();
  });
  TaskSpec low = Spec("low", "record");
  TaskSpec high = Spec("high", "record");
  high.priority = 10;
  TaskSpec mid = Spec("mid", "record");
  mid.priority = 5;
  Job job = MakeJob({low, high, mid});
  RunOptions options;
  options.max_parallel_tasks = 1;
  Execute(job, options);
  EXPECT_EQ(order, (std::vector<std::string>{"high", "mid", "low"}));
}

TEST_F(ExecuteRunTest, UnknownTaskTypeIsRefusedBeforeTheRunIsCreated) {
  Job job = MakeJob({Spec("t", "nonexistent")});
  Result<RunRecord> run = ExecuteRun(job, RunId::Generate(), runners_, *store_, {});
  ASSERT_FALSE(run.ok());
  EXPECT_THAT(run.status().message(), HasSubstr("task 't' has unknown type 'nonexistent'"));
  EXPECT_TRUE(store_->ListRuns(JobId(), 10)->empty());
}

TEST_F(ExecuteRunTest, AnAdmittedRunThatCannotStartEndsFailedWithAJobCompletedEvent) {
  EventBus bus;
  std::mutex mu;
  std::vector<petit::Event> seen;
  bus.Subscribe([&](const petit::Event& event) {
    std::lock_guard lock(mu);
    seen.push_back(event);
  });
  Job job = MakeJob({Spec("t", "nonexistent")});
  RunRecord admitted;
  admitted.id = RunId::Generate();
  admitted.job = job.id;
  admitted.status = RunStatus::kQueued;
  ASSERT_TRUE(store_->CreateRun(admitted).ok());
  RunOptions options;
  options.admitted = &admitted;
  options.events = &bus;
  ASSERT_FALSE(ExecuteRun(job, admitted.id, runners_, *store_, options).ok());
  bus.Flush();
  EXPECT_EQ((*store_->GetRun(admitted.id))->status, RunStatus::kFailed);
  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].type, EventType::kJobCompleted);
  EXPECT_EQ(seen[0].run, admitted.id);
  EXPECT_EQ(seen[0].job, job.id);
  EXPECT_EQ(seen[0].detail, "failed");
}

TEST_F(ExecuteRunTest, ALongChainSettlesWithoutRecursion) {
  std::vector<TaskSpec> specs{Spec("t0", "fail")};
  for (int i = 1; i < 5000; ++i) {
    specs.push_back(Spec("t" + std::to_string(i), "ok", {"t" + std::to_string(i - 1)}));
  }
  Job job = MakeJob(specs);
  EXPECT_EQ(Execute(job).status, RunStatus::kFailed);
  EXPECT_EQ(Attempts()["t4999"].state, TaskState::kUpstreamFailed);
}

TEST_F(ExecuteRunTest, TaskWaitingForResourcesIsQueuedNotRunningAndHoldsNoWorker) {
  Result<std::unique_ptr<ResourceManager>> pools = ResourceManager::Create({{{"gpu", 1}}});
  ASSERT_TRUE(pools.ok());
  Signal holder_started;
  Signal release_holder;
  Signal free_task_ran;
  Register("holds_gpu", [&](const AttemptRequest&, AttemptControl&) {
    holder_started.Set();
    release_holder.Wait();
    return Ok();
  });
  Register("free", [&](const AttemptRequest&, AttemptControl&) {
    free_task_ran.Set();
    return Ok();
  });
  TaskSpec holder = Spec("holder", "holds_gpu");
  holder.resources.slots = {{"gpu", 1}};
  holder.priority = 10;  // starts first
  TaskSpec waiter = Spec("waiter", "ok");
  waiter.resources.slots = {{"gpu", 1}};
  waiter.priority = 5;
  TaskSpec free = Spec("free", "free");

  Job job = MakeJob({holder, waiter, free});
  RunOptions options;
  options.max_parallel_tasks = 2;
  options.resources = pools->get();
  RunId run_id = RunId::Generate();
  std::thread checker([&] {
    // While `holder` has the only gpu slot, `waiter` is recorded as queued and `free` still runs
    // on the second worker: a task waiting for slots does not take a worker.
    EXPECT_TRUE(holder_started.Wait());
    EXPECT_TRUE(free_task_ran.Wait());
    Result<std::vector<AttemptRecord>> attempts = store_->ListAttempts(run_id);
    ASSERT_TRUE(attempts.ok());
    bool waiter_queued = false;
    for (const AttemptRecord& a : *attempts) {
      if (a.task.str() == "waiter") waiter_queued = a.state == TaskState::kQueued;
    }
    EXPECT_TRUE(waiter_queued);
    release_holder.Set();
  });
  Result<RunRecord> run = ExecuteRun(job, run_id, runners_, *store_, options);
  checker.join();
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->status, RunStatus::kSucceeded);
  last_run_ = run_id;
  auto a = Attempts();
  EXPECT_GE(a["waiter"].started_us, a["holder"].ended_us);
  EXPECT_LT(a["waiter"].queued_us, a["waiter"].started_us);
  EXPECT_EQ(a["waiter"].attempt, 1u);
}

TEST_F(ExecuteRunTest, RunsSharingAHostWideTaskLimitWaitForEachOther) {
  ResourceCapacity capacity;
  capacity.max_tasks = 1;
  Result<std::unique_ptr<ResourceManager>> pools = ResourceManager::Create(capacity);
  ASSERT_TRUE(pools.ok());
  Signal holder_started;
  Signal release_holder;
  std::atomic<int> other_ran{0};
  Register("hold", [&](const AttemptRequest&, AttemptControl&) {
    holder_started.Set();
    release_holder.Wait();
    return Ok();
  });
  Register("other", [&](const AttemptRequest&, AttemptControl&) {
    ++other_ran;
    return Ok();
  });
  Job first = MakeJob({Spec("holder", "hold")});
  Job second = MakeJob({Spec("a", "other"), Spec("b", "other")});
  second.id = JobId("second");
  RunOptions options;
  options.max_parallel_tasks = 4;
  options.resources = pools->get();

  std::thread first_run([&] {
    Result<RunRecord> run = ExecuteRun(first, RunId::Generate(), runners_, *store_, options);
    EXPECT_TRUE(run.ok() && run->status == RunStatus::kSucceeded);
  });
  ASSERT_TRUE(holder_started.Wait());
  RunId second_id = RunId::Generate();
  std::thread second_run([&] {
    Result<RunRecord> run = ExecuteRun(second, second_id, runners_, *store_, options);
    EXPECT_TRUE(run.ok() && run->status == RunStatus::kSucceeded);
  });
  // The second run asks for the host's only task slot once per free worker of its own, so
  // both its tasks end up waiting, recorded as queued, while the first run holds the slot.
  auto deadline = std::chrono::steady_clock::now() + kBrokenAfter;
  while (pools->get()->waiting() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(pools->get()->waiting(), 2u);
  EXPECT_EQ(other_ran, 0);
  release_holder.Set();
  first_run.join();
  second_run.join();
  EXPECT_EQ(other_ran, 2);
  last_run_ = second_id;
  for (const auto& [task, attempt] : Attempts()) {
    EXPECT_EQ(attempt.state, TaskState::kSucceeded) << task;
    EXPECT_LT(attempt.queued_us, attempt.started_us) << task;
  }
}

TEST_F(ExecuteRunTest, OneTaskSlotRunsTasksOneAtATimeAndLeavesNothingWaiting) {
  ResourceCapacity capacity;
  capacity.max_tasks = 1;
  Result<std::unique_ptr<ResourceManager>> pools = ResourceManager::Create(capacity);
  ASSERT_TRUE(pools.ok());
  std::atomic<int> active{0};
  std::atomic<int> most{0};
  Register("count", [&](const AttemptRequest&, AttemptControl&) {
    int now = ++active;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    --active;
    return Ok();
  });
  Job job = MakeJob({Spec("a", "count"), Spec("b", "count"), Spec("c", "count", {"a"})});
  RunOptions options;
  options.max_parallel_tasks = 4;
  options.resources = pools->get();
  EXPECT_EQ(Execute(job, options).status, RunStatus::kSucceeded);
  EXPECT_EQ(most, 1);
  EXPECT_EQ(pools->get()->waiting(), 0u);
  for (const auto& [task, attempt] : Attempts()) {
    EXPECT_EQ(attempt.state, TaskState::kSucceeded) << task;
  }
}

TEST(RunCancellerTest, CancelRunsEveryWakeupOnceAndLateOnesAtOnce) {
  RunCanceller canceller;
  int first = 0;
  int removed = 0;
  RunCanceller::WakeupId id = canceller.AddWakeup([&] { ++first; });
  RunCanceller::WakeupId gone = canceller.AddWakeup([&] { ++removed; });
  canceller.RemoveWakeup(gone);
  EXPECT_EQ(first, 0);
  canceller.Cancel();
  canceller.Cancel();
  EXPECT_TRUE(canceller.cancelled());
  EXPECT_EQ(first, 1);
  EXPECT_EQ(removed, 0);
  int late = 0;
  canceller.RemoveWakeup(canceller.AddWakeup([&] { ++late; }));
  EXPECT_EQ(late, 1);
  canceller.RemoveWakeup(id);
}

// Checks, from inside each callback, that what it reports is already in the store.
class StoredBeforeToldObserver final : public RunObserver {
 public:
  StoredBeforeToldObserver(StateStore& store, const RunId& run) : store_(store), run_(run) {}

  void OnTaskStarted(const TaskSpec& task, uint32_t attempt) override {
    Expect(task, attempt, TaskState::kRunning);
  }
  void OnTaskFinished(const TaskSpec& task, const AttemptRecord& attempt) override {
    Expect(task, attempt.attempt, attempt.state);
  }
  void OnTaskRetrying(const TaskSpec& task, const AttemptRecord& failed, int64_t) override {
    Expect(task, failed.attempt, failed.state);
  }
  int told() const { return told_; }

 private:
  void Expect(const TaskSpec& task, uint32_t attempt, TaskState state) {
    ++told_;
    Result<std::vector<AttemptRecord>> stored = store_.ListAttempts(run_);
    ASSERT_TRUE(stored.ok());
    bool found = false;
    for (const AttemptRecord& record : *stored) {
      if (record.task == task.id && record.attempt == attempt) found = record.state == state;
    }
    EXPECT_TRUE(found) << task.id.str() << " attempt " << attempt << " was reported as "
                       << TaskStateName(state) << " before it was saved";
  }

  StateStore& store_;
  const RunId run_;
  int told_ = 0;
};

TEST_F(ExecuteRunTest, ObserversHearOfATransitionOnlyOnceItIsSaved) {
  std::atomic<int> calls{0};
  Register("flaky", [&](const AttemptRequest&, AttemptControl&) {
    return ++calls == 1 ? Fail("first time") : Ok();
  });
  TaskSpec flaky = Spec("flaky", "flaky");
  flaky.retry.max_retries = 1;
  Job job = MakeJob({Spec("a", "ok"), flaky, Spec("b", "fail", {"a"}), Spec("c", "ok", {"b"})});
  RunId run_id = RunId::Generate();
  StoredBeforeToldObserver observer(*store_, run_id);
  RunOptions options;
  options.max_parallel_tasks = 2;
  options.observer = &observer;
  Result<RunRecord> run = ExecuteRun(job, run_id, runners_, *store_, options);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  // Started: a, flaky twice, b. Finished: a, flaky, b, c (upstream_failed). Retrying: flaky.
  EXPECT_EQ(observer.told(), 4 + 4 + 1);
}

TEST_F(ExecuteRunTest, ImpossibleResourcesAreRefusedBeforeTheRunStarts) {
  Result<std::unique_ptr<ResourceManager>> pools = ResourceManager::Create({{{"gpu", 1}}});
  ASSERT_TRUE(pools.ok());
  TaskSpec greedy = Spec("greedy", "ok");
  greedy.resources.slots = {{"gpu", 2}};
  TaskSpec typo = Spec("typo", "ok");
  typo.resources.slots = {{"gpx", 1}};
  Job job = MakeJob({greedy, typo});
  RunOptions options;
  options.resources = pools->get();
  Result<RunRecord> run = ExecuteRun(job, RunId::Generate(), runners_, *store_, options);
  ASSERT_FALSE(run.ok());
  EXPECT_THAT(run.status().message(), HasSubstr("task 'greedy'"));
  EXPECT_THAT(run.status().message(), HasSubstr("task 'typo'"));
  EXPECT_THAT(run.status().message(), HasSubstr("gpu"));
}

TEST_F(ExecuteRunTest, PublishesTaskAndJobEventsInOrderWithIds) {
  EventBus bus;
  std::mutex mu;
  std::vector<petit::Event> seen;
  bus.Subscribe([&](const petit::Event& event) {
    std::lock_guard lock(mu);
    seen.push_back(event);
  });
  TaskSpec flaky = Spec("flaky", "fail");
  flaky.retry.max_retries = 1;
  Job job = MakeJob({Spec("a", "ok"), flaky, Spec("b", "ok", {"flaky"})});
  RunOptions options;
  options.max_parallel_tasks = 1;
  options.events = &bus;
  RunRecord run = Execute(job, options);
  bus.Flush();
  std::lock_guard lock(mu);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front().type, EventType::kJobStarted);
  EXPECT_EQ(seen.back().type, EventType::kJobCompleted);
  EXPECT_EQ(seen.back().detail, "failed");
  std::map<std::string, std::vector<EventType>> by_task;
  int64_t last_time = 0;
  for (const petit::Event& event : seen) {
    EXPECT_EQ(event.run, run.id);
    EXPECT_EQ(event.job.str(), "job");
    EXPECT_GE(event.time_us, last_time);
    last_time = event.time_us;
    if (!event.task.empty()) by_task[event.task.str()].push_back(event.type);
  }
  EXPECT_EQ(by_task["a"], (std::vector<EventType>{EventType::kTaskQueued, EventType::kTaskStarted,
                                                  EventType::kTaskSucceeded}));
  EXPECT_EQ(by_task["flaky"],
            (std::vector<EventType>{EventType::kTaskQueued, EventType::kTaskStarted,
                                    EventType::kTaskRetrying, EventType::kTaskQueued,
                                    EventType::kTaskStarted, EventType::kTaskFailed}));
  EXPECT_EQ(by_task["b"], (std::vector<EventType>{EventType::kTaskSkipped}));
}

TEST_F(ExecuteRunTest, TemplatesInParametersSeeUpstreamOutputsConfigAndRunId) {
  Register("producer", [](const AttemptRequest&, AttemptControl& control) {
    EXPECT_TRUE(control.SetOutput("path", "/data/\"x\"").ok());
    return Ok();
  });
  std::string params_seen;
  Register("consumer", [&](const AttemptRequest& request, AttemptControl&) {
    params_seen = request.params_json;
    return Ok();
  });
  TaskSpec consumer = Spec("consumer", "consumer", {"producer"});
  consumer.params_json =
      R"({"args":["${{ tasks.producer.outputs.path }}","${{ config.env }}","${{ run.id }}"]})";
  Job job = MakeJob({Spec("producer", "producer"), consumer});
  job.config = std::make_shared<const ValueMap>(ValueMap{{"env", "prod"}});
  RunRecord run = Execute(job);
  EXPECT_EQ(run.status, RunStatus::kSucceeded);
  EXPECT_EQ(params_seen, R"({"args":["/data/\"x\"","prod",")" + run.id.str() + R"("]})");
}

TEST_F(ExecuteRunTest, ATemplateThatCannotBeExpandedFailsTheTaskWithoutRetry) {
  std::atomic<int> calls{0};
  Register("counted", [&](const AttemptRequest&, AttemptControl&) {
    ++calls;
    return Ok();
  });
  TaskSpec task = Spec("t", "counted");
  task.params_json = R"({"x":"${{ tasks.nowhere.outputs.y }}"})";
  task.retry.max_retries = 3;
  Job job = MakeJob({task});
  EXPECT_EQ(Execute(job).status, RunStatus::kFailed);
  EXPECT_EQ(calls, 0);
  std::vector<AttemptRecord> attempts = AttemptsOf("t");
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].state, TaskState::kFailed);
  EXPECT_THAT(attempts[0].error, HasSubstr("nowhere"));
}

// A job whose middle task fails until `healed` is set: extract -> transform -> load, and
// extract -> audit. extract counts its runs and sets an output that load reads.
class RetryTest : public ExecuteRunTest {
 protected:
  void SetUp() override {
    ExecuteRunTest::SetUp();
    Register("extract", [this](const AttemptRequest&, AttemptControl& control) {
      ++extract_runs_;
      EXPECT_TRUE(control.SetOutput("rows", "42").ok());
      return Ok();
    });
    Register("transform", [this](const AttemptRequest&, AttemptControl&) {
      ++transform_runs_;
      return healed_ ? Ok() : Fail("bad input");
    });
    Register("load", [this](const AttemptRequest& request, AttemptControl&) {
      loaded_rows_ = std::string(request.inputs->Get("extract.rows").value_or("missing"));
      return Ok();
    });
  }

  Job Pipeline() {
    return MakeJob({Spec("extract", "extract"), Spec("transform", "transform", {"extract"}),
                    Spec("load", "load", {"transform"}), Spec("audit", "ok", {"extract"})});
  }

  std::atomic<int> extract_runs_{0};
  std::atomic<int> transform_runs_{0};
  std::atomic<bool> healed_{false};
  std::string loaded_rows_;  // written by load's attempt, read once the run has ended
};

TEST_F(RetryTest, ARetryRunsTheFailedTaskAndItsDownstreamKeepingTheRestAndTheirOutputs) {
  Job job = Pipeline();
  RunRecord first = Execute(job);
  ASSERT_EQ(first.status, RunStatus::kFailed);
  healed_ = true;
  RunRecord retried = Retry(job);
  EXPECT_EQ(retried.id, first.id);
  EXPECT_EQ(retried.status, RunStatus::kSucceeded);
  EXPECT_EQ(extract_runs_, 1);  // kept, not run again
  EXPECT_EQ(transform_runs_, 2);
  EXPECT_EQ(loaded_rows_, "42");  // the kept task's output reached the rerun downstream task
  auto last = Attempts();
  EXPECT_EQ(last["extract"].attempt, 1u);
  EXPECT_EQ(last["transform"].attempt, 2u);  // attempt numbers continue
  EXPECT_EQ(last["transform"].state, TaskState::kSucceeded);
  EXPECT_EQ(last["load"].state, TaskState::kSucceeded);
  EXPECT_EQ(last["audit"].attempt, 1u);
}

TEST_F(RetryTest, TheRunRecordsThatItWasRetriedAndByWhom) {
  Job job = Pipeline();
  RunRecord first = Execute(job);
  healed_ = true;
  RunRecord retried = Retry(job, {}, "host-b/77/5");
  EXPECT_EQ(retried.retries, 1u);
  EXPECT_GE(retried.retried_us, first.ended_us);
  EXPECT_EQ(retried.created_us, first.created_us);
  EXPECT_EQ(retried.trigger, first.trigger);
  EXPECT_GE(retried.ended_us, retried.retried_us);
  Result<std::optional<RunRecord>> stored = store_->GetRun(first.id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->status, RunStatus::kSucceeded);
  EXPECT_EQ((*stored)->owner, "host-b/77/5");
  EXPECT_EQ((*stored)->retries, 1u);
}

TEST_F(RetryTest, ARetryThatFailsAgainEndsFailedWithTheNextAttemptNumbers) {
  Job job = Pipeline();
  Execute(job);
  RunRecord retried = Retry(job);
  EXPECT_EQ(retried.status, RunStatus::kFailed);
  std::vector<AttemptRecord> transform = AttemptsOf("transform");
  ASSERT_EQ(transform.size(), 2u);
  EXPECT_EQ(transform[1].attempt, 2u);
  EXPECT_EQ(transform[1].state, TaskState::kFailed);
  auto last = Attempts();
  EXPECT_EQ(last["load"].state, TaskState::kUpstreamFailed);
}

TEST_F(RetryTest, FromATaskRerunsItAndItsDownstreamEvenWhenTheySucceeded) {
  healed_ = true;
  Job job = Pipeline();
  ASSERT_EQ(Execute(job).status, RunStatus::kSucceeded);
  RunRecord retried = Retry(job, {RetryScope::kFromTask, TaskId("transform")});
  EXPECT_EQ(retried.status, RunStatus::kSucceeded);
  EXPECT_EQ(extract_runs_, 1);
  EXPECT_EQ(transform_runs_, 2);
  EXPECT_EQ(Attempts()["load"].attempt, 2u);
  EXPECT_EQ(Attempts()["audit"].attempt, 1u);
}

TEST_F(RetryTest, OnlyATaskRerunsThatTaskAndLeavesItsDownstreamAsItWas) {
  Job job = Pipeline();
  Execute(job);
  healed_ = true;
  RunRecord retried = Retry(job, {RetryScope::kOnlyTask, TaskId("transform")});
  EXPECT_EQ(Attempts()["transform"].state, TaskState::kSucceeded);
  EXPECT_EQ(Attempts()["load"].state, TaskState::kUpstreamFailed);
  EXPECT_EQ(Attempts()["load"].attempt, 0u);
  // load never ran: the run is not all succeeded, but nothing failed in it any more.
  EXPECT_EQ(retried.status, RunStatus::kSucceeded);
}

TEST_F(RetryTest, ARunThatHasNotEndedCannotBeReopenedAndNothingRuns) {
  Job job = Pipeline();
  Execute(job);
  Result<std::optional<RunRecord>> stored = store_->GetRun(last_run_);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  RunRecord running = **stored;
  running.status = RunStatus::kRunning;
  running.ended_us = 0;
  ASSERT_TRUE(store_->UpdateRun(running).ok());
  Result<std::vector<AttemptRecord>> attempts = store_->ListAttempts(last_run_);
  Result<RetryPlan> plan = PlanRetry(job.dag, *attempts, {});
  ASSERT_TRUE(plan.ok());
  RunResumption resumption{*plan, *attempts};
  RunOptions options;
  options.resume = &resumption;
  Result<RunRecord> run = ExecuteRun(job, last_run_, runners_, *store_, options);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(transform_runs_, 1);
}

TEST_F(RetryTest, RecoveryInterruptsATaskWithoutRetriesAndFinishesTheRunByTheRules) {
  Job job = Pipeline();
  Execute(job);
  // As if the host had died while transform ran: its attempt is interrupted, load never ran.
  RunResumption resumption;
  Result<std::vector<AttemptRecord>> stored = store_->ListAttempts(last_run_);
  ASSERT_TRUE(stored.ok());
  std::vector<AttemptRecord> attempts = *stored;
  attempts.erase(std::remove_if(attempts.begin(), attempts.end(),
                                [](const AttemptRecord& a) { return a.task.str() == "load"; }),
                 attempts.end());
  for (AttemptRecord& a : attempts) {
    if (a.task.str() == "transform") a.state = TaskState::kInterrupted;
  }
  resumption.plan = PlanRecovery(job.dag, attempts);
  resumption.attempts = attempts;
  RunOptions options;
  options.resume = &resumption;
  Result<RunRecord> run = ExecuteRun(job, last_run_, runners_, *store_, options);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->status, RunStatus::kFailed);
  EXPECT_EQ(transform_runs_, 1);  // not retried: its policy allows no retry
  // The usual trigger rule: an interrupted upstream skips an all_success task.
  EXPECT_EQ(Attempts()["load"].state, TaskState::kSkipped);
}

// RunOptions::on_idle: what a virtual-time harness (petit::testing) waits for before it moves the
// clock. The run reports that it sleeps, until its next timer, only once the completion it
// waited for was taken, and counts the completions posted to it.
TEST_F(ExecuteRunTest, OnIdleReportsTheSleepUntilTheNextTimerAndCountsCompletions) {
  ManualClock clock(kVirtualStart);
  Register("flaky", [&](const AttemptRequest& request, AttemptControl&) {
    return request.attempt == 1 ? Fail("first attempt") : Ok();
  });
  TaskSpec spec = Spec("t", "flaky");
  spec.retry.max_retries = 1;
  spec.retry.delay = std::chrono::seconds(5);
  Job job = MakeJob({spec});
  std::mutex mu;
  std::condition_variable cv;
  std::vector<RunIdleState> states;  // guarded by mu
  RunOptions options;
  options.clock = &clock;
  options.on_idle = [&](const RunIdleState& state) {
    std::lock_guard lock(mu);
    states.push_back(state);
    cv.notify_all();
  };
  RunRecord run;
  std::thread executor([&] { run = Execute(job, options); });
  {
    // Asleep until the retry, the first attempt's completion taken.
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kBrokenAfter, [&] {
      return !states.empty() && states.back().idle &&
             states.back().deadline_us == kVirtualStart + 5'000'000;
    }));
    EXPECT_EQ(states.back().completions, 1u);
  }
  clock.Advance(5'000'000);
  executor.join();
  EXPECT_EQ(run.status, RunStatus::kSucceeded);
  std::lock_guard lock(mu);
  // Every posted completion was reported as it was posted, not idle, and counted.
  EXPECT_FALSE(states.back().idle);
  EXPECT_EQ(states.back().completions, 2u);
  for (size_t i = 1; i < states.size(); ++i) {
    EXPECT_GE(states[i].completions, states[i - 1].completions);
    if (states[i].completions != states[i - 1].completions) {
      EXPECT_FALSE(states[i].idle);
    }
  }
}

}  // namespace
}  // namespace petit
