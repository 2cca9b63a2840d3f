#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "petit/core/task_runner.h"

namespace petit {
namespace {

using ::testing::ElementsAre;

class FixedRunner final : public TaskRunner {
 public:
  explicit FixedRunner(AttemptOutcome outcome) : outcome_(outcome) {}
  AttemptResult Run(const AttemptRequest&, AttemptControl&) override {
    AttemptResult result;
    result.outcome = outcome_;
    return result;
  }

 private:
  AttemptOutcome outcome_;
};

TEST(TaskRunnerRegistryTest, FindsRegisteredRunnersByType) {
  TaskRunnerRegistry registry;
  auto noop = std::make_shared<FixedRunner>(AttemptOutcome::kSucceeded);
  ASSERT_TRUE(registry.Register("noop", noop).ok());
  ASSERT_TRUE(
      registry.Register("fail", std::make_shared<FixedRunner>(AttemptOutcome::kFailed)).ok());
  EXPECT_EQ(registry.Find("noop"), noop.get());
  EXPECT_NE(registry.Find("fail"), nullptr);
  EXPECT_EQ(registry.Find("command"), nullptr);
  EXPECT_THAT(registry.Types(), ElementsAre("fail", "noop"));
}

TEST(TaskRunnerRegistryTest, RejectsASecondRunnerForTheSameType) {
  TaskRunnerRegistry registry;
  auto first = std::make_shared<FixedRunner>(AttemptOutcome::kSucceeded);
  ASSERT_TRUE(registry.Register("noop", first).ok());
  const Status status =
      registry.Register("noop", std::make_shared<FixedRunner>(AttemptOutcome::kFailed));
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(status.message(), "task type 'noop' is already registered");
  EXPECT_EQ(registry.Find("noop"), first.get());
}

TEST(TaskRunnerRegistryTest, RejectsAnEmptyTypeName) {
  TaskRunnerRegistry registry;
  const Status status =
      registry.Register("", std::make_shared<FixedRunner>(AttemptOutcome::kSucceeded));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(registry.Types(), testing::IsEmpty());
}

TEST(AttemptOutcomeTest, EveryOutcomeHasAName) {
  EXPECT_EQ(AttemptOutcomeName(AttemptOutcome::kSucceeded), "succeeded");
  EXPECT_EQ(AttemptOutcomeName(AttemptOutcome::kFailed), "failed");
  EXPECT_EQ(AttemptOutcomeName(AttemptOutcome::kTransientFailure), "transient_failure");
  EXPECT_EQ(AttemptOutcomeName(AttemptOutcome::kTimedOut), "timed_out");
  EXPECT_EQ(AttemptOutcomeName(AttemptOutcome::kCancelled), "cancelled");
  EXPECT_EQ(AttemptOutcomeName(AttemptOutcome::kInvalidParams), "invalid_params");
}

}  // namespace
}  // namespace petit
