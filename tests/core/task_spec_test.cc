#include "petit/core/task_spec.h"

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace petit {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

RetryPolicy Retries(uint32_t max_retries, RetryCondition condition) {
  RetryPolicy policy;
  policy.max_retries = max_retries;
  policy.condition = condition;
  return policy;
}

RetryPolicy Backoff(milliseconds delay, double multiplier, milliseconds max_delay) {
  RetryPolicy policy;
  policy.max_retries = 10;
  policy.delay = delay;
  policy.multiplier = multiplier;
  policy.max_delay = max_delay;
  return policy;
}

TEST(RetryConditionTest, NamesRoundTrip) {
  for (const RetryCondition condition : {RetryCondition::kAlways, RetryCondition::kTransientOnly,
                                         RetryCondition::kNever, RetryCondition::kOnExitCodes}) {
    const auto parsed = ParseRetryCondition(RetryConditionName(condition));
    ASSERT_TRUE(parsed.ok()) << RetryConditionName(condition);
    EXPECT_EQ(*parsed, condition);
  }
  EXPECT_EQ(RetryConditionName(RetryCondition::kTransientOnly), "transient_only");
  EXPECT_EQ(RetryConditionName(RetryCondition::kOnExitCodes), "on_exit_codes");
}

TEST(RetryConditionTest, ParseRejectsUnknownNamesAndListsTheValidOnes) {
  const auto parsed = ParseRetryCondition("sometimes");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message(),
            "unknown retry condition 'sometimes' (expected always, transient_only, never or "
            "on_exit_codes)");
  EXPECT_FALSE(ParseRetryCondition("Always").ok());
}

TEST(TriggerRuleTest, NamesRoundTrip) {
  for (const TriggerRule rule : {TriggerRule::kAllSuccess, TriggerRule::kOnFailure,
                                 TriggerRule::kAllDone, TriggerRule::kAlways}) {
    const auto parsed = ParseTriggerRule(TriggerRuleName(rule));
    ASSERT_TRUE(parsed.ok()) << TriggerRuleName(rule);
    EXPECT_EQ(*parsed, rule);
  }
  EXPECT_EQ(TriggerRuleName(TriggerRule::kAllSuccess), "all_success");
  EXPECT_EQ(TriggerRuleName(TriggerRule::kOnFailure), "on_failure");
  EXPECT_EQ(TriggerRuleName(TriggerRule::kAllDone), "all_done");
  EXPECT_EQ(TriggerRuleName(TriggerRule::kAlways), "always");
}

TEST(TriggerRuleTest, ParseRejectsUnknownNames) {
  const auto parsed = ParseTriggerRule("one_success");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("unknown trigger rule 'one_success'"));
  EXPECT_THAT(parsed.status().message(), HasSubstr("all_success, on_failure, all_done or always"));
}

TEST(TriggerRuleTest, APlainMisspellingGetsTheRuleMeantAndAnotherToolsRuleDoesNot) {
  const std::vector<std::pair<std::string_view, std::string_view>> rows = {
      {"all-success", "all_success"},
      {"ALL_DONE", "all_done"},
      {"allDone", "all_done"},
      {"alwyas", "always"},
      {"on-failure", "on_failure"}};
  for (const auto& [text, meant] : rows) {
    EXPECT_THAT(ParseTriggerRule(text).status().message(),
                HasSubstr("; did you mean '" + std::string(meant) + "'?"))
        << text;
  }
  // Airflow's one_success and none_failed mean something else: no guess.
  EXPECT_THAT(ParseTriggerRule("one_success").status().message(), Not(HasSubstr("did you mean")));
  EXPECT_THAT(ParseTriggerRule("none_failed").status().message(), Not(HasSubstr("did you mean")));
  EXPECT_THAT(ParseRetryCondition("transient").status().message(),
              HasSubstr("; did you mean 'transient_only'?"));
}

TEST(RetryPolicyTest, DefaultRunsOnce) {
  const RetryPolicy policy;
  EXPECT_EQ(policy.max_attempts(), 1u);
  EXPECT_FALSE(policy.ShouldRetry(1, FailureKind::kError, 1));
  EXPECT_TRUE(policy.Validate().ok());
}

TEST(RetryPolicyTest, AlwaysRetriesUntilAttemptsRunOut) {
  const RetryPolicy policy = Retries(2, RetryCondition::kAlways);
  EXPECT_EQ(policy.max_attempts(), 3u);
  EXPECT_TRUE(policy.ShouldRetry(1, FailureKind::kError, 1));
  EXPECT_TRUE(policy.ShouldRetry(2, FailureKind::kTimeout, std::nullopt));
  EXPECT_FALSE(policy.ShouldRetry(3, FailureKind::kError, 1));
  EXPECT_FALSE(policy.ShouldRetry(4, FailureKind::kError, 1));
}

