// Job: a named DAG of tasks with its configuration, as loaded from one job file.
//
// A plain value; once built (and its Dag validated) it is immutable and shared read-only between
// the threads of the runs that use it.
#ifndef PETIT_CORE_JOB_H_
#define PETIT_CORE_JOB_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "petit/core/context.h"
#include "petit/core/dag.h"
#include "petit/core/ids.h"
#include "petit/core/schedule.h"

namespace petit {

// What the scheduler does with an occurrence that falls due while max_active_runs runs of the
// job are active.
enum class OverlapPolicy : uint8_t {
  kSkip,            // drop the occurrence (the original Petit's behaviour)
  kQueue,           // start it when a run ends (one waiting occurrence at most)
  kCancelPrevious,  // cancel the oldest active run, then start
};

// What the scheduler does with occurrences missed while the host was down or the job paused.
enum class CatchUpPolicy : uint8_t {
  kNone,    // skip them; the next occurrence after now fires as usual
  kLatest,  // run once for the most recent missed occurrence
  kAll,     // run each missed occurrence, oldest first, at most catch_up_limit of them
};

// A condition on another job that must hold before a scheduled run of this one starts.
struct JobDependency {
  enum class Condition : uint8_t {
    kLastSuccess,   // the other job's latest finished run succeeded
    kLastComplete,  // the other job's latest run has finished, whatever its status
    kWithinWindow,  // the other job succeeded within `window` before now
  };
  JobId job;
  Condition condition = Condition::kLastSuccess;
  std::chrono::seconds window{0};  // only for kWithinWindow; > 0
};

// The names job files use for these values, and every value with its name in documentation order
// (for parsers and their messages).
std::string_view OverlapPolicyName(OverlapPolicy policy);
std::string_view CatchUpPolicyName(CatchUpPolicy policy);
std::string_view JobDependencyConditionName(JobDependency::Condition condition);
std::span<const std::pair<OverlapPolicy, std::string_view>> OverlapPolicyNames();
std::span<const std::pair<CatchUpPolicy, std::string_view>> CatchUpPolicyNames();
std::span<const std::pair<JobDependency::Condition, std::string_view>>
JobDependencyConditionNames();

struct Job {
  JobId id;
  std::string name;
  std::string description;
  Dag dag;
  std::shared_ptr<const ValueMap> config = std::make_shared<const ValueMap>();
  uint32_t max_parallel_tasks = 0;  // per run of this job; 0 = only the global limit applies
  bool enabled = true;
  std::string source_file;  // where it was loaded from, for messages

  std::optional<Schedule> schedule;  // none: runs only when triggered
  uint32_t max_active_runs = 1;      // `max_concurrency` in the original format; 0 = unlimited
  OverlapPolicy overlap = OverlapPolicy::kSkip;
  CatchUpPolicy catch_up = CatchUpPolicy::kNone;
  uint32_t catch_up_limit = 10;  // for CatchUpPolicy::kAll
  std::vector<JobDependency> depends_on;
  // What the HTTP API may serve of values that often hold secrets (the job file's `api_visible`):
  // by default the config values and the tasks' `environment` values are shown as "***".
  bool api_shows_config = false;
  bool api_shows_environment = false;
};

// The admission rule, wherever a run is started (the scheduler, `petit trigger`): another run of
// `job` may start while fewer than max_active_runs of its runs are active (0 = unlimited).
inline bool AdmitsAnotherRun(const Job& job, size_t active_runs) {
  return job.max_active_runs == 0 || active_runs < job.max_active_runs;
}

}  // namespace petit

#endif  // PETIT_CORE_JOB_H_
