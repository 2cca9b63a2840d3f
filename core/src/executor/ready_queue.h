// ReadyQueue: a run's tasks that may start, highest priority first, then in DAG order (lowest
// index first). A task's priority never changes, so the order over all the run's tasks is fixed
// when the run starts: each task gets its rank in it, and the queue is a two-level bitset over
// ranks. Push and Pop cost a few word operations, where a binary heap of 100,000 ready tasks
// cost a cache miss per level (5% of the CPU of a flat run of 100,000 no-op tasks).
//
// Threads: none of its own; the run's driver owns it.
#ifndef PETIT_CORE_SRC_EXECUTOR_READY_QUEUE_H_
#define PETIT_CORE_SRC_EXECUTOR_READY_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "petit/core/dag.h"

namespace petit::internal {

class ReadyQueue {
 public:
  // Ranks the tasks of `dag` (no sort when every task has the same priority).
  explicit ReadyQueue(const Dag& dag);

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  // Task `i` may start; it must not be in the queue already.
  void Push(Dag::Index i);
  // The first task in order; the queue must not be empty.
  Dag::Index Top() const {
    const size_t rank = FirstRank();
    return task_of_rank_.empty() ? static_cast<Dag::Index>(rank) : task_of_rank_[rank];
  }
  void Pop();

 private:
  static constexpr size_t kBits = 64;

  size_t FirstRank() const;

  // Empty when the rank of a task is its index.
  std::vector<uint32_t> rank_of_task_;
  std::vector<Dag::Index> task_of_rank_;  // likewise
  std::vector<uint64_t> words_;           // bit r: the task of rank r is ready
  std::vector<uint64_t> summary_;         // bit w: words_[w] is not zero
  // No summary word below this one has a bit set: Pop resumes its scan here.
  size_t first_summary_ = 0;
  size_t size_ = 0;
};

}  // namespace petit::internal

#endif  // PETIT_CORE_SRC_EXECUTOR_READY_QUEUE_H_
