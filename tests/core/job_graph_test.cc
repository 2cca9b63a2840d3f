// Dependencies between jobs: unknown names, self-dependencies and cycles, each named precisely.
#include "petit/core/job_graph.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace petit {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Kind = JobGraphProblem::Kind;

Job MakeJob(const std::string& id, const std::vector<std::string>& depends_on) {
  Job job;
  job.id = JobId(id);
  for (const std::string& dependency : depends_on) {
    job.depends_on.push_back(JobDependency{JobId(dependency)});
  }
  return job;
}

std::vector<JobId> Ids(const std::vector<std::string>& ids) {
  std::vector<JobId> out;
  for (const std::string& id : ids) out.emplace_back(id);
  return out;
}

TEST(JobGraphTest, AcceptsAChainAndADiamond) {
  std::vector<Job> jobs = {MakeJob("extract", {}), MakeJob("left", {"extract"}),
                           MakeJob("right", {"extract"}), MakeJob("report", {"left", "right"})};
  EXPECT_THAT(CheckJobGraph(jobs), IsEmpty());
}

TEST(JobGraphTest, NamesAnUnknownJobAndSuggestsTheClosest) {
  std::vector<Job> jobs = {MakeJob("extract", {}), MakeJob("load", {"extrct", "zzz_unrelated"})};
  std::vector<JobGraphProblem> problems = CheckJobGraph(jobs);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].kind, Kind::kUnknownJob);
  EXPECT_EQ(problems[0].job, 1u);
  EXPECT_EQ(problems[0].dependency, 0u);
  EXPECT_EQ(problems[0].message,
            "job 'load' depends on unknown job 'extrct' (did you mean 'extract'?)");
  EXPECT_EQ(problems[1].dependency, 1u);
  EXPECT_EQ(problems[1].message, "job 'load' depends on unknown job 'zzz_unrelated'");
}

TEST(JobGraphTest, RejectsASelfDependency) {
  std::vector<Job> jobs = {MakeJob("other", {}), MakeJob("me", {"other", "me"})};
  std::vector<JobGraphProblem> problems = CheckJobGraph(jobs);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].kind, Kind::kSelfDependency);
  EXPECT_EQ(problems[0].job, 1u);
  EXPECT_EQ(problems[0].dependency, 1u);
  EXPECT_EQ(problems[0].message, "job 'me' depends on itself");
}

TEST(JobGraphTest, RejectsATwoJobCycleAndNamesThePath) {
  std::vector<Job> jobs = {MakeJob("b", {"a"}), MakeJob("a", {"b"})};
  std::vector<JobGraphProblem> problems = CheckJobGraph(jobs);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].kind, Kind::kCycle);
  EXPECT_EQ(problems[0].job, 1u) << "reported at the smallest id of the cycle";
  EXPECT_EQ(problems[0].dependency, 0u);
  EXPECT_EQ(problems[0].cycle, Ids({"a", "b", "a"}));
  EXPECT_EQ(problems[0].message, "job dependency cycle: a -> b -> a");
}

TEST(JobGraphTest, ReportsEachCycleOnceAsAShortestPathThroughItsSmallestId) {
  // One strongly connected set {c, d, e, f} with the long cycle c -> d -> e -> f -> c and the
  // chord e -> c; plus a separate cycle x -> y -> x and a job outside both depending on them.
  std::vector<Job> jobs = {MakeJob("outside", {"c", "x"}),
                           MakeJob("e", {"f", "c"}),
                           MakeJob("d", {"e"}),
                           MakeJob("f", {"c"}),
                           MakeJob("c", {"d"}),
                           MakeJob("y", {"x"}),
                           MakeJob("x", {"y"})};
  std::vector<JobGraphProblem> problems = CheckJobGraph(jobs);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].message, "job dependency cycle: c -> d -> e -> c");
  EXPECT_EQ(problems[0].job, 4u);
  EXPECT_EQ(problems[1].message, "job dependency cycle: x -> y -> x");
  EXPECT_EQ(problems[1].job, 6u);
  EXPECT_EQ(problems[1].dependency, 0u);
}

TEST(JobGraphTest, ProblemsComeInJobThenDependencyOrder) {
  std::vector<Job> jobs = {MakeJob("z", {"nope"}), MakeJob("a", {"a", "missing"}),
                           MakeJob("p", {"q"}), MakeJob("q", {"p"})};
  std::vector<JobGraphProblem> problems = CheckJobGraph(jobs);
  std::vector<Kind> kinds;
  std::vector<size_t> where;
  for (const JobGraphProblem& problem : problems) {
    kinds.push_back(problem.kind);
    where.push_back(problem.job * 10 + problem.dependency);
  }
  EXPECT_THAT(kinds, ElementsAre(Kind::kUnknownJob, Kind::kSelfDependency, Kind::kUnknownJob,
                                 Kind::kCycle));
  EXPECT_THAT(where, ElementsAre(0u, 10u, 11u, 20u));
}

TEST(JobGraphTest, AnEmptySetHasNoProblems) { EXPECT_THAT(CheckJobGraph({}), IsEmpty()); }

}  // namespace
}  // namespace petit
