#include "petit/core/dag.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace petit {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Index = Dag::Index;

TaskSpec Spec(const std::string& id, const std::vector<std::string>& depends_on = {},
              int32_t priority = 0) {
  TaskSpec spec;
  spec.id = TaskId(id);
  spec.type = "noop";
  spec.priority = priority;
  for (const std::string& dependency : depends_on) spec.depends_on.emplace_back(dependency);
  return spec;
}

// "t<i>". Appended rather than `"t" + std::to_string(i)`, on which GCC 12 at -O3 reports a false
// -Wrestrict (GCC bug 105329).
std::string T(uint64_t i) {
  std::string name = "t";
  name.append(std::to_string(i));
  return name;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> Ids(const Dag& dag, const std::vector<Index>& indexes) {
  std::vector<std::string> ids;
  for (const Index i : indexes) ids.push_back(dag.task(i).id.str());
  return ids;
}

Index At(const Dag& dag, const std::string& id) {
  const auto index = dag.IndexOf(TaskId(id));
  EXPECT_TRUE(index.has_value()) << id;
  return index.value_or(0);
}

void ExpectOrderRespectsEveryEdge(const Dag& dag) {
  const std::vector<Index>& order = dag.TopologicalOrder();
  ASSERT_EQ(order.size(), dag.size());
  std::vector<size_t> position(dag.size(), dag.size());
  for (size_t p = 0; p < order.size(); ++p) position[order[p]] = p;
  for (Index v = 0; v < dag.size(); ++v) {
    ASSERT_LT(position[v], dag.size()) << "task missing from the order";
    for (const Index u : dag.Upstream(v)) {
      ASSERT_LT(position[u], position[v])
          << dag.task(u).id.str() << " must come before " << dag.task(v).id.str();
    }
  }
}

// `size` tasks t0..t(size-1), each depending on up to `fan_in` random earlier ones, added in
// shuffled order so most dependencies are forward references.
Dag RandomDag(int size, int fan_in, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<TaskSpec> specs;
  for (int i = 0; i < size; ++i) {
    std::vector<std::string> depends_on;
    for (int k = 0; k < fan_in && i > 0; ++k) {
      const std::string upstream = T(rng() % static_cast<uint32_t>(i));
      if (std::find(depends_on.begin(), depends_on.end(), upstream) == depends_on.end()) {
        depends_on.push_back(upstream);
      }
    }
    specs.push_back(Spec(T(i), depends_on, static_cast<int32_t>(rng() % 3)));
  }
  std::shuffle(specs.begin(), specs.end(), rng);
  Dag dag;
  for (TaskSpec& spec : specs) dag.AddTask(std::move(spec));
  return dag;
}

TEST(DagTest, EmptyDagIsValid) {
  Dag dag;
  ASSERT_TRUE(dag.Validate().ok());
  EXPECT_TRUE(dag.validated());
  EXPECT_EQ(dag.size(), 0u);
  EXPECT_THAT(dag.TopologicalOrder(), IsEmpty());
  EXPECT_THAT(dag.Roots(), IsEmpty());
}

TEST(DagTest, KeepsItsIdAndTasksInInsertionOrder) {
  Dag dag(DagId("etl"));
  dag.AddTask(Spec("b"));
  dag.AddTask(Spec("a"));
  EXPECT_EQ(dag.id().str(), "etl");
  EXPECT_FALSE(dag.validated());
  ASSERT_TRUE(dag.Validate().ok());
  EXPECT_EQ(dag.task(0).id.str(), "b");
  EXPECT_EQ(dag.task(1).type, "noop");
  EXPECT_EQ(dag.IndexOf(TaskId("a")), std::optional<Index>(1));
  EXPECT_EQ(dag.IndexOf(TaskId("zzz")), std::nullopt);
}

TEST(DagTest, AcceptsDependenciesOnTasksAddedLater) {
  Dag dag;
  dag.AddTask(Spec("load", {"transform"}));
  dag.AddTask(Spec("transform", {"extract"}));
  dag.AddTask(Spec("extract"));
  const Status status = dag.Validate();
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_THAT(Ids(dag, dag.TopologicalOrder()), ElementsAre("extract", "transform", "load"));
}

TEST(DagTest, AddDependencyWorksBeforeAndAfterEitherTaskExists) {
  Dag dag;
  dag.AddDependency(TaskId("c"), TaskId("b"));  // neither exists yet
  dag.AddTask(Spec("c"));
  dag.AddTask(Spec("a"));
  dag.AddDependency(TaskId("b"), TaskId("a"));  // b does not exist yet
  dag.AddTask(Spec("b"));
  dag.AddDependency(TaskId("c"), TaskId("a"));  // both exist
  ASSERT_TRUE(dag.Validate().ok());
  EXPECT_THAT(Ids(dag, dag.Upstream(At(dag, "c"))), ElementsAre("b", "a"));
  EXPECT_THAT(Ids(dag, dag.TopologicalOrder()), ElementsAre("a", "b", "c"));
  EXPECT_EQ(dag.task(At(dag, "c")).depends_on.size(), 2u);
}

TEST(DagTest, TopologicalOrderRespectsEveryEdge) {
  Dag dag = RandomDag(500, 4, 7);
  ASSERT_TRUE(dag.Validate().ok());
  ExpectOrderRespectsEveryEdge(dag);
}

TEST(DagTest, TopologicalOrderBreaksTiesByPriorityThenInsertionOrder) {
  Dag dag;
  dag.AddTask(Spec("low", {}, -1));
  dag.AddTask(Spec("first", {}, 0));
  dag.AddTask(Spec("second", {}, 0));
  dag.AddTask(Spec("urgent", {}, 10));
  dag.AddTask(Spec("after_low", {"low"}, 100));
  ASSERT_TRUE(dag.Validate().ok());
  // after_low has the highest priority but must still wait for low.
  EXPECT_THAT(Ids(dag, dag.TopologicalOrder()),
              ElementsAre("urgent", "first", "second", "low", "after_low"));
}

TEST(DagTest, RejectsCycleAndNamesThePath) {
  Dag dag;
  dag.AddTask(Spec("a", {"b"}));
  dag.AddTask(Spec("b", {"c"}));
  dag.AddTask(Spec("c", {"a"}));
  const Status status = dag.Validate();
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "dependency cycle: a -> b -> c -> a");
  EXPECT_FALSE(dag.validated());
}

