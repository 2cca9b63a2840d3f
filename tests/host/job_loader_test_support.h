// Helpers shared by the tests of job-file loading (job_loader_test.cc and the tests beside it):
// finding a problem by its message, stating where it is, and a temporary job directory.
#ifndef PETIT_TESTS_HOST_JOB_LOADER_TEST_SUPPORT_H_
#define PETIT_TESTS_HOST_JOB_LOADER_TEST_SUPPORT_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/job_loader.h"

namespace petit::host {

// No known task types and no schemas: types are not checked.
inline const JobLoaderOptions kAnyType;

inline std::string Joined(const std::vector<Diagnostic>& problems) {
  std::string all;
  for (const Diagnostic& problem : problems) all += problem.ToString() + "\n";
  return all;
}

// The only problem of `loaded` whose message contains `text`.
inline Diagnostic Find(const LoadedJobs& loaded, const std::string& text) {
  const Diagnostic* found = nullptr;
  for (const Diagnostic& problem : loaded.errors) {
    if (problem.message.find(text) == std::string::npos) continue;
    EXPECT_EQ(found, nullptr) << "more than one problem mentions " << text;
    found = &problem;
  }
  EXPECT_NE(found, nullptr) << "no problem mentions " << text << " in\n" << Joined(loaded.errors);
  return found != nullptr ? *found : Diagnostic{};
}

// file:line:col and key of a problem, the way a test states them.
inline std::string Where(const Diagnostic& problem) {
  return problem.file + ":" + std::to_string(problem.line) + ":" + std::to_string(problem.column) +
         " " + problem.key;
}

inline const Job& OnlyJob(const LoadedJobs& loaded) {
  EXPECT_THAT(loaded.errors, ::testing::IsEmpty()) << Joined(loaded.errors);
  EXPECT_EQ(loaded.jobs.size(), 1u);
  static const Job kEmpty;
  return loaded.jobs.empty() ? kEmpty : loaded.jobs.front();
}

inline const TaskSpec& TaskOf(const Job& job, const std::string& id) {
  std::optional<Dag::Index> index = job.dag.IndexOf(TaskId(id));
  EXPECT_TRUE(index.has_value()) << id;
  return job.dag.task(index.value_or(0));
}

// A temporary directory of job files, removed after each test.
class JobDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "petit-jobs-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) {
    std::filesystem::create_directories((dir_ / name).parent_path());
    std::ofstream(dir_ / name) << text;
  }
  std::filesystem::path dir_;
};

}  // namespace petit::host

#endif  // PETIT_TESTS_HOST_JOB_LOADER_TEST_SUPPORT_H_