TEST(RetryPolicyTest, CancelledIsNeverRetried) {
  for (const RetryCondition condition :
       {RetryCondition::kAlways, RetryCondition::kTransientOnly, RetryCondition::kOnExitCodes}) {
    RetryPolicy policy = Retries(5, condition);
    policy.exit_codes = {-15, 143};
    EXPECT_FALSE(policy.ShouldRetry(1, FailureKind::kCancelled, 143))
        << RetryConditionName(condition);
  }
}

TEST(RetryPolicyTest, TransientOnlyRetriesTransientFailuresAndTimeouts) {
  const RetryPolicy policy = Retries(3, RetryCondition::kTransientOnly);
  EXPECT_TRUE(policy.ShouldRetry(1, FailureKind::kTransient, 1));
  EXPECT_TRUE(policy.ShouldRetry(1, FailureKind::kTimeout, std::nullopt));
  EXPECT_FALSE(policy.ShouldRetry(1, FailureKind::kError, 1));
  EXPECT_FALSE(policy.ShouldRetry(4, FailureKind::kTransient, 1));
}

TEST(RetryPolicyTest, NeverDoesNotRetry) {
  const RetryPolicy policy = Retries(3, RetryCondition::kNever);
  EXPECT_FALSE(policy.ShouldRetry(1, FailureKind::kError, 1));
  EXPECT_FALSE(policy.ShouldRetry(1, FailureKind::kTransient, 1));
  EXPECT_FALSE(policy.ShouldRetry(1, FailureKind::kTimeout, std::nullopt));
}

TEST(RetryPolicyTest, OnExitCodesRetriesOnlyListedCodes) {
  RetryPolicy policy = Retries(3, RetryCondition::kOnExitCodes);
  policy.exit_codes = {75, 111};
  EXPECT_TRUE(policy.ShouldRetry(1, FailureKind::kError, 75));
  EXPECT_TRUE(policy.ShouldRetry(2, FailureKind::kTransient, 111));
  EXPECT_FALSE(policy.ShouldRetry(1, FailureKind::kError, 1));
  EXPECT_FALSE(policy.ShouldRetry(1, FailureKind::kTimeout, std::nullopt));
  EXPECT_FALSE(policy.ShouldRetry(4, FailureKind::kError, 75));
}

TEST(RetryPolicyTest, MaxRetriesAtTheTopOfItsRangeStillRetries) {
  const RetryPolicy policy = Retries(std::numeric_limits<uint32_t>::max(), RetryCondition::kAlways);
  EXPECT_TRUE(policy.ShouldRetry(1, FailureKind::kError, 1));
  EXPECT_TRUE(policy.ShouldRetry(std::numeric_limits<uint32_t>::max(), FailureKind::kError, 1));
}

TEST(RetryPolicyTest, FixedDelayIsTheSameForEveryAttempt) {
  const RetryPolicy policy = Backoff(milliseconds(5000), 1.0, std::chrono::hours(1));
  EXPECT_EQ(policy.DelayAfter(1), milliseconds(5000));
  EXPECT_EQ(policy.DelayAfter(2), milliseconds(5000));
  EXPECT_EQ(policy.DelayAfter(100), milliseconds(5000));
}

TEST(RetryPolicyTest, BackoffGrowsByTheMultiplier) {
  const RetryPolicy policy = Backoff(milliseconds(100), 2.0, std::chrono::hours(1));
  EXPECT_EQ(policy.DelayAfter(1), milliseconds(100));
  EXPECT_EQ(policy.DelayAfter(2), milliseconds(200));
  EXPECT_EQ(policy.DelayAfter(3), milliseconds(400));
  EXPECT_EQ(policy.DelayAfter(4), milliseconds(800));
}

TEST(RetryPolicyTest, BackoffIsCappedByMaxDelay) {
  const RetryPolicy policy = Backoff(milliseconds(100), 2.0, milliseconds(1000));
  EXPECT_EQ(policy.DelayAfter(4), milliseconds(800));
  EXPECT_EQ(policy.DelayAfter(5), milliseconds(1000));
  EXPECT_EQ(policy.DelayAfter(6), milliseconds(1000));
}

