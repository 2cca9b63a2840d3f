// Job: a named DAG of tasks with its configuration, as loaded from one job file.
//
// A plain value; once built (and its Dag validated) it is immutable and shared read-only between
// the threads of the runs that use it.
#ifndef PETIT_CORE_JOB_H_
#define PETIT_CORE_JOB_H_

#include <cstdint>
#include <memory>
#include <string>

#include "petit/core/context.h"
#include "petit/core/dag.h"
#include "petit/core/ids.h"

namespace petit {

struct Job {
  JobId id;
  std::string name;
  std::string description;
  Dag dag;
  std::shared_ptr<const ValueMap> config = std::make_shared<const ValueMap>();
  uint32_t max_parallel_tasks = 0;  // per run of this job; 0 = only the global limit applies
  bool enabled = true;
  std::string source_file;  // where it was loaded from, for messages
};

}  // namespace petit

#endif  // PETIT_CORE_JOB_H_