TEST(DagTest, CyclePathStartsAtTheCycleTaskThatComesFirstInTheFile) {
  Dag dag;
  dag.AddTask(Spec("entry", {"z"}));
  dag.AddTask(Spec("y", {"z"}));
  dag.AddTask(Spec("z", {"w"}));
  dag.AddTask(Spec("w", {"y"}));
  const Status status = dag.Validate();
  EXPECT_EQ(status.message(), "dependency cycle: y -> z -> w -> y");
}

TEST(DagTest, ReportsOneCycleWhenThereAreSeveral) {
  Dag dag;
  dag.AddTask(Spec("a", {"b"}));
  dag.AddTask(Spec("b", {"a"}));
  dag.AddTask(Spec("c", {"d"}));
  dag.AddTask(Spec("d", {"c"}));
  EXPECT_EQ(dag.Validate().message(), "dependency cycle: a -> b -> a");
}

TEST(DagTest, FindsACycleThroughALongChain) {
  constexpr int kLength = 10000;
  Dag dag;
  dag.AddTask(Spec("t0", {T(kLength - 1)}));
  for (int i = 1; i < kLength; ++i) dag.AddTask(Spec(T(i), {T(i - 1)}));
  const Status status = dag.Validate();
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), testing::StartsWith("dependency cycle: t0 -> t9999 -> t9998 -> "));
  EXPECT_THAT(status.message(), testing::EndsWith(" -> t2 -> t1 -> t0"));
}

TEST(DagTest, ReportsADependencyOnAnUnknownTask) {
  Dag dag;
  dag.AddTask(Spec("x", {"y"}));
  const Status status = dag.Validate();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "task 'x' depends on unknown task 'y'");
}

TEST(DagTest, ReportsADependencyAddedToAnUnknownTask) {
  Dag dag;
  dag.AddTask(Spec("a"));
  dag.AddDependency(TaskId("ghost"), TaskId("a"));
  EXPECT_EQ(dag.Validate().message(), "a dependency on 'a' was added to unknown task 'ghost'");
}

