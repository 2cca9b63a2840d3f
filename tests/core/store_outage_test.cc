// A store that stops answering mid-run, on a virtual clock: runs wait for it with backoff while
// their tasks go on, write what they decided in order once it answers, and give up (cancelling
// their tasks) past the outage limit. The store is a FlakyStateStore over the memory store; every
// wait is on an event (a failed write, a task starting), never on time.
#include "petit/core/store_outage.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/flaky_state_store.h"
#include "core/fn_runner.h"
#include "petit/core/execute_run.h"
#include "petit/storage/open.h"

namespace petit {
namespace {

using ::petit::testing::FlakyStateStore;
using ::testing::HasSubstr;

constexpr auto kBrokenAfter = std::chrono::seconds(60);
constexpr int64_t kStartUs = 1'700'000'000'000'000;
constexpr std::chrono::milliseconds kMaxBackoff{1000};
constexpr std::chrono::seconds kLimit{10};

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
  bool is_set() {
    std::lock_guard lock(mu_);
    return set_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

using testing::FnRunner;

AttemptResult Ok() { return {AttemptOutcome::kSucceeded, 0, ""}; }

TaskSpec Spec(const std::string& id, const std::string& type, std::vector<std::string> deps = {}) {
  TaskSpec spec;
  spec.id = TaskId(id);
  spec.name = id;
  spec.type = type;
  for (const std::string& dep : deps) spec.depends_on.emplace_back(dep);
  return spec;
}

bool Holds(const std::vector<AttemptRecord>& batch, const std::string& task, TaskState state) {
  for (const AttemptRecord& record : batch) {
    if (record.task.str() == task && record.state == state) return true;
  }
  return false;
}

class StoreOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore("memory:");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    inner_ = std::move(store).value();
    flaky_ = std::make_unique<FlakyStateStore>(*inner_);
    options_.max_parallel_tasks = 4;
    options_.clock = &clock_;
    options_.store_outage.limit = kLimit;
    options_.store_outage.first_backoff = std::chrono::milliseconds(100);
    options_.store_outage.max_backoff = kMaxBackoff;
    options_.store_health = &health_;
  }

