#include "executor/ready_queue.h"

#include <algorithm>
#include <bit>
#include <numeric>

namespace petit::internal {

ReadyQueue::ReadyQueue(const Dag& dag)
    : words_((dag.size() + kBits - 1) / kBits), summary_((words_.size() + kBits - 1) / kBits) {
  const size_t n = dag.size();
  bool one_priority = true;
  for (Dag::Index i = 1; i < n && one_priority; ++i) {
    one_priority = dag.task(i).priority == dag.task(0).priority;
  }
  if (one_priority) return;
  task_of_rank_.resize(n);
  std::iota(task_of_rank_.begin(), task_of_rank_.end(), Dag::Index{0});
  std::stable_sort(task_of_rank_.begin(), task_of_rank_.end(), [&dag](Dag::Index a, Dag::Index b) {
    return dag.task(a).priority > dag.task(b).priority;
  });
  rank_of_task_.resize(n);
  for (size_t rank = 0; rank < n; ++rank) {
    rank_of_task_[task_of_rank_[rank]] = static_cast<uint32_t>(rank);
  }
}

void ReadyQueue::Push(Dag::Index i) {
  const size_t rank = rank_of_task_.empty() ? i : rank_of_task_[i];
  const size_t word = rank / kBits;
  words_[word] |= uint64_t{1} << (rank % kBits);
  summary_[word / kBits] |= uint64_t{1} << (word % kBits);
  first_summary_ = std::min(first_summary_, word / kBits);
  ++size_;
}

size_t ReadyQueue::FirstRank() const {
  size_t s = first_summary_;
  while (summary_[s] == 0) ++s;
  const size_t word = s * kBits + static_cast<size_t>(std::countr_zero(summary_[s]));
  return word * kBits + static_cast<size_t>(std::countr_zero(words_[word]));
}

void ReadyQueue::Pop() {
  const size_t rank = FirstRank();
  const size_t word = rank / kBits;
  words_[word] &= words_[word] - 1;  // the lowest set bit is `rank`'s
  if (words_[word] == 0) summary_[word / kBits] &= ~(uint64_t{1} << (word % kBits));
  --size_;
  // Every summary word below the one holding `rank` is zero.
  first_summary_ = word / kBits;
}

}  // namespace petit::internal
