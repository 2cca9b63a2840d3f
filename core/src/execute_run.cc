#include "petit/core/execute_run.h"

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "executor/run_coordinator.h"
#include "executor/worker_pool.h"

namespace petit {

void RunCanceller::Cancel() {
  std::vector<std::function<void()>> wakeups;
  {
    MutexLock lock(mu_);
    if (cancelled_.exchange(true, std::memory_order_acq_rel)) return;
    for (auto& [id, wake] : wakeups_) wakeups.push_back(wake);
  }
  for (auto& wake : wakeups) wake();
}

RunCanceller::WakeupId RunCanceller::AddWakeup(std::function<void()> wake) {
  WakeupId id = 0;
  {
    MutexLock lock(mu_);
    id = next_id_++;
    wakeups_.emplace(id, wake);
    if (!cancelled()) return id;
  }
  wake();
  return id;
}

void RunCanceller::RemoveWakeup(WakeupId id) {
  MutexLock lock(mu_);
  wakeups_.erase(id);
}

Status CheckTaskTypes(const Job& job, const TaskRunnerRegistry& runners) {
  std::string problems;
  // The previous task's type, when known: tasks mostly share a few types, and comparing costs
  // less than the registry's hash lookup (once per task per run).
  const std::string* known = nullptr;
  for (Dag::Index i = 0; i < job.dag.size(); ++i) {
    const TaskSpec& spec = job.dag.task(i);
    if (known != nullptr && spec.type == *known) continue;
    if (runners.Find(spec.type) != nullptr) {
      known = &spec.type;
      continue;
    }
    if (!problems.empty()) problems += "\n";
    problems += "task '" + spec.id.str() + "' has unknown type '" + spec.type + "'";
  }
  if (problems.empty()) return Status::Ok();
  return InvalidArgument(std::move(problems));
}

std::vector<UngrantableTask> FindUngrantableTasks(const Job& job,
                                                  const ResourceManager* resources) {
  std::vector<UngrantableTask> ungrantable;
  for (Dag::Index i = 0; i < job.dag.size(); ++i) {
    const TaskSpec& spec = job.dag.task(i);
    if (spec.resources.empty()) continue;
    Status status = resources != nullptr ? resources->Check(spec.resources)
                                         : InvalidArgument("this host has no resource pools");
    if (!status.ok()) ungrantable.push_back({spec.id, std::move(status)});
  }
  return ungrantable;
}

Status CheckTaskResources(const Job& job, const ResourceManager* resources) {
  std::string problems;
  for (const UngrantableTask& task : FindUngrantableTasks(job, resources)) {
    if (!problems.empty()) problems += "\n";
    problems += "task '" + task.task.str() + "': " + task.why.message();
  }
  if (problems.empty()) return Status::Ok();
  return InvalidArgument(std::move(problems));
}

namespace {

Status CheckRunnable(const Job& job, const TaskRunnerRegistry& runners, const RunOptions& options) {
  if (!job.dag.validated()) {
    return FailedPrecondition("job '" + job.id.str() + "' has not been validated");
  }
  PETIT_RETURN_IF_ERROR(CheckTaskTypes(job, runners));
  return CheckTaskResources(job, options.resources);
}

// An admitted run that cannot start ends failed with the reason, rather than holding a run slot
// of its job until recovery finds it. Best effort: the caller reports `why` either way.
void RecordNeverStarted(const RunRecord& admitted, const Status& why, StateStore& store,
                        const RunOptions& options) {
  const Clock& clock = options.clock != nullptr ? *options.clock : SystemClock::Instance();
  RunRecord failed = admitted;
  failed.status = RunStatus::kFailed;
  failed.ended_us = clock.NowMicros();
  failed.error = why.message();
  (void)store.UpdateRun(failed);
  // Its end is an event like any run's, so that whoever watches the run (the API's event stream)
  // learns that it ended.
  if (options.events != nullptr) {
    options.events->Emit([&] {
      return Event{.type = EventType::kJobCompleted,
                   .time_us = failed.ended_us,
                   .job = failed.job,
                   .run = failed.id,
                   .detail = std::string(RunStatusName(failed.status))};
    });
  }
}

}  // namespace

Result<RunRecord> ExecuteRun(const Job& job, const RunId& run_id, const TaskRunnerRegistry& runners,
                             StateStore& store, const RunOptions& options) {
  Status runnable = CheckRunnable(job, runners, options);
  if (!runnable.ok()) {
    if (options.admitted != nullptr)
      RecordNeverStarted(*options.admitted, runnable, store, options);
    return runnable;
  }
  return internal::CoordinateRun(job, run_id, runners, store, options);
}

size_t AbandonedWorkerThreads() { return internal::AbandonedWorkerThreadCount(); }

}  // namespace petit
