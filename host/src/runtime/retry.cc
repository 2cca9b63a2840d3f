#include "runtime/retry.h"

#include <utility>
#include <vector>

namespace petit::host {

Result<PlannedRetry> PlanRunRetry(StateStore& store, const JobFinder& find_job, const RunId& run,
                                  const RetryRequest& request) {
  Result<std::optional<RunRecord>> stored = store.GetRun(run);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return NotFound("no run " + run.str());
  const RunRecord& record = **stored;
  if (!IsTerminal(record.status)) {
    return FailedPrecondition("run " + run.str() + " is still " +
                              std::string(RunStatusName(record.status)) +
                              ": cancel it or wait for it to end before retrying it");
  }
  std::shared_ptr<const Job> job = find_job(record.job);
  if (job == nullptr) {
    return NotFound("run " + run.str() + " belongs to job '" + record.job.str() +
                    "', which is not defined here");
  }
  Result<std::vector<AttemptRecord>> attempts = store.ListAttempts(run);
  if (!attempts.ok()) return attempts.status();
  Result<RetryPlan> plan = PlanRetry(job->dag, *attempts, request);
  if (!plan.ok()) return plan.status().WithContext("run " + run.str());
  auto resumption = std::make_shared<RunResumption>();
  resumption->plan = std::move(plan).value();
  resumption->attempts = std::move(attempts).value();
  return PlannedRetry{record, std::move(job), std::move(resumption)};
}

std::string DescribeRetry(const PlannedRetry& retry) {
  const Dag& dag = retry.job->dag;
  const RetryPlan& plan = retry.resumption->plan;
  std::string text;
  for (Dag::Index i : dag.TopologicalOrder()) {
    const std::string id = dag.task(i).id.str();
    const std::string was(TaskStateName(plan.last_state[i]));
    if (plan.tasks[i] == TaskPlan::kRun) {
      text += "run   " + id + "  (attempt " + std::to_string(plan.last_attempt[i] + 1);
      text += plan.last_attempt[i] == 0 && plan.last_state[i] == TaskState::kPending
                  ? ")\n"
                  : ", was " + was + ")\n";
    } else {
      text += "keep  " + id + "  (" + was + ")\n";
    }
  }
  return text;
}

}  // namespace petit::host