TEST(DagTest, ReportsASelfDependencyOnceAndNotAsACycle) {
  Dag dag;
  dag.AddTask(Spec("a", {"a", "a"}));
  const Status status = dag.Validate();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "task 'a' depends on itself");
}

TEST(DagTest, ReportsADependencyListedTwice) {
  Dag dag;
  dag.AddTask(Spec("a"));
  dag.AddTask(Spec("b", {"a", "a", "a"}));
  EXPECT_EQ(dag.Validate().message(), "task 'b' lists dependency 'a' more than once");
}

TEST(DagTest, ReportsADuplicateTaskIdWithItsCount) {
  Dag dag;
  dag.AddTask(Spec("a"));
  dag.AddTask(Spec("b"));
  dag.AddTask(Spec("a"));
  dag.AddTask(Spec("a"));
  const Status status = dag.Validate();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "task id 'a' is defined 3 times");
}

TEST(DagTest, ReportsAnInvalidTaskId) {
  Dag dag;
  dag.AddTask(Spec("bad id"));
  EXPECT_THAT(dag.Validate().message(), HasSubstr("task id 'bad id' contains ' ' at position 4"));
}

TEST(DagTest, ReportsEveryProblemAtOnceWithTheCycleLast) {
  Dag dag;
  dag.AddTask(Spec("a", {"b"}));
  dag.AddTask(Spec("b", {"a", "missing"}));
  dag.AddTask(Spec("c", {"c"}));
  dag.AddTask(Spec("d", {"a", "a"}));
  dag.AddTask(Spec("d"));
  dag.AddTask(Spec("e!"));
  const Status status = dag.Validate();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(Lines(status.message()),
              ElementsAre(HasSubstr("task id 'e!' contains '!'"),          //
                          "task id 'd' is defined 2 times",                //
                          "task 'b' depends on unknown task 'missing'",    //
                          "task 'c' depends on itself",                    //
                          "task 'd' lists dependency 'a' more than once",  //
                          "dependency cycle: a -> b -> a"));
}

TEST(DagTest, ValidatesAgainOnceTheProblemIsFixed) {
  Dag dag;
  dag.AddTask(Spec("b", {"a"}));
  ASSERT_FALSE(dag.Validate().ok());
  dag.AddTask(Spec("a"));
  ASSERT_TRUE(dag.Validate().ok());
  EXPECT_THAT(Ids(dag, dag.TopologicalOrder()), ElementsAre("a", "b"));
}

TEST(DagTest, DiamondHasOneRootOneLeafAndBothPaths) {
  Dag dag;
  dag.AddTask(Spec("join", {"left", "right"}));
  dag.AddTask(Spec("left", {"start"}));
  dag.AddTask(Spec("right", {"start"}));
  dag.AddTask(Spec("start"));
  ASSERT_TRUE(dag.Validate().ok());
  EXPECT_THAT(Ids(dag, dag.TopologicalOrder()), ElementsAre("start", "left", "right", "join"));
  EXPECT_THAT(Ids(dag, dag.Roots()), ElementsAre("start"));
  EXPECT_THAT(Ids(dag, dag.Leaves()), ElementsAre("join"));
  EXPECT_THAT(Ids(dag, dag.Upstream(At(dag, "join"))), ElementsAre("left", "right"));
  EXPECT_THAT(Ids(dag, dag.Downstream(At(dag, "start"))), ElementsAre("left", "right"));
  EXPECT_THAT(Ids(dag, dag.TransitiveDownstream(At(dag, "start"))),
              ElementsAre("left", "right", "join"));
  EXPECT_THAT(Ids(dag, dag.TransitiveDownstream(At(dag, "left"))), ElementsAre("join"));
  EXPECT_THAT(dag.TransitiveDownstream(At(dag, "join")), IsEmpty());
}

