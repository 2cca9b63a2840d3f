#include "executor/ready_queue.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "petit/core/dag.h"
#include "petit/core/task_spec.h"

namespace petit::internal {
namespace {

// A DAG of independent tasks t0, t1, ... with the given priorities.
Dag WithPriorities(const std::vector<int32_t>& priorities) {
  Dag dag;
  for (size_t i = 0; i < priorities.size(); ++i) {
    TaskSpec spec;
    spec.id = TaskId("t" + std::to_string(i));
    spec.type = "noop";
    spec.priority = priorities[i];
    dag.AddTask(std::move(spec));
  }
  EXPECT_TRUE(dag.Validate().ok());
  return dag;
}

std::vector<Dag::Index> Drain(ReadyQueue& queue) {
  std::vector<Dag::Index> order;
  while (!queue.empty()) {
    order.push_back(queue.Top());
    queue.Pop();
  }
  return order;
}

TEST(ReadyQueueTest, OnePriorityPopsInIndexOrderWhateverThePushOrder) {
  const Dag dag = WithPriorities(std::vector<int32_t>(200, 0));
  ReadyQueue queue(dag);
  for (Dag::Index i : {150u, 3u, 64u, 199u, 0u, 63u}) queue.Push(i);
  EXPECT_EQ(queue.size(), 6u);
  EXPECT_EQ(Drain(queue), (std::vector<Dag::Index>{0, 3, 63, 64, 150, 199}));
}

TEST(ReadyQueueTest, HigherPriorityFirstThenIndexOrder) {
  const Dag dag = WithPriorities({1, 5, 1, 5, -2, 9});
  ReadyQueue queue(dag);
  for (Dag::Index i = 0; i < 6; ++i) queue.Push(i);
  EXPECT_EQ(Drain(queue), (std::vector<Dag::Index>{5, 1, 3, 0, 2, 4}));
}

TEST(ReadyQueueTest, ATaskPushedBelowThoseLeftComesFirst) {
  // More than 64 * 64 tasks, so pushes and pops cross summary words.
  const Dag dag = WithPriorities(std::vector<int32_t>(10000, 0));
  ReadyQueue queue(dag);
  queue.Push(9000);
  queue.Push(5000);
  EXPECT_EQ(queue.Top(), 5000u);
  queue.Pop();
  queue.Push(10);
  EXPECT_EQ(queue.Top(), 10u);
  queue.Pop();
  EXPECT_EQ(queue.Top(), 9000u);
  queue.Push(4096);
  EXPECT_EQ(Drain(queue), (std::vector<Dag::Index>{4096, 9000}));
}

}  // namespace
}  // namespace petit::internal
