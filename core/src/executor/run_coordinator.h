// The engine behind ExecuteRun (petit/core/execute_run.h), which checks a job before handing it
// here. The calling thread becomes the run's coordinator: it owns the run's state, shares it with
// the workers of the process's WorkerPool that finish its attempts (one driver at a time, see
// run_inbox.h), and sleeps only in its RunInbox.
#ifndef PETIT_CORE_SRC_EXECUTOR_RUN_COORDINATOR_H_
#define PETIT_CORE_SRC_EXECUTOR_RUN_COORDINATOR_H_

#include "petit/core/execute_run.h"
#include "petit/core/ids.h"
#include "petit/core/job.h"
#include "petit/core/state_store.h"
#include "petit/core/status.h"
#include "petit/core/task_runner.h"

namespace petit::internal {

// Runs a validated job whose task types and resources were checked; see ExecuteRun.
Result<RunRecord> CoordinateRun(const Job& job, const RunId& run_id,
                                const TaskRunnerRegistry& runners, StateStore& store,
                                const RunOptions& options);

}  // namespace petit::internal

#endif  // PETIT_CORE_SRC_EXECUTOR_RUN_COORDINATOR_H_
