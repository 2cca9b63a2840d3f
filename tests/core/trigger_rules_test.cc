// Trigger rules (core/src/executor/trigger_rules.h), table-driven: every rule against every
// terminal outcome of one upstream, and against mixes of two and three upstreams.
#include "executor/trigger_rules.h"

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace petit::internal {
namespace {

constexpr TaskState kPending = TaskState::kPending;  // stands for "no upstream named"
constexpr TaskState kSucceeded = TaskState::kSucceeded;
constexpr TaskState kFailed = TaskState::kFailed;
constexpr TaskState kSkipped = TaskState::kSkipped;
constexpr TaskState kUpstreamFailed = TaskState::kUpstreamFailed;
constexpr TaskState kCancelled = TaskState::kCancelled;
constexpr TaskState kInterrupted = TaskState::kInterrupted;

constexpr TriggerVerdict kRun = TriggerVerdict::kRun;
constexpr TriggerVerdict kSkip = TriggerVerdict::kSkip;
constexpr TriggerVerdict kUpFailed = TriggerVerdict::kUpstreamFailed;

constexpr std::optional<uint32_t> kNoCause = std::nullopt;

struct Row {
  TriggerRule rule;
  std::vector<TaskState> upstreams;  // in the task's upstream order
  TriggerVerdict verdict;
  std::optional<uint32_t> cause;  // position of the upstream the verdict names
};

std::ostream& operator<<(std::ostream& out, const Row& row) {
  out << TriggerRuleName(row.rule) << " after {";
  for (size_t i = 0; i < row.upstreams.size(); ++i) {
    out << (i ? ", " : "") << TaskStateName(row.upstreams[i]);
  }
  return out << "}";
}

UpstreamSummary Summarise(const std::vector<TaskState>& states) {
  UpstreamSummary summary;
  for (TaskState state : states) summary.Add(state);
  return summary;
}

constexpr TriggerRule kAllSuccess = TriggerRule::kAllSuccess;
constexpr TriggerRule kOnFailure = TriggerRule::kOnFailure;
constexpr TriggerRule kAllDone = TriggerRule::kAllDone;
constexpr TriggerRule kAlways = TriggerRule::kAlways;

// One upstream: each rule against each terminal outcome.
const Row kSingleUpstream[] = {
    {kAllSuccess, {kSucceeded}, kRun, kNoCause},
    {kAllSuccess, {kFailed}, kUpFailed, 0},
    {kAllSuccess, {kUpstreamFailed}, kUpFailed, 0},
    {kAllSuccess, {kSkipped}, kSkip, 0},  // skips propagate
    {kAllSuccess, {kCancelled}, kSkip, 0},
    {kAllSuccess, {kInterrupted}, kSkip, 0},

    {kOnFailure, {kSucceeded}, kSkip, kNoCause},
    {kOnFailure, {kFailed}, kRun, kNoCause},
    {kOnFailure, {kUpstreamFailed}, kRun, kNoCause},
    {kOnFailure, {kSkipped}, kSkip, kNoCause},
    {kOnFailure, {kCancelled}, kSkip, kNoCause},
    {kOnFailure, {kInterrupted}, kSkip, kNoCause},

    {kAllDone, {kSucceeded}, kRun, kNoCause},
    {kAllDone, {kFailed}, kRun, kNoCause},
    {kAllDone, {kUpstreamFailed}, kRun, kNoCause},
    {kAllDone, {kSkipped}, kSkip, 0},
    {kAllDone, {kCancelled}, kRun, kNoCause},
    {kAllDone, {kInterrupted}, kRun, kNoCause},

    {kAlways, {kSucceeded}, kRun, kNoCause},
    {kAlways, {kFailed}, kRun, kNoCause},
    {kAlways, {kUpstreamFailed}, kRun, kNoCause},
    {kAlways, {kSkipped}, kRun, kNoCause},
    {kAlways, {kCancelled}, kRun, kNoCause},
    {kAlways, {kInterrupted}, kRun, kNoCause},
};

// Several upstreams: which outcome wins, and which upstream the verdict names (the first of its
// kind, in upstream order).
const Row kMixedUpstreams[] = {
    {kAllSuccess, {kSucceeded, kSucceeded, kSucceeded}, kRun, kNoCause},
    {kAllSuccess, {kSucceeded, kFailed}, kUpFailed, 1},
    {kAllSuccess, {kSkipped, kFailed}, kUpFailed, 1},  // a failure beats a skip
    {kAllSuccess, {kCancelled, kUpstreamFailed, kFailed}, kUpFailed, 1},
    {kAllSuccess, {kSucceeded, kSkipped}, kSkip, 1},
    {kAllSuccess, {kInterrupted, kSkipped}, kSkip, 0},  // names the first that did not succeed
    {kAllSuccess, {kSucceeded, kCancelled, kSkipped}, kSkip, 1},

    {kOnFailure, {kSucceeded, kFailed}, kRun, kNoCause},
    {kOnFailure, {kSkipped, kUpstreamFailed}, kRun, kNoCause},
    {kOnFailure, {kSucceeded, kSkipped, kCancelled, kInterrupted}, kSkip, kNoCause},
    {kOnFailure, {kSucceeded, kSucceeded}, kSkip, kNoCause},

    {kAllDone, {kSucceeded, kFailed, kCancelled, kInterrupted}, kRun, kNoCause},
    {kAllDone, {kFailed, kSkipped}, kSkip, 1},  // a skip beats a failure
    {kAllDone, {kSucceeded, kSkipped, kSkipped}, kSkip, 1},

    {kAlways, {kFailed, kSkipped, kCancelled}, kRun, kNoCause},
    {kAlways, {kUpstreamFailed, kInterrupted, kSucceeded}, kRun, kNoCause},
};

void ExpectDecisions(const Row* begin, const Row* end) {
  for (const Row* row = begin; row != end; ++row) {
    const TriggerDecision decision = DecideTrigger(row->rule, Summarise(row->upstreams));
    EXPECT_EQ(decision.verdict, row->verdict) << *row;
    EXPECT_EQ(decision.cause, row->cause) << *row;
  }
}

TEST(TriggerRulesTest, EveryRuleAgainstEveryOutcomeOfOneUpstream) {
  ExpectDecisions(std::begin(kSingleUpstream), std::end(kSingleUpstream));
}

TEST(TriggerRulesTest, MixedUpstreamsDecideAndNameTheFirstUpstreamOfTheWinningKind) {
  ExpectDecisions(std::begin(kMixedUpstreams), std::end(kMixedUpstreams));
}

TEST(TriggerRulesTest, TheSummaryRemembersTheFirstUpstreamOfEachKind) {
  const UpstreamSummary summary =
      Summarise({kSucceeded, kCancelled, kSkipped, kFailed, kUpstreamFailed, kSkipped});
  EXPECT_EQ(summary.count, 6u);
  EXPECT_EQ(summary.first_not_succeeded, 1u);
  EXPECT_EQ(summary.first_skipped, 2u);
  EXPECT_EQ(summary.first_failed, 3u);
  const UpstreamSummary all_good = Summarise({kSucceeded, kSucceeded});
  EXPECT_EQ(all_good.first_not_succeeded, std::nullopt);
  EXPECT_EQ(all_good.first_skipped, std::nullopt);
  EXPECT_EQ(all_good.first_failed, std::nullopt);
}

struct ReasonRow {
  TriggerRule rule;
  TriggerDecision decision;
  TaskState cause_state;
  std::string reason;
};

TEST(TriggerRulesTest, ReasonsNameTheUpstreamAndWhatBecameOfIt) {
  const ReasonRow rows[] = {
      {kAllSuccess, {kUpFailed, 0}, kFailed, "upstream 'extract' did not succeed"},
      {kAllSuccess, {kUpFailed, 0}, kUpstreamFailed, "upstream 'extract' did not succeed"},
      {kAllSuccess, {kSkip, 0}, kSkipped, "upstream 'extract' was skipped"},
      {kAllSuccess, {kSkip, 0}, kCancelled, "upstream 'extract' was cancelled"},
      {kAllSuccess, {kSkip, 0}, kInterrupted, "upstream 'extract' was interrupted"},
      {kOnFailure, {kSkip, kNoCause}, kPending, "trigger rule on_failure: no upstream failed"},
      {kAllDone, {kSkip, 0}, kSkipped, "trigger rule all_done: upstream 'extract' was skipped"},
      {kAllSuccess, {kRun, kNoCause}, kPending, ""},
      {kAlways, {kRun, kNoCause}, kPending, ""},
  };
  for (const ReasonRow& row : rows) {
    EXPECT_EQ(TriggerReason(row.rule, row.decision, "extract", row.cause_state), row.reason)
        << TriggerRuleName(row.rule);
  }
}

}  // namespace
}  // namespace petit::internal
