// Loading job files through the entry points the CLI calls: what loads from a file, from text and
// from the original Petit's documented examples, and how a file that is no job file reads.
#include "config/job_loader.h"

#include <filesystem>
#include <fstream>
#include <map>
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

// Hostile but plausible job files: each is one line naming the file, the line and the field,
// never silence (YAML parsers accept every one of them without a word) and never a crash.
TEST(JobLoaderTest, WhatYamlCppAcceptsSilentlyIsOneProblemAtItsPlace) {
  const std::string task = "  - id: t\n    type: command\n    command: echo\n";
  struct Case {
    std::string text;
    std::string where;    // "line:column key"
    std::string message;  // part of the one problem's message
  };
  const std::vector<Case> cases = {
      {"id: j\ntasks:\n" + task + "    retry:\n      max_attempts: 2\n      max_attempts: 5\n",
       "8:7 tasks.t.retry.max_attempts",
       "duplicate key 'max_attempts' in tasks.t.retry: first at line 7"},
      {"id: j\ntasks:\n" + task + "tasks:\n" + task, "6:1 tasks",
       "duplicate key 'tasks' in the top-level mapping: first at line 2"},
      {"id: j\nid: k\ntasks:\n" + task, "2:1 id",
       "duplicate key 'id' in the top-level mapping: first at line 1"},
      {"id: j\ntasks:\n" + task + "    environment: {A: x, \"A\": y}\n",
       "6:25 tasks.t.environment.A", "duplicate key 'A' in tasks.t.environment: first at line 6"},
      {"id: j\nconfig:\n  region: eu\n  region: us\ntasks:\n" + task, "4:3 config.region",
       "duplicate key 'region' in config: first at line 3"},
      {"id: j\ntasks:\n" + task + "    retry: {max_attempts: 2, 'max_attempts': 2}\n",
       "6:30 tasks.t.retry.max_attempts", "first at line 6"},
      {"id: j\nschedule: {cron: '0 * * * *', cron: '5 * * * *'}\ntasks:\n" + task,
       "2:31 schedule.cron", "duplicate key 'cron' in schedule"},
      {"id: j\nconfig: &c {a: 1}\ntasks:\n" + task + "    <<: *c\n", "7:5 tasks.t.<<",
       "YAML merge keys ('<<') are not supported"},
      {"id: j\ntasks:\n  - id: t\n    type: command\n    command: !!binary ZWNobw==\n",
       "5:14 tasks.t.command", "the YAML tag '!!binary' on tasks.t.command is not supported"},
      {"id: j\nconfig: {token: !secret abc}\ntasks:\n" + task, "2:17 config.token",
       "the YAML tag '!secret' on config.token is not supported"},
      {"id: j\ntasks:\n\t- id: t\n", "3:1 ",
       "(line 3 is indented with a tab; YAML indents with spaces only)"},
      {"id: j\n" + std::string(1000, 'k') + ": 1\ntasks:\n" + task, "2:1 " + std::string(1000, 'k'),
       "unknown key '" + std::string(64, 'k') + "...' in job"},
      {"id: j\nconfig:\n  store: memory:\ntasks:\n" + task, "3:16 ",
       "mapping values are not allowed in this context (a value holding ': ' or ending in ':' "
       "must be quoted"},
      {"id: j\nconfig:\n  url: http://x: 80\ntasks:\n" + task, "3:16 ", "must be quoted"},
      {"id: j\n1: x\ntasks:\n" + task, "2:1 1", "unknown key '1' in job"},
      {"id: j\n~: x\ntasks:\n" + task, "2:1 ", "keys of job must be strings"},
      {"id: j\n? [a, b]\n: x\ntasks:\n" + task, "2:3 ", "keys of job must be strings"},
      {"- id: j\n- tasks: []\n", "1:1 ", "a job file must be a mapping"},
      {"id: j\ntasks:\n" + task + "---\nid: k\n", "7:1 ", "2 YAML documents"},
      {"id: j\ntasks:\n" + task + "    params: {command: echo}\n", "6:5 tasks.t.params",
       "this task's type takes its parameters as keys of the task itself"},
  };
  for (const Case& c : cases) {
    LoadedJobs loaded = LoadJobFromString(c.text, "j.yaml", kAnyType);
    EXPECT_THAT(loaded.jobs, IsEmpty()) << c.text;
    ASSERT_EQ(loaded.errors.size(), 1u) << c.text << Joined(loaded.errors);
    EXPECT_EQ(Where(loaded.errors[0]), "j.yaml:" + c.where) << c.text;
    EXPECT_THAT(loaded.errors[0].message, HasSubstr(c.message)) << c.text;
  }
}

TEST(JobLoaderTest, ByteOrderMarksCarriageReturnsAndAnchorsLoadAsPlainFilesDo) {
  const std::string task = "  - id: t\n    type: command\n    command: echo\n";
  for (const std::string& text : std::vector<std::string>{
           "\xEF\xBB\xBFid: j\ntasks:\n" + task,
           "id: j\r\ntasks:\r\n  - id: t\r\n    type: command\r\n"
           "    command: echo\r\n",
           "id: &name j\nname: *name\ntasks:\n" + task, "%YAML 1.2\n---\nid: j\ntasks:\n" + task,
           "id: j\ntasks:\n" + task + "...\n"}) {
    LoadedJobs loaded = LoadJobFromString(text, "j.yaml", kAnyType);
    EXPECT_EQ(OnlyJob(loaded).id.str(), "j") << text;
  }
}

TEST(JobLoaderTest, ADuplicateKeyDoesNotHideTheFilesOtherProblems) {
  LoadedJobs loaded = LoadJobFromString(
      "id: j\ntasks:\n  - id: t\n    type: command\n    command: echo\n    retyr: {}\n"
      "    timeout_secs: 1\n    timeout_secs: 2\n",
      "j.yaml", kAnyType);
  EXPECT_THAT(loaded.jobs, IsEmpty());
  EXPECT_EQ(Where(Find(loaded, "duplicate key 'timeout_secs'")), "j.yaml:8:5 tasks.t.timeout_secs");
  EXPECT_EQ(Where(Find(loaded, "unknown key 'retyr'")), "j.yaml:6:5 tasks.t.retyr");
  EXPECT_EQ(loaded.errors.size(), 2u) << Joined(loaded.errors);
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