TEST(RetryPolicyTest, BackoffDoesNotOverflowForHugeAttemptNumbers) {
  const RetryPolicy policy = Backoff(milliseconds(1000), 10.0, std::chrono::hours(2));
  EXPECT_EQ(policy.DelayAfter(64), std::chrono::hours(2));
  EXPECT_EQ(policy.DelayAfter(1000), std::chrono::hours(2));
  EXPECT_EQ(policy.DelayAfter(std::numeric_limits<uint32_t>::max()), std::chrono::hours(2));

  const RetryPolicy unbounded =
      Backoff(milliseconds(1000), 3.0, milliseconds(std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(unbounded.DelayAfter(std::numeric_limits<uint32_t>::max()),
            milliseconds(std::numeric_limits<int64_t>::max()));
  EXPECT_GT(unbounded.DelayAfter(30), unbounded.DelayAfter(29));
}

TEST(RetryPolicyTest, ZeroDelayStaysZero) {
  const RetryPolicy policy = Backoff(milliseconds(0), 2.0, std::chrono::hours(1));
  EXPECT_EQ(policy.DelayAfter(1), milliseconds(0));
  EXPECT_EQ(policy.DelayAfter(50), milliseconds(0));
}

TEST(RetryPolicyTest, JitterWithoutJitterIsTheBaseDelay) {
  const RetryPolicy policy = Backoff(milliseconds(1000), 2.0, std::chrono::hours(1));
  EXPECT_EQ(policy.JitteredDelayAfter(2, 0.0), milliseconds(2000));
  EXPECT_EQ(policy.JitteredDelayAfter(2, 0.999), milliseconds(2000));
}

TEST(RetryPolicyTest, JitterStaysWithinItsFraction) {
  RetryPolicy policy = Backoff(milliseconds(1000), 2.0, std::chrono::hours(1));
  policy.jitter = 0.25;
  // delay * (1 - jitter * u) for u in [0, 1): within (750, 1000] for the first retry.
  EXPECT_EQ(policy.JitteredDelayAfter(1, 0.0), milliseconds(1000));
  EXPECT_EQ(policy.JitteredDelayAfter(1, 0.5), milliseconds(875));
  for (double u = 0.0; u < 1.0; u += 0.01) {
    const milliseconds jittered = policy.JitteredDelayAfter(1, u);
    EXPECT_LE(jittered, milliseconds(1000)) << u;
    EXPECT_GE(jittered, milliseconds(750)) << u;
  }
  EXPECT_GE(policy.JitteredDelayAfter(1, 0.999999), milliseconds(750));
}

TEST(RetryPolicyTest, FullJitterNeverGoesNegativeNorAboveTheCap) {
  RetryPolicy policy = Backoff(milliseconds(1000), 2.0, milliseconds(5000));
  policy.jitter = 1.0;
  EXPECT_GE(policy.JitteredDelayAfter(1, 0.999999), milliseconds(0));
  EXPECT_LE(policy.JitteredDelayAfter(1000, 0.0), milliseconds(5000));
  // Out-of-range randoms are clamped rather than trusted.
  EXPECT_EQ(policy.JitteredDelayAfter(1, -3.0), milliseconds(1000));
  EXPECT_GE(policy.JitteredDelayAfter(1, 7.0), milliseconds(0));
}

TEST(RetryPolicyTest, ValidateAcceptsASensiblePolicy) {
  RetryPolicy policy = Backoff(milliseconds(500), 2.0, milliseconds(60000));
  policy.jitter = 0.1;
  policy.condition = RetryCondition::kOnExitCodes;
  policy.exit_codes = {75};
  EXPECT_TRUE(policy.Validate().ok()) << policy.Validate().ToString();
}

TEST(RetryPolicyTest, ValidateRejectsAMultiplierBelowOne) {
  const Status status = Backoff(milliseconds(500), 0.5, milliseconds(60000)).Validate();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("multiplier"));
  EXPECT_FALSE(
      Backoff(milliseconds(500), std::numeric_limits<double>::infinity(), milliseconds(60000))
          .Validate()
          .ok());
}

TEST(RetryPolicyTest, ValidateRejectsJitterOutsideZeroToOne) {
  RetryPolicy policy;
  policy.jitter = 1.5;
  EXPECT_THAT(policy.Validate().message(), HasSubstr("jitter"));
  policy.jitter = -0.1;
  EXPECT_FALSE(policy.Validate().ok());
  policy.jitter = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(policy.Validate().ok());
}

TEST(RetryPolicyTest, ValidateRejectsNegativeDelaysAndADelayAboveTheCap) {
  EXPECT_THAT(Backoff(milliseconds(-1), 1.0, milliseconds(10)).Validate().message(),
              HasSubstr("must not be negative"));
  EXPECT_THAT(Backoff(milliseconds(20), 1.0, milliseconds(10)).Validate().message(),
              HasSubstr("retry delay (20ms) is longer than max_delay (10ms)"));
}

TEST(RetryPolicyTest, ValidateRequiresExitCodesExactlyForOnExitCodes) {
  RetryPolicy policy = Retries(1, RetryCondition::kOnExitCodes);
  EXPECT_THAT(policy.Validate().message(), HasSubstr("needs at least one exit code"));
  policy.condition = RetryCondition::kAlways;
  policy.exit_codes = {1};
  EXPECT_THAT(policy.Validate().message(), HasSubstr("apply only to 'on_exit_codes'"));
}

}  // namespace
}  // namespace petit
