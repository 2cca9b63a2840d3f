#include "petit/core/retry_plan.h"

#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace petit {
namespace {

using ::testing::HasSubstr;

// extract -> transform -> load, and extract -> audit.
Dag Pipeline(RetryPolicy transform_retry = {}) {
  Dag dag(DagId("etl"));
  auto add = [&](const std::string& id, std::vector<std::string> deps, RetryPolicy retry = {}) {
    TaskSpec spec;
    spec.id = TaskId(id);
    spec.type = "noop";
    for (const std::string& dep : deps) spec.depends_on.emplace_back(dep);
    spec.retry = retry;
    dag.AddTask(std::move(spec));
  };
  add("extract", {});
  add("transform", {"extract"}, transform_retry);
  add("load", {"transform"});
  add("audit", {"extract"});
  EXPECT_TRUE(dag.Validate().ok());
  return dag;
}

AttemptRecord Attempt(const std::string& task, uint32_t attempt, TaskState state) {
  AttemptRecord record;
  record.task = TaskId(task);
  record.attempt = attempt;
  record.state = state;
  // As the store holds them: an attempt that got as far as running has a start time.
  if (state != TaskState::kPending && state != TaskState::kQueued) record.started_us = 1'000;
  return record;
}

// The plan of each task by id, "keep" / "run" / "interrupted".
std::vector<std::string> Describe(const Dag& dag, const RetryPlan& plan) {
  std::vector<std::string> out;
  for (Dag::Index i = 0; i < dag.size(); ++i) {
    const char* what = plan.tasks[i] == TaskPlan::kKeep  ? "keep"
                       : plan.tasks[i] == TaskPlan::kRun ? "run"
                                                         : "interrupted";
    out.push_back(dag.task(i).id.str() + ":" + what);
  }
  return out;
}

const std::vector<AttemptRecord> kTransformFailed = {
    Attempt("extract", 1, TaskState::kSucceeded), Attempt("transform", 1, TaskState::kFailed),
    Attempt("transform", 2, TaskState::kFailed),  Attempt("load", 0, TaskState::kUpstreamFailed),
    Attempt("audit", 1, TaskState::kSucceeded),
};

TEST(RetryPlanTest, ByDefaultFailedTasksAndEverythingDownstreamRunAgain) {
  Dag dag = Pipeline();
  Result<RetryPlan> plan = PlanRetry(dag, kTransformFailed, {});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(Describe(dag, *plan),
            (std::vector<std::string>{"extract:keep", "transform:run", "load:run", "audit:keep"}));
}

TEST(RetryPlanTest, AttemptNumbersContinueFromTheLastStoredOne) {
  Dag dag = Pipeline();
  Result<RetryPlan> plan = PlanRetry(dag, kTransformFailed, {});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->last_attempt, (std::vector<uint32_t>{1, 2, 0, 1}));
  EXPECT_EQ(plan->last_state[1], TaskState::kFailed);
}

TEST(RetryPlanTest, CancelledAndInterruptedTasksRunAgainToo) {
  Dag dag = Pipeline();
  std::vector<AttemptRecord> attempts = {
      Attempt("extract", 1, TaskState::kSucceeded), Attempt("transform", 1, TaskState::kCancelled),
      Attempt("load", 0, TaskState::kCancelled), Attempt("audit", 1, TaskState::kInterrupted)};
  Result<RetryPlan> plan = PlanRetry(dag, attempts, {});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(Describe(dag, *plan),
            (std::vector<std::string>{"extract:keep", "transform:run", "load:run", "audit:run"}));
}

TEST(RetryPlanTest, FromATaskRunsItAndItsDownstreamWhateverTheirState) {
  Dag dag = Pipeline();
  Result<RetryPlan> plan =
      PlanRetry(dag, kTransformFailed, {RetryScope::kFromTask, TaskId("extract")});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->Count(TaskPlan::kRun), 4u);
}

TEST(RetryPlanTest, OnlyATaskRunsThatTaskAlone) {
  Dag dag = Pipeline();
  Result<RetryPlan> plan =
      PlanRetry(dag, kTransformFailed, {RetryScope::kOnlyTask, TaskId("transform")});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(Describe(dag, *plan),
            (std::vector<std::string>{"extract:keep", "transform:run", "load:keep", "audit:keep"}));
}