  void TearDown() override {
    if (thread_.joinable()) thread_.join();
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

  // Runs `job` on a thread of its own; Result() waits for it.
  void Start(const Job& job) {
    run_id_ = RunId::Generate();
    thread_ = std::thread([this, &job] {
      result_.emplace(ExecuteRun(job, run_id_, runners_, *flaky_, options_));
      done_.Set();
    });
  }
  const Result<RunRecord>& Finished() {
    EXPECT_TRUE(done_.Wait()) << "the run never ended";
    thread_.join();
    return *result_;
  }

  // Moves the clock past any backoff and waits for the retry it causes to fail, `times` times.
  void AdvanceThroughFailures(int times) {
    for (int i = 0; i < times; ++i) {
      const uint64_t seen = flaky_->failures();
      clock_.Advance(std::chrono::microseconds(kMaxBackoff).count());
      ASSERT_TRUE(flaky_->WaitForFailures(seen + 1)) << "no retry after the clock moved";
    }
  }

  // Heals the store and lets the run's pending retry happen.
  void Heal() {
    flaky_->Heal();
    clock_.Advance(std::chrono::microseconds(kMaxBackoff).count());
  }

  std::map<std::string, AttemptRecord> LastAttempts() {
    std::map<std::string, AttemptRecord> last;
    Result<std::vector<AttemptRecord>> attempts = inner_->ListAttempts(run_id_);
    EXPECT_TRUE(attempts.ok());
    for (const AttemptRecord& a : *attempts) {
      if (!last.contains(a.task.str()) || last[a.task.str()].attempt < a.attempt) {
        last[a.task.str()] = a;
      }
    }
    return last;
  }

  std::optional<RunRecord> StoredRun() {
    Result<std::optional<RunRecord>> run = inner_->GetRun(run_id_);
    EXPECT_TRUE(run.ok());
    return run.ok() ? *run : std::nullopt;
  }

  std::unique_ptr<StateStore> inner_;
  std::unique_ptr<FlakyStateStore> flaky_;
  ManualClock clock_{kStartUs};
  StoreHealth health_;
  RunOptions options_;
  TaskRunnerRegistry runners_;
  RunId run_id_;
  std::thread thread_;
  std::optional<Result<RunRecord>> result_;
  Signal done_;
};

TEST(StoreOutagePolicyTest, BackoffDoublesFromTheFirstWaitUpToItsCap) {
  StoreOutagePolicy policy;
  policy.first_backoff = std::chrono::milliseconds(100);
  policy.max_backoff = std::chrono::milliseconds(1000);
  EXPECT_EQ(policy.BackoffUs(1), 100'000);
  EXPECT_EQ(policy.BackoffUs(2), 200'000);
  EXPECT_EQ(policy.BackoffUs(4), 800'000);
  EXPECT_EQ(policy.BackoffUs(5), 1'000'000);
  EXPECT_EQ(policy.BackoffUs(1'000'000), 1'000'000);
}

TEST(StoreOutagePolicyTest, OnlyUnreachableOrBrokenStoresCountAsOutages) {
  EXPECT_TRUE(IsStoreOutage(Unavailable("lost the connection")));
  EXPECT_TRUE(IsStoreOutage(Internal("disk full")));
  EXPECT_FALSE(IsStoreOutage(AlreadyExists("run exists")));
  EXPECT_FALSE(IsStoreOutage(NotFound("no such run")));
  EXPECT_FALSE(IsStoreOutage(InvalidArgument("bad id")));
}

TEST(StoreHealthTest, TellsItsListenerOnceWhenTheStoreGoesDownAndOnceWhenItIsBack) {
  std::vector<StoreHealthChange> changes;
  StoreHealth health([&](const StoreHealthChange& change) { changes.push_back(change); });
  health.ReportFailure(Unavailable("first"), 1'000'000);
  health.AddPending(3);
  health.ReportFailure(Unavailable("second"), 2'000'000);
  EXPECT_FALSE(health.snapshot().available);
  EXPECT_EQ(health.snapshot().down_since_us, 1'000'000);
  EXPECT_EQ(health.snapshot().last_error.message(), "second");
  health.ReportSuccess(4'500'000);
  health.ReportSuccess(5'000'000);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_FALSE(changes[0].available);
  EXPECT_EQ(changes[0].error.message(), "first");
  EXPECT_TRUE(changes[1].available);
  EXPECT_EQ(changes[1].down_for_us, 3'500'000);
  EXPECT_EQ(changes[1].pending_writes, 3);
  EXPECT_TRUE(health.snapshot().available);
  EXPECT_EQ(health.snapshot().outages, 1u);
}

// Each write the engine makes, failing from the start of the run for a short while: the run
// waits, nothing is lost, and no attempt starts before its `running` record is saved.
class ShortOutageTest : public StoreOutageTest,
                        public ::testing::WithParamInterface<FlakyStateStore::Op> {};

TEST_P(ShortOutageTest, TheRunWaitsForTheStoreAndEndsAsIfNothingHappened) {
  const FlakyStateStore::Op op = GetParam();
  std::atomic<bool> a_started{false};
  std::atomic<bool> b_started{false};
  Register("talk", [&](const AttemptRequest&, AttemptControl& control) {
    a_started = true;
    control.AppendOutput(OutputStream::kStdout, "hello from a\n");
    EXPECT_TRUE(control.SetOutput("greeting", "hello").ok());
    return Ok();
  });
  Register("ok", [&](const AttemptRequest&, AttemptControl&) {
    b_started = true;
    return Ok();
  });
  Job job = MakeJob({Spec("a", "talk"), Spec("b", "ok", {"a"})});
  flaky_->Fail({op});
  Start(job);
  ASSERT_TRUE(flaky_->WaitForFailures(1));
  // Three retries: the last one proves the run has seen (and reported) a failure of its own.
  AdvanceThroughFailures(3);
  if (op == FlakyStateStore::Op::kCreateRun || op == FlakyStateStore::Op::kSaveAttempts) {
    EXPECT_FALSE(a_started) << "a started before its run or its attempt was recorded";
  }
  if (op != FlakyStateStore::Op::kUpdateRun) {
    EXPECT_FALSE(b_started) << "b started before a's end was recorded";
  }
  EXPECT_FALSE(health_.snapshot().available);
  Heal();

  const Result<RunRecord>& run = Finished();
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->status, RunStatus::kSucceeded);
  std::optional<RunRecord> stored = StoredRun();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->status, RunStatus::kSucceeded);
  auto attempts = LastAttempts();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts["a"].state, TaskState::kSucceeded) << attempts["a"].error;
  EXPECT_EQ(attempts["a"].outputs.at("greeting"), "hello");
  EXPECT_EQ(attempts["b"].state, TaskState::kSucceeded);
  Result<std::vector<LogChunk>> logs = inner_->ReadLogs(run_id_, LogQuery{});
  ASSERT_TRUE(logs.ok());
  ASSERT_EQ(logs->size(), 1u);
  EXPECT_EQ((*logs)[0].data, "hello from a\n");
  const StoreHealth::Snapshot health = health_.snapshot();
  EXPECT_TRUE(health.available);
  EXPECT_EQ(health.outages, 1u);
  EXPECT_EQ(health.pending_writes, 0);
}

INSTANTIATE_TEST_SUITE_P(EveryWrite, ShortOutageTest,
                         ::testing::Values(FlakyStateStore::Op::kCreateRun,
                                           FlakyStateStore::Op::kSaveAttempts,
                                           FlakyStateStore::Op::kAppendLog,
                                           FlakyStateStore::Op::kUpdateRun),
                         [](const auto& param_info) {
                           switch (param_info.param) {
                             case FlakyStateStore::Op::kCreateRun:
                               return "CreateRun";
                             case FlakyStateStore::Op::kSaveAttempts:
                               return "SaveAttempts";
                             case FlakyStateStore::Op::kAppendLog:
                               return "AppendLog";
                             case FlakyStateStore::Op::kUpdateRun:
                               return "UpdateRun";
                             default:
                               return "Other";
                           }
                         });

TEST_F(StoreOutageTest, TasksKeepRunningAndTheirEndsAreWrittenInOrderOnceTheStoreAnswers) {
  Signal a1_started, a2_started, release_a1, release_a2, a2_returned;
  std::atomic<bool> c_started{false};
  Register("a1", [&](const AttemptRequest&, AttemptControl&) {
    a1_started.Set();
    release_a1.Wait();
    return Ok();
  });
  Register("a2", [&](const AttemptRequest&, AttemptControl&) {
    a2_started.Set();
    release_a2.Wait();
    a2_returned.Set();
    return Ok();
  });
  Register("ok", [&](const AttemptRequest&, AttemptControl&) {
    c_started = true;
    return Ok();
  });
  Job job = MakeJob({Spec("a1", "a1"), Spec("a2", "a2"), Spec("c", "ok", {"a1", "a2"})});
  Start(job);
  ASSERT_TRUE(a1_started.Wait());
  ASSERT_TRUE(a2_started.Wait());
  flaky_->FailEverything();

  // a1 ends while the store is down: its end is tried at once and refused.
  release_a1.Set();
  ASSERT_TRUE(flaky_->WaitForFailures(1));
  ASSERT_TRUE(Holds(flaky_->refused_batches().back(), "a1", TaskState::kSucceeded));
  // a2 goes on running and ends too, behind a1's end; retries try a1's first.
  release_a2.Set();
  ASSERT_TRUE(a2_returned.Wait());
  AdvanceThroughFailures(2);
  EXPECT_TRUE(Holds(flaky_->refused_batches().back(), "a1", TaskState::kSucceeded));
  EXPECT_FALSE(c_started) << "c started before the ends of a1 and a2 were recorded";
  Heal();

  const Result<RunRecord>& run = Finished();
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->status, RunStatus::kSucceeded);
  // The order the store took them in: a1's end, a2's end, then c's start and end.
  std::vector<std::string> order;
  for (const auto& batch : flaky_->saved_batches()) {
    for (const AttemptRecord& record : batch) {
      order.push_back(record.task.str() + ":" + std::string(TaskStateName(record.state)));
    }
  }
  auto position = [&](const std::string& entry) {
    auto it = std::find(order.begin(), order.end(), entry);
    EXPECT_NE(it, order.end()) << entry << " was never written";
    return it - order.begin();
  };
  EXPECT_LT(position("a1:succeeded"), position("a2:succeeded"));
  EXPECT_LT(position("a2:succeeded"), position("c:running"));
  EXPECT_LT(position("c:running"), position("c:succeeded"));
  auto attempts = LastAttempts();
  for (const auto& [task, attempt] : attempts) {
    EXPECT_EQ(attempt.state, TaskState::kSucceeded) << task;
  }
  EXPECT_EQ(health_.snapshot().outages, 1u);
}

TEST_F(StoreOutageTest, PastTheLimitTheTasksAreCancelledAndTheWriteBehindRecordsItLater) {
  Signal a_started, a_cancelled, release_x;
  std::atomic<bool> b_started{false};
  Register("wait", [&](const AttemptRequest&, AttemptControl& control) {
    control.OnCancel([&] { a_cancelled.Set(); });
    a_started.Set();
    a_cancelled.Wait();
    return AttemptResult{AttemptOutcome::kFailed, std::nullopt, "stopped"};
  });
  Register("x", [&](const AttemptRequest&, AttemptControl&) {
    release_x.Wait();
    return Ok();
  });
  Register("ok", [&](const AttemptRequest&, AttemptControl&) {
    b_started = true;
    return Ok();
  });
  std::vector<std::string> abandoned;
  StoreWriteBehind write_behind(*flaky_, clock_, options_.store_outage, &health_,
                                [&](const std::string& what) { abandoned.push_back(what); });
  options_.write_behind = &write_behind;
  Job job = MakeJob({Spec("a", "wait"), Spec("x", "x"), Spec("b", "ok", {"a"})});
  Start(job);
  ASSERT_TRUE(a_started.Wait());
  flaky_->FailEverything();
  release_x.Set();
  ASSERT_TRUE(flaky_->WaitForFailures(1));
  // One retry per second of the clock; the tenth comes at the limit.
  const int retries_to_limit = static_cast<int>(kLimit / kMaxBackoff);
  AdvanceThroughFailures(retries_to_limit - 1);
  EXPECT_FALSE(a_cancelled.is_set()) << "cancelled before the limit";
  AdvanceThroughFailures(1);
  ASSERT_TRUE(a_cancelled.Wait());

  const Result<RunRecord>& run = Finished();
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(run.status().message(), HasSubstr("ended interrupted but is not recorded yet"));
  EXPECT_THAT(run.status().message(), HasSubstr("store_outage_limit 10 s"));
  EXPECT_FALSE(b_started);
  EXPECT_GT(write_behind.pending(), 0u);

  Heal();
  ASSERT_TRUE(write_behind.WaitUntilWritten(kBrokenAfter));
  std::optional<RunRecord> stored = StoredRun();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->status, RunStatus::kInterrupted);
  EXPECT_THAT(stored->error, HasSubstr("the state store did not answer for 10 s"));
  auto attempts = LastAttempts();
  EXPECT_EQ(attempts["x"].state, TaskState::kSucceeded);
  EXPECT_EQ(attempts["a"].state, TaskState::kInterrupted);
  EXPECT_THAT(attempts["a"].error, HasSubstr("store_outage_limit"));
  EXPECT_EQ(attempts["b"].state, TaskState::kInterrupted);
  EXPECT_EQ(attempts["b"].attempt, 0u);
  EXPECT_TRUE(abandoned.empty());
  EXPECT_TRUE(health_.snapshot().available);
  EXPECT_EQ(health_.snapshot().pending_writes, 0);
}