TEST(DagTest, TransitiveDownstreamIsInTopologicalOrderAndExcludesOtherBranches) {
  Dag dag;
  dag.AddTask(Spec("a"));
  dag.AddTask(Spec("d", {"c", "b"}));
  dag.AddTask(Spec("c", {"b"}));
  dag.AddTask(Spec("b", {"a"}));
  dag.AddTask(Spec("other"));
  dag.AddTask(Spec("other_child", {"other"}));
  ASSERT_TRUE(dag.Validate().ok());
  EXPECT_THAT(Ids(dag, dag.TransitiveDownstream(At(dag, "a"))), ElementsAre("b", "c", "d"));
}

TEST(DagTest, RootsAndLeavesAreInInsertionOrder) {
  Dag dag;
  dag.AddTask(Spec("z_leaf", {"m"}));
  dag.AddTask(Spec("m", {"r2", "r1"}));
  dag.AddTask(Spec("r2"));
  dag.AddTask(Spec("r1"));
  dag.AddTask(Spec("alone"));
  ASSERT_TRUE(dag.Validate().ok());
  EXPECT_THAT(Ids(dag, dag.Roots()), ElementsAre("r2", "r1", "alone"));
  EXPECT_THAT(Ids(dag, dag.Leaves()), ElementsAre("z_leaf", "alone"));
}

TEST(DagTest, ReadyTasksArePendingTasksWhoseUpstreamsAllSucceeded) {
  Dag dag;
  dag.AddTask(Spec("a"));
  dag.AddTask(Spec("b"));
  dag.AddTask(Spec("c", {"a"}));
  dag.AddTask(Spec("d", {"a", "b"}));
  dag.AddTask(Spec("e", {"b"}));
  dag.AddTask(Spec("f"));
  ASSERT_TRUE(dag.Validate().ok());

  std::vector<TaskState> states(dag.size(), TaskState::kPending);
  EXPECT_THAT(Ids(dag, dag.ReadyTasks(states)), ElementsAre("a", "b", "f"));

  states[At(dag, "a")] = TaskState::kSucceeded;
  states[At(dag, "b")] = TaskState::kRunning;
  states[At(dag, "f")] = TaskState::kQueued;
  EXPECT_THAT(Ids(dag, dag.ReadyTasks(states)), ElementsAre("c"));

  states[At(dag, "b")] = TaskState::kSkipped;
  EXPECT_THAT(Ids(dag, dag.ReadyTasks(states)), ElementsAre("c"));

  states[At(dag, "b")] = TaskState::kSucceeded;
  states[At(dag, "c")] = TaskState::kFailed;
  EXPECT_THAT(Ids(dag, dag.ReadyTasks(states)), ElementsAre("d", "e"));
}

TEST(DagTest, CopyIsIndependentOfTheOriginal) {
  Dag original;
  original.AddTask(Spec("a"));
  Dag copy = original;
  copy.AddTask(Spec("b", {"a"}));
  ASSERT_TRUE(copy.Validate().ok());
  EXPECT_EQ(original.size(), 1u);
  EXPECT_FALSE(original.validated());

  Dag assigned;
  assigned = copy;
  EXPECT_TRUE(assigned.validated());
  EXPECT_THAT(Ids(assigned, assigned.TopologicalOrder()), ElementsAre("a", "b"));

  Dag moved = std::move(assigned);
  EXPECT_THAT(Ids(moved, moved.Downstream(0)), ElementsAre("b"));
}

TEST(DagTest, TenThousandRandomTasksValidate) {
  Dag dag = RandomDag(10000, 4, 42);
  const Status status = dag.Validate();
  ASSERT_TRUE(status.ok()) << status.ToString();
  ExpectOrderRespectsEveryEdge(dag);
}

TEST(DagTest, ChainOfTenThousandTasksValidates) {
  constexpr int kLength = 10000;
  Dag dag;
  for (int i = kLength - 1; i > 0; --i) {
    dag.AddTask(Spec(T(i), {T(i - 1)}));
  }
  dag.AddTask(Spec("t0"));
  ASSERT_TRUE(dag.Validate().ok());
  EXPECT_EQ(dag.task(dag.TopologicalOrder().front()).id.str(), "t0");
  EXPECT_EQ(dag.task(dag.TopologicalOrder().back()).id.str(), "t9999");
  EXPECT_EQ(dag.TransitiveDownstream(At(dag, "t0")).size(), static_cast<size_t>(kLength - 1));
}

}  // namespace
}  // namespace petit
