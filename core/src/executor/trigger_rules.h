// Trigger rules (DESIGN §3): whether a task runs, judged on its direct upstreams once all of them
// are terminal. Pure functions of the rule and a summary of the upstreams' states.
//
//   all_success  runs when every upstream succeeded; otherwise upstream_failed if one failed (or
//                was upstream_failed), else skipped, so skips propagate.
//   on_failure   runs when an upstream failed (or was upstream_failed); otherwise skipped.
//   all_done     runs unless an upstream was skipped (then skipped too).
//   always       runs.
// Cancelled and interrupted upstreams count as neither succeeded, failed nor skipped. A cancelled
// run cancels its waiting tasks before any rule is asked (RunCoordinator).
#ifndef PETIT_CORE_SRC_EXECUTOR_TRIGGER_RULES_H_
#define PETIT_CORE_SRC_EXECUTOR_TRIGGER_RULES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "petit/core/states.h"
#include "petit/core/task_spec.h"

namespace petit::internal {

// What a trigger rule decides for a task whose direct upstreams have all finished.
enum class TriggerVerdict : uint8_t {
  kRun,             // the task is queued
  kSkip,            // it ends kSkipped without running
  kUpstreamFailed,  // it ends kUpstreamFailed without running
};

// The direct upstreams' terminal states, as far as the rules tell them apart. Add() them in the
// task's upstream order; each kind remembers the position of its first upstream, so a decision
// can name the upstream it hinges on.
struct UpstreamSummary {
  // Records the next upstream's state, which must be terminal.
  void Add(TaskState state);

  uint32_t count = 0;
  std::optional<uint32_t> first_failed;         // kFailed or kUpstreamFailed
  std::optional<uint32_t> first_skipped;        // kSkipped
  std::optional<uint32_t> first_not_succeeded;  // anything but kSucceeded
};

struct TriggerDecision {
  TriggerVerdict verdict = TriggerVerdict::kRun;
  // The position (in Add() order) of the upstream the decision hinges on: the first failed one
  // for kUpstreamFailed, the skipped or unsuccessful one for kSkip. nullopt when it names none
  // (the task runs, or on_failure found no failure).
  std::optional<uint32_t> cause;

  bool operator==(const TriggerDecision&) const = default;
};

// Requires at least one upstream: a task without upstreams runs without being judged.
TriggerDecision DecideTrigger(TriggerRule rule, const UpstreamSummary& upstreams);

// Why a task that does not run does not, as its attempt records it. `cause_id` and `cause_state`
// describe the upstream `decision.cause` names, and are ignored when it names none.
std::string TriggerReason(TriggerRule rule, const TriggerDecision& decision,
                          std::string_view cause_id, TaskState cause_state);

}  // namespace petit::internal

#endif  // PETIT_CORE_SRC_EXECUTOR_TRIGGER_RULES_H_