// A task that ends during the outage makes its downstream task ready; that task's start waits
// for its `running` record, which the store never takes before the limit. Once the store
// answers, no attempt of the interrupted run reads `running`: the one that never started is
// recorded interrupted after its `running` record.
TEST_F(StoreOutageTest, PastTheLimitADownstreamTaskThatNeverStartedIsNotLeftRunning) {
  Signal a_started, release_a;
  std::atomic<bool> b_started{false};
  Register("a", [&](const AttemptRequest&, AttemptControl&) {
    a_started.Set();
    release_a.Wait();
    return Ok();
  });
  Register("ok", [&](const AttemptRequest&, AttemptControl&) {
    b_started = true;
    return Ok();
  });
  StoreWriteBehind write_behind(*flaky_, clock_, options_.store_outage, &health_,
                                [](const std::string&) {});
  options_.write_behind = &write_behind;
  Job job = MakeJob({Spec("a", "a"), Spec("b", "ok", {"a"})});
  Start(job);
  ASSERT_TRUE(a_started.Wait());
  flaky_->FailEverything();
  release_a.Set();
  ASSERT_TRUE(flaky_->WaitForFailures(1));
  AdvanceThroughFailures(static_cast<int>(kLimit / kMaxBackoff));
  const Result<RunRecord>& run = Finished();
  ASSERT_FALSE(run.ok());
  EXPECT_FALSE(b_started);
  Heal();
  ASSERT_TRUE(write_behind.WaitUntilWritten(kBrokenAfter));
  std::optional<RunRecord> stored = StoredRun();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->status, RunStatus::kInterrupted);
  Result<std::vector<AttemptRecord>> attempts = inner_->ListAttempts(run_id_);
  ASSERT_TRUE(attempts.ok());
  for (const AttemptRecord& attempt : *attempts) {
    EXPECT_NE(attempt.state, TaskState::kRunning)
        << attempt.task.str() << " attempt " << attempt.attempt << " left running";
    EXPECT_NE(attempt.state, TaskState::kQueued)
        << attempt.task.str() << " attempt " << attempt.attempt << " left queued";
  }
  auto last = LastAttempts();
  EXPECT_EQ(last["a"].state, TaskState::kSucceeded);
  EXPECT_EQ(last["b"].state, TaskState::kInterrupted);
}

