// The checks across the job files of a directory (config/cross_file_checks.h): unique job ids and
// job dependencies.
#include "config/cross_file_checks.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "job_loader_test_support.h"

namespace petit::host {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST_F(JobDirectoryTest, DuplicateJobIdsAcrossFilesNameBothFiles) {
  Write("one.yaml", "id: same\ntasks: [{id: t, type: command, command: x}]\n");
  Write("two.yaml", "id: same\ntasks: [{id: t, type: command, command: x}]\n");
  LoadedJobs loaded = LoadJobDirectory(dir_.string(), kAnyType);
  ASSERT_EQ(loaded.errors.size(), 1u) << Joined(loaded.errors);
  EXPECT_EQ(loaded.errors[0].ToString(), (dir_ / "two.yaml").string() +
                                             ":1:5: job id 'same' is already used by " +
                                             (dir_ / "one.yaml").string() + ":1:5");
  EXPECT_EQ(loaded.errors[0].key, "id");
  ASSERT_EQ(loaded.jobs.size(), 1u);
  EXPECT_EQ(loaded.jobs[0].source_file, (dir_ / "one.yaml").string()) << "the first file wins";
}

TEST_F(JobDirectoryTest, JobDependenciesAreCheckedAcrossFiles) {
  Write("extract.yaml", "id: extract\ntasks: [{id: t, type: command, command: x}]\n");
  Write("load.yaml", R"(id: load
depends_on: [extract, extrakt]
tasks: [{id: t, type: command, command: x}]
)");
  Write("report.yaml",
        "id: report\ndepends_on: [load]\ntasks: [{id: t, type: command, command: x}]\n");
  Write("me.yaml", "id: me\ndepends_on: [me]\ntasks: [{id: t, type: command, command: x}]\n");
  Write("ok.yaml", "id: ok\ndepends_on: [extract]\ntasks: [{id: t, type: command, command: x}]\n");
  LoadedJobs loaded = LoadJobDirectory(dir_.string(), kAnyType);
  const std::string dir = dir_.string() + "/";
  Diagnostic unknown = Find(loaded, "unknown job 'extrakt'");
  EXPECT_EQ(Where(unknown), dir + "load.yaml:2:23 depends_on[1]");
  EXPECT_THAT(unknown.message, HasSubstr("(did you mean 'extract'?)"));
  EXPECT_EQ(Where(Find(loaded, "job 'me' depends on itself")), dir + "me.yaml:2:14 depends_on[0]");
  EXPECT_EQ(Where(Find(loaded, "job 'report' depends on job 'load', which has errors")),
            dir + "report.yaml:2:14 depends_on[0]");
  std::vector<std::string> ids;
  for (const Job& job : loaded.jobs) ids.push_back(job.id.str());
  EXPECT_THAT(ids, ElementsAre("extract", "ok"));
}

TEST_F(JobDirectoryTest, ACycleOfJobsIsNamedAndItsJobsAreLeftOut) {
  Write("a.yaml", "id: a\ndepends_on: [{job: b}]\ntasks: [{id: t, type: command, command: x}]\n");
  Write("b.yaml", "id: b\ndepends_on: [c]\ntasks: [{id: t, type: command, command: x}]\n");
  Write("c.yaml", "id: c\ndepends_on: [a]\ntasks: [{id: t, type: command, command: x}]\n");
  LoadedJobs loaded = LoadJobDirectory(dir_.string(), kAnyType);
  ASSERT_EQ(loaded.errors.size(), 1u) << Joined(loaded.errors);
  EXPECT_EQ(loaded.errors[0].ToString(),
            (dir_ / "a.yaml").string() + ":2:20: job dependency cycle: a -> b -> c -> a");
  EXPECT_EQ(loaded.errors[0].key, "depends_on[0].job");
  EXPECT_THAT(loaded.jobs, IsEmpty());
}

TEST_F(JobDirectoryTest, ADependencyOnAJobWhoseFileHasErrorsSaysSo) {
  Write("broken.yaml", "id: broken\ntasks: [{id: t, type: command}]\n");
  Write("user.yaml",
        "id: user\ndepends_on: [broken]\ntasks: [{id: t, type: command, command: x}]\n");
  Write("user_of_user.yaml",
        "id: user_of_user\ndepends_on: [user]\ntasks: [{id: t, type: command, command: x}]\n");
  LoadedJobs loaded = LoadJobDirectory(dir_.string(), kAnyType);
  EXPECT_EQ(Where(Find(loaded, "job 'user' depends on job 'broken', which has errors")),
            dir_.string() + "/user.yaml:2:14 depends_on[0]");
  EXPECT_EQ(Where(Find(loaded, "job 'user_of_user' depends on job 'user', which has errors")),
            dir_.string() + "/user_of_user.yaml:2:14 depends_on[0]")
      << "a job that could never be scheduled is dropped with a reason, transitively";
  EXPECT_THAT(loaded.jobs, IsEmpty());
}

TEST_F(JobDirectoryTest, AnIdDeclaredByAnInvalidFileStillCountsAsTaken) {
  Write("a_broken.yaml", "id: same\ntasks: [{id: t, type: command}]\n");
  Write("b_fine.yaml", "id: same\ntasks: [{id: t, type: command, command: x}]\n");
  LoadedJobs loaded = LoadJobDirectory(dir_.string(), kAnyType);
  EXPECT_EQ(Find(loaded, "is already used by").ToString(),
            (dir_ / "b_fine.yaml").string() + ":1:5: job id 'same' is already used by " +
                (dir_ / "a_broken.yaml").string() + ":1:5");
  EXPECT_THAT(loaded.jobs, IsEmpty());
}

}  // namespace
}  // namespace petit::host
