#include "petit/core/retry_plan.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "petit/core/suggest.h"

namespace petit {
namespace {

bool NeedsRetry(TaskState state) {
  switch (state) {
    case TaskState::kFailed:
    case TaskState::kCancelled:
    case TaskState::kInterrupted:
    case TaskState::kUpstreamFailed:
      return true;
    case TaskState::kSucceeded:
    case TaskState::kSkipped:
      return false;
    case TaskState::kPending:
    case TaskState::kQueued:
    case TaskState::kRunning:
      // Not terminal in an ended run: the run was stopped around it, so it has not finished.
      return true;
  }
  return true;
}

bool WasLost(TaskState state) {
  return state == TaskState::kQueued || state == TaskState::kRunning ||
         state == TaskState::kInterrupted;
}

void MarkWithDownstream(const Dag& dag, Dag::Index i, std::vector<TaskPlan>& tasks) {
  tasks[i] = TaskPlan::kRun;
  for (Dag::Index down : dag.TransitiveDownstream(i)) tasks[down] = TaskPlan::kRun;
}

Result<Dag::Index> FindTask(const Dag& dag, const TaskId& task) {
  if (std::optional<Dag::Index> i = dag.IndexOf(task)) return *i;
  std::vector<std::string_view> ids;
  for (Dag::Index i = 0; i < dag.size(); ++i) ids.push_back(dag.task(i).id.str());
  std::string message = "no task '" + task.str() + "' in job '" + dag.id().str() + "'";
  if (auto close = ClosestMatch(task.str(), ids)) message += " (did you mean '" + *close + "'?)";
  return InvalidArgument(std::move(message));
}

RetryPlan EmptyPlan(const Dag& dag, const std::vector<AttemptRecord>& attempts) {
  RetryPlan plan;
  plan.tasks.assign(dag.size(), TaskPlan::kKeep);
  LastAttempts(dag, attempts, plan.last_attempt, plan.last_state);
  return plan;
}

}  // namespace

size_t RetryPlan::Count(TaskPlan wanted) const {
  return static_cast<size_t>(std::count(tasks.begin(), tasks.end(), wanted));
}

void LastAttempts(const Dag& dag, const std::vector<AttemptRecord>& attempts,
                  std::vector<uint32_t>& last_attempt, std::vector<TaskState>& last_state) {
  last_attempt.assign(dag.size(), 0);
  last_state.assign(dag.size(), TaskState::kPending);
  std::vector<bool> seen(dag.size(), false);
  for (const AttemptRecord& attempt : attempts) {
    std::optional<Dag::Index> i = dag.IndexOf(attempt.task);
    if (!i) continue;
    if (seen[*i] && attempt.attempt < last_attempt[*i]) continue;
    seen[*i] = true;
    last_attempt[*i] = attempt.attempt;
    last_state[*i] = attempt.state;
  }
}

// A task the run did not finish that the job no longer defines: a retry would end the run by the
// job's tasks alone, so the run would succeed with that task's failure still recorded in it.
static Status CheckUnfinishedTasksStillExist(const Dag& dag,
                                             const std::vector<AttemptRecord>& attempts) {
  std::map<std::string_view, const AttemptRecord*> gone;  // task -> its last attempt
  for (const AttemptRecord& attempt : attempts) {
    if (dag.IndexOf(attempt.task)) continue;
    const AttemptRecord*& last = gone[attempt.task.str()];
    if (last == nullptr || attempt.attempt >= last->attempt) last = &attempt;
  }
  for (const auto& [task, last] : gone) {
    if (!NeedsRetry(last->state)) continue;
    return FailedPrecondition("the run's task '" + std::string(task) + "' (" +
                              std::string(TaskStateName(last->state)) + ") is no longer in job '" +
                              dag.id().str() +
                              "', so a retry could not redo it and the run would end without it: "
                              "trigger a new run instead");
  }
  return Status::Ok();
}

Result<RetryPlan> PlanRetry(const Dag& dag, const std::vector<AttemptRecord>& attempts,
                            const RetryRequest& request) {
  PETIT_RETURN_IF_ERROR(CheckUnfinishedTasksStillExist(dag, attempts));
  RetryPlan plan = EmptyPlan(dag, attempts);
  switch (request.scope) {
    case RetryScope::kFailed:
      for (Dag::Index i = 0; i < dag.size(); ++i) {
        if (NeedsRetry(plan.last_state[i])) MarkWithDownstream(dag, i, plan.tasks);
      }
      if (plan.Count(TaskPlan::kRun) == 0) {
        return FailedPrecondition(
            "nothing to retry: every task of the run succeeded or was "
            "skipped (use --from TASK or --task TASK to run one again)");
      }
      return plan;
    case RetryScope::kFromTask: {
      Result<Dag::Index> i = FindTask(dag, request.task);
      if (!i.ok()) return i.status();
      MarkWithDownstream(dag, *i, plan.tasks);
      return plan;
    }
    case RetryScope::kOnlyTask: {
      Result<Dag::Index> i = FindTask(dag, request.task);
      if (!i.ok()) return i.status();
      plan.tasks[*i] = TaskPlan::kRun;
      return plan;
    }
  }
  return plan;
}

RetryPlan PlanRecovery(const Dag& dag, const std::vector<AttemptRecord>& attempts) {
  RetryPlan plan = EmptyPlan(dag, attempts);
  std::vector<const AttemptRecord*> last(dag.size(), nullptr);
  for (const AttemptRecord& attempt : attempts) {
    std::optional<Dag::Index> i = dag.IndexOf(attempt.task);
    if (i && attempt.attempt == plan.last_attempt[*i]) last[*i] = &attempt;
  }
  for (Dag::Index i = 0; i < dag.size(); ++i) {
    const TaskState state = plan.last_state[i];
    if (plan.last_attempt[i] == 0 && !IsTerminal(state)) {
      plan.tasks[i] = TaskPlan::kRun;  // never started: runs as it would have
      continue;
    }
    const RetryPolicy& policy = dag.task(i).retry;
    if (state == TaskState::kFailed && last[i] != nullptr) {
      // A failed attempt whose policy allows another was waiting out its retry delay when the
      // host died: the decision lives in the run's memory only, so it is taken again here, and
      // the retry runs at once. The store keeps no failure kind: a timeout is known by its error;
      // a failure the task called transient counts as a plain error (no retry under
      // transient_only), and one with invalid parameters may get one more attempt, which fails.
      const bool timed_out = last[i]->error.starts_with("timed out after ");
      if (policy.ShouldRetry(plan.last_attempt[i],
                             timed_out ? FailureKind::kTimeout : FailureKind::kError,
                             last[i]->exit_code)) {
        plan.tasks[i] = TaskPlan::kRun;
      }
      continue;
    }
    if (!WasLost(state)) continue;
    if (last[i] != nullptr && last[i]->started_us == 0) {
      // Still waiting for a worker or a pool slot when the host died (queued, then interrupted
      // by the takeover): admitted by the policy already and never started, nothing was lost, so
      // it runs as it would have, whatever attempts the policy has left.
      plan.tasks[i] = TaskPlan::kRun;
      continue;
    }
    // The lost attempt counts; a host crash is the kind of failure that may pass.
    const bool retry =
        policy.ShouldRetry(plan.last_attempt[i], FailureKind::kTransient, std::nullopt);
    plan.tasks[i] = retry ? TaskPlan::kRun : TaskPlan::kInterrupted;
  }
  return plan;
}

}  // namespace petit
