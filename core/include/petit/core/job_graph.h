// CheckJobGraph: validates the dependencies between jobs (Job::depends_on) across a set of jobs,
// such as every job loaded from one directory.
//
// A scheduled run of a job waits until its dependencies hold, so each must name a job of the set,
// never the job itself, and the dependencies must not form a cycle: the jobs of a cycle would wait
// on each other for ever. Edges are written the way dependencies read, "a -> b" for "a depends on
// b", like task cycles in dag.h.
//
// Threads: a pure function of its argument; call it from any thread.
#ifndef PETIT_CORE_JOB_GRAPH_H_
#define PETIT_CORE_JOB_GRAPH_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "petit/core/ids.h"
#include "petit/core/job.h"

namespace petit {

struct JobGraphProblem {
  enum class Kind : uint8_t {
    kUnknownJob,      // the dependency names no job of the set
    kSelfDependency,  // the job depends on itself
    kCycle,           // the dependency is the first edge of a cycle
  };
  Kind kind = Kind::kUnknownJob;
  size_t job = 0;         // index of the job, in the span given, whose depends_on is at fault
  size_t dependency = 0;  // index of the entry in that job's depends_on
  // kCycle only: the jobs of the cycle in dependency order, starting at `job` (the job of the cycle
  // with the smallest id) and ending with it again: {a, b, a}.
  std::vector<JobId> cycle;
  // One line: "job 'a' depends on unknown job 'x' (did you mean 'y'?)", "job 'a' depends on
  // itself", "job dependency cycle: a -> b -> a".
  std::string message;
};

// Every problem of `jobs`, ordered by job then dependency. Each cycle (each strongly connected set
// of jobs) is reported once, as a shortest cycle through its smallest id. Job ids in `jobs` must be
// unique (the loader reports duplicates first); on a duplicate the first job wins.
// Cost: O(V + E) plus the suggestion search for unknown names.
std::vector<JobGraphProblem> CheckJobGraph(std::span<const Job> jobs);

}  // namespace petit

#endif  // PETIT_CORE_JOB_GRAPH_H_
