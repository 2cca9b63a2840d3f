#include "petit/core/states.h"

#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace petit {
namespace {

using ::testing::HasSubstr;

TEST(RunStatusTest, NamesRoundTrip) {
  const std::vector<std::pair<RunStatus, std::string>> expected = {
      {RunStatus::kQueued, "queued"},       {RunStatus::kRunning, "running"},
      {RunStatus::kSucceeded, "succeeded"}, {RunStatus::kFailed, "failed"},
      {RunStatus::kCancelled, "cancelled"}, {RunStatus::kInterrupted, "interrupted"},
  };
  for (const auto& [status, name] : expected) {
    EXPECT_EQ(RunStatusName(status), name);
    const auto parsed = ParseRunStatus(name);
    ASSERT_TRUE(parsed.ok()) << name;
    EXPECT_EQ(*parsed, status);
  }
}

TEST(RunStatusTest, ParseRejectsUnknownNamesAndListsTheValidOnes) {
  const auto parsed = ParseRunStatus("RUNNING");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(),
            "unknown run status 'RUNNING' (expected queued, running, succeeded, failed, cancelled "
            "or interrupted)");
}

TEST(RunStatusTest, OnlyFinishedRunsAreTerminal) {
  EXPECT_FALSE(IsTerminal(RunStatus::kQueued));
  EXPECT_FALSE(IsTerminal(RunStatus::kRunning));
  EXPECT_TRUE(IsTerminal(RunStatus::kSucceeded));
  EXPECT_TRUE(IsTerminal(RunStatus::kFailed));
  EXPECT_TRUE(IsTerminal(RunStatus::kCancelled));
  EXPECT_TRUE(IsTerminal(RunStatus::kInterrupted));
}

TEST(TaskStateTest, NamesRoundTrip) {
  const std::vector<std::pair<TaskState, std::string>> expected = {
      {TaskState::kPending, "pending"},
      {TaskState::kQueued, "queued"},
      {TaskState::kRunning, "running"},
      {TaskState::kSucceeded, "succeeded"},
      {TaskState::kFailed, "failed"},
      {TaskState::kSkipped, "skipped"},
      {TaskState::kUpstreamFailed, "upstream_failed"},
      {TaskState::kCancelled, "cancelled"},
      {TaskState::kInterrupted, "interrupted"},
  };
  for (const auto& [state, name] : expected) {
    EXPECT_EQ(TaskStateName(state), name);
    const auto parsed = ParseTaskState(name);
    ASSERT_TRUE(parsed.ok()) << name;
    EXPECT_EQ(*parsed, state);
  }
  EXPECT_THAT(ParseTaskState("done").status().message(), HasSubstr("unknown task state 'done'"));
}

TEST(TaskStateTest, OnlyFinishedStatesAreTerminal) {
  EXPECT_FALSE(IsTerminal(TaskState::kPending));
  EXPECT_FALSE(IsTerminal(TaskState::kQueued));
  EXPECT_FALSE(IsTerminal(TaskState::kRunning));
  EXPECT_TRUE(IsTerminal(TaskState::kSucceeded));
  EXPECT_TRUE(IsTerminal(TaskState::kFailed));
  EXPECT_TRUE(IsTerminal(TaskState::kSkipped));
  EXPECT_TRUE(IsTerminal(TaskState::kUpstreamFailed));
  EXPECT_TRUE(IsTerminal(TaskState::kCancelled));
  EXPECT_TRUE(IsTerminal(TaskState::kInterrupted));
}

}  // namespace
}  // namespace petit
