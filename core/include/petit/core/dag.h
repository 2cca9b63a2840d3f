// Dag: the tasks of a job and their dependencies, analysed with Boost.Graph.
//
// Build it by adding tasks and edges in any order (a dependency may name a task added later);
// Validate() then checks everything at once and names what is wrong: an invalid or duplicate task
// id, a missing or repeated dependency, a self-dependency, a cycle (as a path "a -> b -> c -> a",
// read "a depends on b", like ninja's). Queries other than Validate(), size(), task() and IndexOf()
// require a valid Dag.
//
// Boost.Graph stays inside dag.cc (pimpl), so including this header does not pull Boost in.
// Threads: a Dag is built on one thread; once validated it is immutable and may be read from any.
#ifndef PETIT_CORE_DAG_H_
#define PETIT_CORE_DAG_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "petit/core/ids.h"
#include "petit/core/states.h"
#include "petit/core/status.h"
#include "petit/core/task_spec.h"

namespace petit {

class Dag {
 public:
  using Index = uint32_t;  // dense task index, in insertion order

  explicit Dag(DagId id = DagId{});
  ~Dag();
  Dag(Dag&&) noexcept;
  Dag& operator=(Dag&&) noexcept;
  Dag(const Dag&);
  Dag& operator=(const Dag&);

  const DagId& id() const { return id_; }

  // Room for `tasks` tasks, so that adding them does not move the ones added (a loader knows how
  // many it will add; growing by doubling holds up to three times the tasks while it copies).
  void Reserve(size_t tasks);
  // Adds a task with its spec.depends_on as its dependencies. A second task with the same id is
  // remembered and reported by Validate() (so every error in a file can be listed at once).
  void AddTask(TaskSpec spec);
  // Adds one more dependency `task` -> needs `upstream`; either may not exist yet.
  void AddDependency(const TaskId& task, const TaskId& upstream);

  // Checks the whole graph; on success the Dag is frozen and queries work. Reports every problem
  // found, one per line, most serious (cycles) last: kFailedPrecondition when a cycle is the only
  // problem, kInvalidArgument otherwise. After a failure, tasks and dependencies may still be
  // added and Validate() called again. Cost: O((V + E) log V), the log for the tie-breaks.
  Status Validate();
  bool validated() const;

  size_t size() const;
  const TaskSpec& task(Index i) const;
  std::optional<Index> IndexOf(const TaskId& id) const;

  // Direct upstreams / downstreams of a task, by index.
  const std::vector<Index>& Upstream(Index i) const;
  const std::vector<Index>& Downstream(Index i) const;

  // A topological order (dependencies first); ties broken by higher priority, then file order.
  const std::vector<Index>& TopologicalOrder() const;

  // Every task reachable downstream of `i` (not including `i`), in topological order.
  std::vector<Index> TransitiveDownstream(Index i) const;

  // Tasks still kPending whose upstreams all kSucceeded (all_success semantics), in insertion
  // order. `states` is indexed like the tasks.
  std::vector<Index> ReadyTasks(const std::vector<TaskState>& states) const;

  // Tasks with no upstream / no downstream, in insertion order.
  std::vector<Index> Roots() const;
  std::vector<Index> Leaves() const;

 private:
  struct Impl;
  DagId id_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace petit

#endif  // PETIT_CORE_DAG_H_
