#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "petit/core/state_store.h"

namespace petit {
namespace {

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

}  // namespace
}  // namespace petit
