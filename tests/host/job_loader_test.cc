// Loading job files through the entry points the CLI calls: what loads from a file, from text and
// from the original Petit's documented examples, and how a file that is no job file reads.
#include "config/job_loader.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "job_loader_test_support.h"

namespace petit::host {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(JobLoaderTest, MalformedYamlNamesTheLineAndColumn) {
  LoadedJobs loaded = LoadJobFromString("id: x\ntasks: [\n  - a\n", "bad.yaml", kAnyType);
  ASSERT_EQ(loaded.errors.size(), 1u);
  EXPECT_THAT(loaded.errors[0].ToString(), HasSubstr("bad.yaml:"));
  EXPECT_GT(loaded.errors[0].line, 0u);
}

TEST(JobLoaderTest, AFileWithSeveralYamlDocumentsIsAnError) {
  std::string pattern = (std::filesystem::temp_directory_path() / "petit-docs-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  std::filesystem::path file = std::filesystem::path(pattern) / "two.yaml";
  std::ofstream(file) << "id: a\ntasks: [{id: t, type: command, command: x}]\n---\nid: b\n";
  LoadedJobs loaded;
  LoadJobFile(file.string(), kAnyType, loaded);
  std::filesystem::remove_all(pattern);
  EXPECT_THAT(loaded.jobs, IsEmpty());
  EXPECT_EQ(Find(loaded, "2 YAML documents").line, 4u);
}

TEST(JobLoaderTest, TextIsParsedLikeAFile) {
  LoadedJobs loaded = LoadJobFromString(
      "id: a\ntasks: [{id: t, type: command, command: x}]\n---\nid: b\n", "two.yaml", kAnyType);
  EXPECT_THAT(loaded.jobs, IsEmpty()) << "a second document is not ignored";
  EXPECT_EQ(Where(Find(loaded, "2 YAML documents")), "two.yaml:4:1 ");
  EXPECT_EQ(loaded.files, 1u);

  LoadedJobs empty = LoadJobFromString("", "empty.yaml", kAnyType);
  ASSERT_EQ(empty.errors.size(), 1u);
  EXPECT_EQ(empty.errors[0].ToString(),
            "empty.yaml: a job file must be a mapping with at least 'id' and 'tasks'");
}

TEST(JobLoaderTest, AFileThatCannotBeReadIsAnError) {
  LoadedJobs loaded;
  LoadJobFile("/nonexistent/petit/job.yaml", kAnyType, loaded);
  ASSERT_EQ(loaded.errors.size(), 1u);
  EXPECT_EQ(loaded.errors[0].ToString(),
            "/nonexistent/petit/job.yaml: cannot read the file: No such file or directory");
  EXPECT_EQ(loaded.files, 1u);
}

// The original Petit's documented format, every field as its README and tests write them.
TEST(OriginalFormatTest, LoadsTheDocumentedFormatWithoutProblems) {
  const std::string dir = std::string(PETIT_SOURCE_DIR) + "/tests/fixtures/jobs/original_format";
  LoadedJobs loaded = LoadJobDirectory(dir, kAnyType);
  EXPECT_THAT(loaded.errors, IsEmpty()) << Joined(loaded.errors);
  EXPECT_THAT(loaded.warnings, IsEmpty()) << Joined(loaded.warnings);
  std::map<std::string, const Job*> jobs;
  for (const Job& job : loaded.jobs) jobs[job.id.str()] = &job;
  ASSERT_EQ(jobs.size(), 9u);

  const Job& pipeline = *jobs.at("data_pipeline");
  EXPECT_EQ(pipeline.name, "Data Pipeline");
  ASSERT_TRUE(pipeline.schedule.has_value());
  EXPECT_EQ(pipeline.schedule->expression(), "0 0 2 * * *");
  EXPECT_EQ(pipeline.schedule->time_zone(), "UTC");
  EXPECT_TRUE(pipeline.enabled);
  EXPECT_EQ(pipeline.max_active_runs, 1u);
  EXPECT_EQ(pipeline.config->at("output_dir"), "/tmp/data");
  EXPECT_EQ(TaskOf(pipeline, "transform").retry.max_retries, 3u);
  EXPECT_EQ(TaskOf(pipeline, "transform").retry.delay, std::chrono::seconds(10));
  EXPECT_EQ(TaskOf(pipeline, "notify").trigger, TriggerRule::kAllDone);
  EXPECT_EQ(
      TaskOf(pipeline, "extract").params_json,
      R"({"command":"python","args":["scripts/extract.py"],"environment":{"STAGE":"extract"}})");

  const Job& full = *jobs.at("full_job");
  EXPECT_EQ(full.description, "A job with all fields specified");
  EXPECT_EQ(full.schedule->time_zone(), "America/New_York");
  ASSERT_EQ(full.depends_on.size(), 1u);
  EXPECT_EQ(full.depends_on[0].job.str(), "upstream_job");
  EXPECT_EQ(full.config->at("debug"), "true");
  EXPECT_EQ(TaskOf(full, "extract").name, "Extract Data");
  EXPECT_EQ(TaskOf(full, "extract").timeout, std::chrono::seconds(300));

  const Job& downstream = *jobs.at("downstream_job");
  ASSERT_EQ(downstream.depends_on.size(), 4u);
  EXPECT_EQ(downstream.depends_on[1].job.str(), "data_pipeline");
  EXPECT_EQ(downstream.depends_on[3].condition, JobDependency::Condition::kWithinWindow);
  EXPECT_FALSE(downstream.schedule.has_value());

  const Job& conditions = *jobs.at("condition_job");
  EXPECT_EQ(TaskOf(conditions, "notify_error").trigger, TriggerRule::kOnFailure);
  EXPECT_THAT(TaskOf(conditions, "notify_error").depends_on, ElementsAre(TaskId("main_task")));
  EXPECT_EQ(TaskOf(conditions, "audit").trigger, TriggerRule::kAlways);
  EXPECT_EQ(TaskOf(conditions, "audit").retry.condition, RetryCondition::kNever);

  EXPECT_EQ(jobs.at("upstream_job")->schedule->expression(), "@daily");
  EXPECT_EQ(TaskOf(*jobs.at("custom_job"), "custom_task").params_json, R"({"ms":5})");
  EXPECT_EQ(TaskOf(*jobs.at("python_job"), "run_python").params_json,
            R"json({"command":"python3","args":["-c","print(\"hello from python\")"]})json");
  EXPECT_EQ(TaskOf(*jobs.at("env_job"), "task_with_env").params_json,
            R"({"command":"./run.sh","environment":{"DATABASE_URL":"postgres://localhost/db",)"
            R"("API_KEY":"secret123","DEBUG":"true"}})");
}

}  // namespace
}  // namespace petit::host
