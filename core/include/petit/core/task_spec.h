// TaskSpec and the policies it carries: what a job file says about one task, after loading.
//
// These are plain values built by the host's YAML loader (or by tests) and read by the engine;
// they hold no resources and are safe to share read-only between threads.
#ifndef PETIT_CORE_TASK_SPEC_H_
#define PETIT_CORE_TASK_SPEC_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "petit/core/ids.h"
#include "petit/core/status.h"

namespace petit {

// When a failed attempt is retried (the original Petit's three, plus exit-code lists).
enum class RetryCondition : uint8_t {
  kAlways,         // any failure
  kTransientOnly,  // timeouts and failures the task reports as transient
  kNever,
  kOnExitCodes,  // only when the exit code is in RetryPolicy::exit_codes
};

std::string_view RetryConditionName(RetryCondition condition);
Result<RetryCondition> ParseRetryCondition(std::string_view text);

// How an attempt ended, as far as retry decisions care.
enum class FailureKind : uint8_t {
  kError,      // the task failed
  kTransient,  // the task said the failure may pass
  kTimeout,    // the attempt's timeout ran out
  kCancelled,  // somebody cancelled it: never retried
};

struct RetryPolicy {
  // Retries after the first attempt (the original's meaning): 0 = run once, 3 = up to 4 attempts.
  uint32_t max_retries = 0;
  // Delay before the first retry; the original's fixed delay_secs.
  std::chrono::milliseconds delay{0};
  // Exponential backoff: delay * multiplier^(retry-1), capped at max_delay. 1.0 = fixed delay.
  double multiplier = 1.0;
  std::chrono::milliseconds max_delay{std::chrono::hours(1)};
  // Fraction of each delay that is randomised, in [0, 1]: delay * (1 - jitter * U[0,1)).
  double jitter = 0.0;
  RetryCondition condition = RetryCondition::kAlways;
  std::vector<int32_t> exit_codes;  // for kOnExitCodes

  uint32_t max_attempts() const { return max_retries + 1; }

  // Whether attempt number `attempt` (1-based) that failed this way may be followed by another.
  bool ShouldRetry(uint32_t attempt, FailureKind kind, std::optional<int32_t> exit_code) const;

  // The delay before attempt `attempt + 1`, before jitter. `attempt` is 1-based.
  std::chrono::milliseconds DelayAfter(uint32_t attempt) const;

  // The delay with jitter applied; `unit_random` is in [0, 1).
  std::chrono::milliseconds JitteredDelayAfter(uint32_t attempt, double unit_random) const;

  // Checks ranges (multiplier >= 1, jitter in [0, 1], exit codes present for kOnExitCodes).
  Status Validate() const;
};

// Named pool slots a task holds while it runs, plus system resources tracked the same way.
struct ResourceRequirements {
  std::map<std::string, uint32_t> slots;  // pool name -> slots, e.g. {"gpu": 1}
  uint32_t cpu_slots = 0;                 // 0 = not tracked
  uint64_t memory_mb = 0;                 // 0 = not tracked
  // Slots of the host-wide limit on attempts in flight (ResourceCapacity::max_tasks). Not a job
  // file field: the engine asks for one per attempt when the host sets the limit.
  uint32_t task_slots = 0;

  bool empty() const {
    return slots.empty() && cpu_slots == 0 && memory_mb == 0 && task_slots == 0;
  }
};

// When a task runs, judged on its direct upstream tasks once all of them are finished.
enum class TriggerRule : uint8_t {
  kAllSuccess,  // default: every upstream succeeded; otherwise the task is skipped
  kOnFailure,   // at least one upstream failed
  kAllDone,     // every upstream finished, whatever the outcome
  kAlways,      // like kAllDone, and also when an upstream was skipped
};

std::string_view TriggerRuleName(TriggerRule rule);
Result<TriggerRule> ParseTriggerRule(std::string_view text);

// Bounds of a captured-output cap (bytes per stream per attempt), whether petit.yaml sets it for
// the host or a task for itself: below 1 KiB a failing task's last words are lost, and 1 TiB is
// already "unlimited" for any disk that holds the store.
constexpr uint64_t kMinOutputCapBytes = 1024;
constexpr uint64_t kMaxOutputCapBytes = uint64_t{1} << 40;

struct TaskSpec {
  TaskId id;
  std::string name;                // display name; defaults to the id
  std::string type;                // plugin task type, e.g. "command"
  std::string params_json = "{}";  // the plugin's parameters as a JSON object
  std::vector<TaskId> depends_on;
  TriggerRule trigger = TriggerRule::kAllSuccess;
  RetryPolicy retry;
  ResourceRequirements resources;
  std::optional<std::chrono::milliseconds> timeout;  // per attempt
  int32_t priority = 0;                              // higher runs first among ready tasks
  // Captured bytes kept per stream per attempt of this task; unset = RunOptions::output_cap_bytes.
  std::optional<uint64_t> output_cap_bytes;
};

}  // namespace petit

#endif  // PETIT_CORE_TASK_SPEC_H_
