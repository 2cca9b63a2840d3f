// RetryPlan: which tasks of an ended run run again and which keep their results (DESIGN §10).
// One plan model serves `petit retry`, the API and crash recovery, so "retry" means the same
// wherever it is asked for.
//
// A retry happens inside the same run: kept tasks keep their state and outputs (downstream tasks
// read those outputs as before), rerun tasks get new attempts whose numbers continue from their
// last one, and the run ends by the usual rules.
//
// Scopes:
// - kFailed (the default): every task whose last state is failed, cancelled, interrupted or
//   upstream_failed, plus everything downstream of them;
// - kFromTask: the named task and everything downstream of it;
// - kOnlyTask: the named task alone (its downstream tasks keep their results).
// Recovery plans per task instead (PlanRecovery): a task whose attempt was lost when its host
// died runs again if its retry policy allows one more attempt (the lost one counts); otherwise it
// ends interrupted. Tasks that never started run as usual, among them those whose last attempt
// was queued (waiting for a worker or a pool slot) and never started; so does a task whose last
// attempt failed and whose policy allows another (it was waiting out its retry delay).
//
// Pure functions of their arguments; any thread.
#ifndef PETIT_CORE_RETRY_PLAN_H_
#define PETIT_CORE_RETRY_PLAN_H_

#include <cstdint>
#include <vector>

#include "petit/core/dag.h"
#include "petit/core/ids.h"
#include "petit/core/state_store.h"
#include "petit/core/states.h"
#include "petit/core/status.h"

namespace petit {

enum class RetryScope : uint8_t { kFailed, kFromTask, kOnlyTask };

struct RetryRequest {
  RetryScope scope = RetryScope::kFailed;
  TaskId task;  // for kFromTask and kOnlyTask
};

// What each task of the run does when it resumes.
enum class TaskPlan : uint8_t {
  kKeep,         // its last state and outputs stand
  kRun,          // runs (again), its attempt numbers continue
  kInterrupted,  // recovery only: its lost attempt is final, recorded interrupted
};

struct RetryPlan {
  std::vector<TaskPlan> tasks;         // indexed like the Dag
  std::vector<uint32_t> last_attempt;  // indexed like the Dag: the highest attempt stored, 0 = none
  std::vector<TaskState> last_state;   // indexed like the Dag: the state of that attempt

  size_t Count(TaskPlan plan) const;
};

// The last attempt of each task of `dag` among `attempts` (a run's stored attempts, any order).
// Attempts of tasks the Dag does not have are ignored: the job may have changed since.
void LastAttempts(const Dag& dag, const std::vector<AttemptRecord>& attempts,
                  std::vector<uint32_t>& last_attempt, std::vector<TaskState>& last_state);

// The plan of a retry of an ended run. kInvalidArgument names an unknown task (with the closest
// id); kFailedPrecondition when the default scope finds nothing to retry.
Result<RetryPlan> PlanRetry(const Dag& dag, const std::vector<AttemptRecord>& attempts,
                            const RetryRequest& request);

// The plan that continues a run whose host died: see the header comment.
RetryPlan PlanRecovery(const Dag& dag, const std::vector<AttemptRecord>& attempts);

}  // namespace petit

#endif  // PETIT_CORE_RETRY_PLAN_H_