TEST_F(StoreOutageTest, ARunCancelledDuringAnOutageEndsAtOnceAndItsEndIsWrittenBehind) {
  Signal a_started, release_x;
  Register("wait", [&](const AttemptRequest&, AttemptControl& control) {
    Signal cancelled;
    control.OnCancel([&] { cancelled.Set(); });
    a_started.Set();
    cancelled.Wait();
    return AttemptResult{AttemptOutcome::kFailed, std::nullopt, "stopped"};
  });
  Register("x", [&](const AttemptRequest&, AttemptControl&) {
    release_x.Wait();
    return Ok();
  });
  StoreWriteBehind write_behind(*flaky_, clock_, options_.store_outage, &health_);
  RunCanceller canceller;
  options_.write_behind = &write_behind;
  options_.canceller = &canceller;
  Job job = MakeJob({Spec("a", "wait"), Spec("x", "x")});
  Start(job);
  ASSERT_TRUE(a_started.Wait());
  flaky_->FailEverything();
  release_x.Set();
  ASSERT_TRUE(flaky_->WaitForFailures(1));

  // What a stopping host does: the run must not wait out the outage limit for its store.
  canceller.Cancel();
  const Result<RunRecord>& run = Finished();
  ASSERT_FALSE(run.ok());
  EXPECT_THAT(run.status().message(), HasSubstr("ended cancelled but is not recorded yet"));
  EXPECT_GT(write_behind.pending(), 0u);

  Heal();
  ASSERT_TRUE(write_behind.WaitUntilWritten(kBrokenAfter));
  std::optional<RunRecord> stored = StoredRun();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->status, RunStatus::kCancelled);
  auto attempts = LastAttempts();
  EXPECT_EQ(attempts["x"].state, TaskState::kSucceeded);
  EXPECT_EQ(attempts["a"].state, TaskState::kCancelled);
}

TEST_F(StoreOutageTest, ARunThatCannotBeCreatedWithinTheLimitIsRefusedAndRunsNothing) {
  std::atomic<bool> started{false};
  Register("ok", [&](const AttemptRequest&, AttemptControl&) {
    started = true;
    return Ok();
  });
  Job job = MakeJob({Spec("a", "ok")});
  flaky_->Fail({FlakyStateStore::Op::kCreateRun});
  Start(job);
  ASSERT_TRUE(flaky_->WaitForFailures(1));
  AdvanceThroughFailures(static_cast<int>(kLimit / kMaxBackoff));

  const Result<RunRecord>& run = Finished();
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(run.status().message(), HasSubstr("was not started"));
  EXPECT_FALSE(started);
  EXPECT_FALSE(StoredRun().has_value());
}

}  // namespace
}  // namespace petit
