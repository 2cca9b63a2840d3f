#include "executor/trigger_rules.h"

#include <cassert>
#include <string>

namespace petit::internal {

void UpstreamSummary::Add(TaskState state) {
  assert(IsTerminal(state) && "trigger rules judge finished upstreams only");
  const uint32_t position = count++;
  if ((state == TaskState::kFailed || state == TaskState::kUpstreamFailed) && !first_failed) {
    first_failed = position;
  }
  if (state == TaskState::kSkipped && !first_skipped) first_skipped = position;
  if (state != TaskState::kSucceeded && !first_not_succeeded) first_not_succeeded = position;
}

TriggerDecision DecideTrigger(TriggerRule rule, const UpstreamSummary& upstreams) {
  assert(upstreams.count > 0 && "a task without upstreams is not judged");
  switch (rule) {
    case TriggerRule::kAllSuccess:
      if (!upstreams.first_not_succeeded) return {TriggerVerdict::kRun, std::nullopt};
      if (upstreams.first_failed) {
        return {TriggerVerdict::kUpstreamFailed, upstreams.first_failed};
      }
      return {TriggerVerdict::kSkip, upstreams.first_not_succeeded};
    case TriggerRule::kOnFailure:
      if (upstreams.first_failed) return {TriggerVerdict::kRun, std::nullopt};
      return {TriggerVerdict::kSkip, std::nullopt};
    case TriggerRule::kAllDone:
      if (!upstreams.first_skipped) return {TriggerVerdict::kRun, std::nullopt};
      return {TriggerVerdict::kSkip, upstreams.first_skipped};
    case TriggerRule::kAlways:
      return {TriggerVerdict::kRun, std::nullopt};
  }
  return {TriggerVerdict::kRun, std::nullopt};
}

std::string TriggerReason(TriggerRule rule, const TriggerDecision& decision,
                          std::string_view cause_id, TaskState cause_state) {
  if (decision.verdict == TriggerVerdict::kRun) return {};
  const std::string cause = "'" + std::string(cause_id) + "'";
  switch (rule) {
    case TriggerRule::kAllSuccess:
      if (decision.verdict == TriggerVerdict::kUpstreamFailed) {
        return "upstream " + cause + " did not succeed";
      }
      return "upstream " + cause + " was " + std::string(TaskStateName(cause_state));
    case TriggerRule::kOnFailure:
      return "trigger rule on_failure: no upstream failed";
    case TriggerRule::kAllDone:
      return "trigger rule all_done: upstream " + cause + " was skipped";
    case TriggerRule::kAlways:
      break;
  }
  return {};
}

}  // namespace petit::internal