TEST(RetryPlanTest, AnUnknownTaskIsInvalidAndNamesTheClosestOne) {
  Dag dag = Pipeline();
  Result<RetryPlan> plan =
      PlanRetry(dag, kTransformFailed, {RetryScope::kFromTask, TaskId("transfrom")});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(plan.status().message().find("no task 'transfrom'"), std::string::npos);
  EXPECT_NE(plan.status().message().find("did you mean 'transform'?"), std::string::npos);
}

TEST(RetryPlanTest, ARunWhereEverythingSucceededHasNothingToRetryByDefault) {
  Dag dag = Pipeline();
  std::vector<AttemptRecord> attempts = {
      Attempt("extract", 1, TaskState::kSucceeded), Attempt("transform", 1, TaskState::kSucceeded),
      Attempt("load", 1, TaskState::kSucceeded), Attempt("audit", 0, TaskState::kSkipped)};
  Result<RetryPlan> plan = PlanRetry(dag, attempts, {});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kFailedPrecondition);
}

// A task the job dropped after it finished has nothing left to redo: it is left out.
TEST(RetryPlanTest, FinishedTasksTheJobNoLongerHasAreIgnored) {
  Dag dag = Pipeline();
  std::vector<AttemptRecord> attempts = kTransformFailed;
  attempts.push_back(Attempt("removed_task", 1, TaskState::kFailed));
  attempts.push_back(Attempt("removed_task", 2, TaskState::kSucceeded));
  attempts.push_back(Attempt("skipped_once", 0, TaskState::kSkipped));
  Result<RetryPlan> plan = PlanRetry(dag, attempts, {});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->Count(TaskPlan::kRun), 2u);
}

// One the run did not finish cannot be redone, and the run would end succeeded without it, its
// failure still recorded: every scope refuses, naming the task.
TEST(RetryPlanTest, AnUnfinishedTaskTheJobNoLongerHasRefusesTheRetry) {
  Dag dag = Pipeline();
  for (TaskState state : {TaskState::kFailed, TaskState::kUpstreamFailed, TaskState::kCancelled,
                          TaskState::kInterrupted, TaskState::kRunning}) {
    std::vector<AttemptRecord> attempts = {Attempt("extract", 1, TaskState::kSucceeded),
                                           Attempt("renamed", 1, TaskState::kSucceeded),
                                           Attempt("renamed", 2, state)};
    for (const RetryRequest& request :
         {RetryRequest{}, RetryRequest{RetryScope::kFromTask, TaskId("load")},
          RetryRequest{RetryScope::kOnlyTask, TaskId("load")}}) {
      Result<RetryPlan> plan = PlanRetry(dag, attempts, request);
      ASSERT_FALSE(plan.ok()) << TaskStateName(state);
      EXPECT_EQ(plan.status().code(), StatusCode::kFailedPrecondition);
      EXPECT_THAT(plan.status().message(),
                  HasSubstr("task 'renamed' (" + std::string(TaskStateName(state)) +
                            ") is no longer in job"));
    }
  }
}

TEST(RecoveryPlanTest, RetriesALostAttemptWhenThePolicyAllowsAnother) {
  RetryPolicy twice;
  twice.max_retries = 2;
  Dag dag = Pipeline(twice);
  std::vector<AttemptRecord> attempts = {Attempt("extract", 1, TaskState::kSucceeded),
                                         Attempt("transform", 1, TaskState::kInterrupted)};
  RetryPlan plan = PlanRecovery(dag, attempts);
  EXPECT_EQ(Describe(dag, plan),
            (std::vector<std::string>{"extract:keep", "transform:run", "load:run", "audit:run"}));
  EXPECT_EQ(plan.last_attempt[1], 1u);
}

TEST(RecoveryPlanTest, TheLostAttemptCountsAgainstTheRetryPolicy) {
  RetryPolicy once;
  once.max_retries = 1;
  Dag dag = Pipeline(once);
  std::vector<AttemptRecord> attempts = {Attempt("extract", 1, TaskState::kSucceeded),
                                         Attempt("transform", 1, TaskState::kFailed),
                                         Attempt("transform", 2, TaskState::kRunning)};
  RetryPlan plan = PlanRecovery(dag, attempts);
  EXPECT_EQ(plan.tasks[1], TaskPlan::kInterrupted);
}

