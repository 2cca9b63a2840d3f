// Planning a retry of a stored run, as every front end asks for it (petit retry, later the API and
// the web UI): the run must exist and have ended, its job must be known, and the plan
// (core/retry_plan.h) says which tasks run again. Nothing here changes the store; the engine
// reopens the run atomically when the retry starts (StateStore::ReopenRun).
//
// Threads: as thread-safe as the store.
#ifndef PETIT_HOST_RUNTIME_RETRY_H_
#define PETIT_HOST_RUNTIME_RETRY_H_

#include <functional>
#include <memory>
#include <string>

#include "petit/core/execute_run.h"
#include "petit/core/job.h"
#include "petit/core/retry_plan.h"
#include "petit/core/state_store.h"

namespace petit::host {

struct PlannedRetry {
  RunRecord run;
  std::shared_ptr<const Job> job;
  std::shared_ptr<const RunResumption> resumption;  // the plan and the run's attempts
};

// Finds the definition of a job by id; nullptr when this host has none.
using JobFinder = std::function<std::shared_ptr<const Job>(const JobId&)>;

// kNotFound: no such run, or its job is not defined here; kFailedPrecondition: the run has not
// ended, or the default scope finds nothing to retry; kInvalidArgument: an unknown task.
Result<PlannedRetry> PlanRunRetry(StateStore& store, const JobFinder& find_job, const RunId& run,
                                  const RetryRequest& request);

// The plan for people, one line per task in topological order: "run   transform  (attempt 3,
// was failed)" or "keep  extract  (succeeded)".
std::string DescribeRetry(const PlannedRetry& retry);

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_RETRY_H_
