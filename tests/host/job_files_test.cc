// The job files of a directory (config/job_files.h): which files are read, and a report that
// does not depend on how many threads read them.
#include "config/job_files.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "job_loader_test_support.h"

namespace petit::host {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST_F(JobDirectoryTest, LoadsEveryYamlFileRecursivelyExceptPetitYaml) {
  Write("a.yaml", "id: a\ntasks: [{id: t, type: command, command: x}]\n");
  Write("sub/b.yml", "id: b\ntasks: [{id: t, type: command, command: x}]\n");
  Write("petit.yaml", "max_parallel_tasks: 2\n");
  Write("notes.txt", "not a job");
  LoadedJobs loaded = LoadJobDirectory(dir_.string(), kAnyType);
  EXPECT_THAT(loaded.errors, IsEmpty()) << Joined(loaded.errors);
  ASSERT_EQ(loaded.jobs.size(), 2u);
  EXPECT_EQ(loaded.jobs[0].id.str(), "a");
  EXPECT_EQ(loaded.jobs[1].id.str(), "b");
  EXPECT_EQ(loaded.files, 2u);
}

TEST_F(JobDirectoryTest, AMissingDirectoryIsAnError) {
  LoadedJobs loaded = LoadJobDirectory((dir_ / "nope").string(), kAnyType);
  ASSERT_EQ(loaded.errors.size(), 1u);
  EXPECT_THAT(loaded.errors[0].message, HasSubstr("not a directory of job files"));
}

TEST_F(JobDirectoryTest, ReportsEveryProblemOfEveryFileInOnePass) {
  Write("a.yaml", "id: a\nschedule: nope\ntasks: [{id: t, type: command, command: x}]\n");
  Write("b.yaml", "id: b\ntasks: [{id: t, type: command, command: x, retry: {delay: 5}}]\n");
  Write("c.yaml", "id: c\n  bad: [\n");
  Write("d.yaml", "id: d\ndepends_on: [zz]\ntasks: [{id: t, type: command, command: x}]\n");
  LoadedJobs loaded = LoadJobDirectory(dir_.string(), kAnyType);
  std::set<std::string> files;
  for (const Diagnostic& problem : loaded.errors) {
    files.insert(std::filesystem::path(problem.file).filename().string());
    EXPECT_GT(problem.line, 0u) << problem.ToString();
  }
  EXPECT_EQ(files, (std::set<std::string>{"a.yaml", "b.yaml", "c.yaml", "d.yaml"}))
      << Joined(loaded.errors);
  EXPECT_EQ(loaded.files, 4u);
}

TEST_F(JobDirectoryTest, ALargeDirectoryGivesTheSameResultAsReadingInOrder) {
  // Enough files for the loader to use several threads; the report must not depend on them.
  constexpr int kFiles = 96;
  for (int i = 0; i < kFiles; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "job_%03d.yaml", i);
    std::string id = i == 70 ? "job_7" : "job_" + std::to_string(i);  // job_070 reuses job_7's id
    std::string yaml = "id: " + id + "\n";
    if (i % 10 == 3) yaml += "shedule: \"@daily\"\n";
    if (i % 10 == 4) yaml += "depends_on: [job_" + std::to_string(i - 1) + "]\n";
    yaml += "tasks: [{id: t, type: command, command: x}]\n";
    Write(name, yaml);
  }
  LoadedJobs loaded = LoadJobDirectory(dir_.string(), kAnyType);
  EXPECT_EQ(loaded.files, static_cast<size_t>(kFiles));
  std::vector<std::string> reported;
  for (const Diagnostic& problem : loaded.errors) {
    reported.push_back(std::filesystem::path(problem.file).filename().string() + " " + problem.key);
  }
  // File errors in file order, then the duplicate id, then the dependents of the broken jobs.
  std::vector<std::string> expected;
  for (int i = 3; i < kFiles; i += 10) {
    char line[64];
    std::snprintf(line, sizeof line, "job_%03d.yaml shedule", i);
    expected.push_back(line);
  }
  expected.push_back("job_070.yaml id");
  for (int i = 4; i < kFiles; i += 10) {
    char line[64];
    std::snprintf(line, sizeof line, "job_%03d.yaml depends_on[0]", i);
    expected.push_back(line);
  }
  EXPECT_EQ(reported, expected) << Joined(loaded.errors);
  std::vector<std::string> ids;
  for (const Job& job : loaded.jobs) ids.push_back(job.id.str());
  EXPECT_EQ(ids.size(), static_cast<size_t>(kFiles - 10 - 10 - 1));
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "job_7"), 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "job_14"), 0);
}

}  // namespace
}  // namespace petit::host