TEST(RecoveryPlanTest, ATaskWithoutRetriesIsInterruptedAndTheRestStillRuns) {
  Dag dag = Pipeline();
  std::vector<AttemptRecord> attempts = {Attempt("extract", 1, TaskState::kSucceeded),
                                         Attempt("transform", 1, TaskState::kRunning),
                                         Attempt("audit", 1, TaskState::kSucceeded)};
  RetryPlan plan = PlanRecovery(dag, attempts);
  EXPECT_EQ(Describe(dag, plan), (std::vector<std::string>{"extract:keep", "transform:interrupted",
                                                           "load:run", "audit:keep"}));
}

// Waiting for a worker or a pool slot when the host died: whether still queued
// or already interrupted by the takeover, an attempt that never started lost nothing and runs,
// though the policy allows no other attempt.
TEST(RecoveryPlanTest, AnAttemptThatNeverStartedRunsWhateverThePolicy) {
  RetryPolicy once;
  once.max_retries = 1;
  for (const TaskState state : {TaskState::kQueued, TaskState::kInterrupted}) {
    SCOPED_TRACE(std::string(TaskStateName(state)));
    for (const bool retried : {false, true}) {
      Dag dag = Pipeline(retried ? once : RetryPolicy{});
      std::vector<AttemptRecord> attempts = {Attempt("extract", 1, TaskState::kSucceeded)};
      if (retried) attempts.push_back(Attempt("transform", 1, TaskState::kFailed));
      AttemptRecord waiting = Attempt("transform", retried ? 2 : 1, state);
      waiting.started_us = 0;
      attempts.push_back(waiting);
      RetryPlan plan = PlanRecovery(dag, attempts);
      EXPECT_EQ(Describe(dag, plan), (std::vector<std::string>{"extract:keep", "transform:run",
                                                               "load:run", "audit:run"}));
      EXPECT_EQ(plan.last_attempt[1], retried ? 2u : 1u);
    }
  }
}

// Failed, its policy allowing another attempt: the host died during the retry delay, which only
// the run's memory held. The retry is decided again with what the store keeps: the attempt
// number, the exit code, and a timeout's error.
TEST(RecoveryPlanTest, AFailedTaskWhosePolicyAllowsAnotherAttemptRunsAgain) {
  struct Case {
    const char* what;
    RetryPolicy policy;
    uint32_t failed_attempts;
    std::optional<int32_t> exit_code;
    std::string error;
    bool runs;
  };
  RetryPolicy once;
  once.max_retries = 1;
  RetryPolicy transient_only = once;
  transient_only.condition = RetryCondition::kTransientOnly;
  RetryPolicy on_75 = once;
  on_75.condition = RetryCondition::kOnExitCodes;
  on_75.exit_codes = {75};
  const Case cases[] = {
      {"a retry left", once, 1, 1, "exited with code 1", true},
      {"no retry left", once, 2, 1, "exited with code 1", false},
      {"no retries at all", RetryPolicy{}, 1, 1, "exited with code 1", false},
      {"transient_only, a timeout", transient_only, 1, std::nullopt, "timed out after 5000 ms",
       true},
      {"transient_only, an error", transient_only, 1, 1, "exited with code 1", false},
      {"exit code listed", on_75, 1, 75, "exited with code 75", true},
      {"exit code not listed", on_75, 1, 1, "exited with code 1", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Dag dag = Pipeline(c.policy);
    std::vector<AttemptRecord> attempts = {Attempt("extract", 1, TaskState::kSucceeded)};
    for (uint32_t n = 1; n <= c.failed_attempts; ++n) {
      AttemptRecord failed = Attempt("transform", n, TaskState::kFailed);
      failed.exit_code = c.exit_code;
      failed.error = c.error;
      attempts.push_back(failed);
    }
    RetryPlan plan = PlanRecovery(dag, attempts);
    EXPECT_EQ(plan.tasks[1], c.runs ? TaskPlan::kRun : TaskPlan::kKeep);
    EXPECT_EQ(plan.last_attempt[1], c.failed_attempts);
  }
}

TEST(RecoveryPlanTest, APolicyThatNeverRetriesInterruptsTheLostAttempt) {
  RetryPolicy never;
  never.max_retries = 5;
  never.condition = RetryCondition::kNever;
  Dag dag = Pipeline(never);
  std::vector<AttemptRecord> attempts = {Attempt("extract", 1, TaskState::kSucceeded),
                                         Attempt("transform", 1, TaskState::kInterrupted)};
  EXPECT_EQ(PlanRecovery(dag, attempts).tasks[1], TaskPlan::kInterrupted);
}

}  // namespace
}  // namespace petit
