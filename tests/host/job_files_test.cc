// The job files of a directory (config/job_files.h): which files are read, and a report that
// does not depend on how many threads read them.
#include "config/job_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
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

// Nothing below the directory vanishes without a word: each entry that cannot be read is one
// error naming its path and the OS's reason, and the rest still loads. These cases hold for root
// too (CI runs as root, whom permissions do not stop).
constexpr char kJob[] = "tasks: [{id: t, type: command, command: x}]\n";

std::string Find(const LoadedJobs& loaded, const std::filesystem::path& path) {
  for (const Diagnostic& error : loaded.errors) {
    if (error.file == path.string()) return error.message;
  }
  return "(no error on " + path.string() + "; errors: " + Joined(loaded.errors) + ")";
}

TEST_F(JobDirectoryTest, EntriesThatCannotBeFollowedAreErrorsNamingThePathAndTheReason) {
  namespace fs = std::filesystem;
  Write("good.yaml", std::string("id: good\n") + kJob);
  fs::create_symlink(dir_ / "gone", dir_ / "jobs_dir");          // dangling, may be a directory
  fs::create_symlink(dir_ / "gone.yaml", dir_ / "linked.yaml");  // dangling job file
  fs::create_symlink(dir_ / "loop_b", dir_ / "loop_a");          // a loop of symlinks
  fs::create_symlink(dir_ / "loop_a", dir_ / "loop_b");
  Write("sub/deep.yaml", std::string("id: deep\n") + kJob);
  fs::create_symlink(dir_ / "nowhere", dir_ / "sub" / "more");
  LoadedJobs loaded = LoadJobDirectory(dir_.string(), kAnyType);

  EXPECT_EQ(loaded.errors.size(), 5u) << Joined(loaded.errors);
  EXPECT_THAT(Find(loaded, dir_ / "jobs_dir"), HasSubstr("No such file or directory"));
  EXPECT_THAT(Find(loaded, dir_ / "jobs_dir"), HasSubstr("symlink"));
  EXPECT_THAT(Find(loaded, dir_ / "linked.yaml"), HasSubstr("No such file or directory"));
  EXPECT_THAT(Find(loaded, dir_ / "loop_a"), HasSubstr("symbolic links"));
  EXPECT_THAT(Find(loaded, dir_ / "loop_b"), HasSubstr("symbolic links"));
  EXPECT_THAT(Find(loaded, dir_ / "sub" / "more"), HasSubstr("No such file or directory"));
  ASSERT_EQ(loaded.jobs.size(), 2u);
  EXPECT_EQ(loaded.jobs[0].id.str(), "deep");
  EXPECT_EQ(loaded.jobs[1].id.str(), "good");
}

TEST_F(JobDirectoryTest, AJobFileThatIsNotARegularFileIsAnErrorAndIsNotOpened) {
  Write("good.yaml", std::string("id: good\n") + kJob);
  // Opening a FIFO would block until a writer came: it must be refused without opening it.
  ASSERT_EQ(mkfifo((dir_ / "pipe.yaml").c_str(), 0600), 0);
  ASSERT_EQ(mkfifo((dir_ / "not_a_job.fifo").c_str(), 0600), 0);  // not a job file name: ignored
  LoadedJobs loaded = LoadJobDirectory(dir_.string(), kAnyType);
  ASSERT_EQ(loaded.errors.size(), 1u) << Joined(loaded.errors);
  EXPECT_THAT(Find(loaded, dir_ / "pipe.yaml"), HasSubstr("not a regular file"));
  ASSERT_EQ(loaded.jobs.size(), 1u);
}

TEST_F(JobDirectoryTest, SymlinkedDirectoriesAreReadAndALinkBackToAnAncestorIsAnError) {
  namespace fs = std::filesystem;
  Write("real/a.yaml", std::string("id: a\n") + kJob);
  // Outside the job directory, reached only through the link.
  const fs::path outside = dir_.string() + "-outside";
  fs::create_directories(outside);
  std::ofstream(outside / "b.yaml") << "id: b\n" << kJob;
  fs::create_symlink(outside, dir_ / "linked");
  fs::create_symlink(dir_, dir_ / "real" / "back");  // a loop through a directory link
  LoadedJobs loaded = LoadJobDirectory(dir_.string(), kAnyType);
  fs::remove_all(outside);

  ASSERT_EQ(loaded.errors.size(), 1u) << Joined(loaded.errors);
  EXPECT_THAT(Find(loaded, dir_ / "real" / "back"), HasSubstr("symlink loop"));
  ASSERT_EQ(loaded.jobs.size(), 2u);
  EXPECT_EQ(loaded.jobs[1].source_file, (dir_ / "linked" / "b.yaml").string());
}

TEST_F(JobDirectoryTest, AnEditorLockBesideAJobFileIsNotAnError) {
  Write("a.yaml", std::string("id: a\n") + kJob);
  std::filesystem::create_symlink("user@host.1234:1700000000", dir_ / ".#a.yaml");
  LoadedJobs loaded = LoadJobDirectory(dir_.string(), kAnyType);
  EXPECT_THAT(loaded.errors, IsEmpty()) << Joined(loaded.errors);
  EXPECT_EQ(loaded.jobs.size(), 1u);
}

// Root reads whatever the permissions say, so these two run only for other users; the cases above
// cover the same path in the walker for root.
TEST_F(JobDirectoryTest, ASubdirectoryWithoutPermissionIsAnErrorNotSkipped) {
  if (geteuid() == 0) GTEST_SKIP() << "permissions do not stop root";
  namespace fs = std::filesystem;
  Write("a.yaml", std::string("id: a\n") + kJob);
  Write("locked/b.yaml", std::string("id: b\n") + kJob);
  fs::permissions(dir_ / "locked", fs::perms::none);
  LoadedJobs loaded = LoadJobDirectory(dir_.string(), kAnyType);
  fs::permissions(dir_ / "locked", fs::perms::owner_all);
  ASSERT_EQ(loaded.errors.size(), 1u) << Joined(loaded.errors);
  EXPECT_THAT(Find(loaded, dir_ / "locked"), HasSubstr("Permission denied"));
  EXPECT_THAT(Find(loaded, dir_ / "locked"), HasSubstr("not loaded"));
  EXPECT_EQ(loaded.jobs.size(), 1u);
}

TEST_F(JobDirectoryTest, AJobFileWithoutPermissionIsAnErrorNamingTheReason) {
  if (geteuid() == 0) GTEST_SKIP() << "permissions do not stop root";
  namespace fs = std::filesystem;
  Write("a.yaml", std::string("id: a\n") + kJob);
  fs::permissions(dir_ / "a.yaml", fs::perms::none);
  LoadedJobs loaded = LoadJobDirectory(dir_.string(), kAnyType);
  ASSERT_EQ(loaded.errors.size(), 1u) << Joined(loaded.errors);
  EXPECT_EQ(loaded.errors[0].ToString(),
            (dir_ / "a.yaml").string() + ": cannot read the file: Permission denied");
}

}  // namespace
}  // namespace petit::host
