// Job files in the original Petit format: what loads, what it means, and how errors read.
#include "config/job_loader.h"

#include <filesystem>
#include <fstream>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace petit::host {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const JobLoaderOptions kAnyType;

std::string Joined(const std::vector<std::string>& lines) {
  std::string all;
  for (const std::string& line : lines) all += line + "\n";
  return all;
}

const Job& OnlyJob(const LoadedJobs& loaded) {
  EXPECT_THAT(loaded.errors, IsEmpty()) << Joined(loaded.errors);
  EXPECT_EQ(loaded.jobs.size(), 1u);
  static const Job kEmpty;
  return loaded.jobs.empty() ? kEmpty : loaded.jobs.front();
}

const TaskSpec& TaskOf(const Job& job, const std::string& id) {
  std::optional<Dag::Index> index = job.dag.IndexOf(TaskId(id));
  EXPECT_TRUE(index.has_value()) << id;
  return job.dag.task(index.value_or(0));
}

TEST(JobLoaderTest, LoadsTheOriginalFormatWithEveryCommandField) {
  LoadedJobs loaded = LoadJobFromString(R"(
id: full_job
name: Full Job
description: A job with all fields specified
config:
  batch_size: 1000
  paths: [a, b]
tasks:
  - id: extract
    name: Extract Data
    type: command
    command: ./extract.sh
    args: ["--from", "it's \"quoted\""]
    working_dir: /tmp
    timeout_secs: 300
    environment:
      DB_HOST: localhost
    retry:
      max_attempts: 3
      delay_secs: 60
      condition: transient_only
  - id: load
    type: command
    command: ./load.sh
    depends_on: [extract]
    condition: all_done
)",
                                        "full.yaml", kAnyType);
  const Job& job = OnlyJob(loaded);
  EXPECT_EQ(job.id.str(), "full_job");
  EXPECT_EQ(job.name, "Full Job");
  EXPECT_EQ(job.description, "A job with all fields specified");
  EXPECT_EQ(job.config->at("batch_size"), "1000");
  EXPECT_EQ(job.config->at("paths"), R"(["a","b"])");

  const TaskSpec& extract = TaskOf(job, "extract");
  EXPECT_EQ(extract.name, "Extract Data");
  EXPECT_EQ(extract.type, "command");
  EXPECT_EQ(extract.params_json, R"({"command":"./extract.sh","args":["--from","it's \"quoted\""],)"
                                 R"("working_dir":"/tmp","environment":{"DB_HOST":"localhost"}})");
  EXPECT_EQ(extract.timeout, std::chrono::milliseconds(300000));
  EXPECT_EQ(extract.retry.max_retries, 3u);
  EXPECT_EQ(extract.retry.max_attempts(), 4u);
  EXPECT_EQ(extract.retry.delay, std::chrono::milliseconds(60000));
  EXPECT_EQ(extract.retry.condition, RetryCondition::kTransientOnly);

  const TaskSpec& load = TaskOf(job, "load");
  EXPECT_EQ(load.trigger, TriggerRule::kAllDone);
  EXPECT_THAT(load.depends_on, ElementsAre(TaskId("extract")));
}

TEST(JobLoaderTest, DependenciesMayNameTasksDefinedLaterInTheFile) {
  LoadedJobs loaded = LoadJobFromString(R"(
id: forward
tasks:
  - id: last
    type: command
    command: "true"
    depends_on: [first]
  - id: first
    type: command
    command: "true"
)",
                                        "forward.yaml", kAnyType);
  const Job& job = OnlyJob(loaded);
  EXPECT_EQ(job.dag.size(), 2u);
  EXPECT_EQ(job.dag.task(job.dag.TopologicalOrder().front()).id.str(), "first");
}

TEST(JobLoaderTest, PythonTasksRunPython3ThroughTheCommandPlugin) {
  LoadedJobs loaded = LoadJobFromString(R"yaml(
id: py
tasks:
  - id: file
    type: python
    script: scripts/x.py
  - id: inline
    type: python
    script: "print('hi')"
    inline: true
)yaml",
                                        "py.yaml", kAnyType);
  const Job& job = OnlyJob(loaded);
  EXPECT_EQ(TaskOf(job, "file").type, "command");
  EXPECT_EQ(TaskOf(job, "file").params_json, R"({"command":"python3","args":["scripts/x.py"]})");
  EXPECT_EQ(TaskOf(job, "inline").params_json,
            R"json({"command":"python3","args":["-c","print('hi')"]})json");
}

TEST(JobLoaderTest, CustomAndPluginTypesPassTheirParametersAsTypedJson) {
  LoadedJobs loaded = LoadJobFromString(R"(
id: custom
tasks:
  - id: a
    type: custom
    handler: builtin.sleep
    config:
      ms: 5
  - id: b
    type: set_output
    params:
      outputs: {n: 3, flag: true, text: "007", none: null}
)",
                                        "custom.yaml", kAnyType);
  const Job& job = OnlyJob(loaded);
  EXPECT_EQ(TaskOf(job, "a").type, "builtin.sleep");
  EXPECT_EQ(TaskOf(job, "a").params_json, R"({"ms":5})");
  EXPECT_EQ(TaskOf(job, "b").type, "set_output");
  EXPECT_EQ(TaskOf(job, "b").params_json,
            R"({"outputs":{"n":3,"flag":true,"text":"007","none":null}})");
}

TEST(JobLoaderTest, UnknownKeysAreErrorsThatSuggestTheNearestKey) {
  LoadedJobs loaded = LoadJobFromString(R"(id: typo
tasks:
  - id: one
    type: command
    command: echo
    dependson: [x]
    retry:
      max_attempt: 2
)",
                                        "typo.yaml", kAnyType);
  EXPECT_THAT(loaded.jobs, IsEmpty());
  EXPECT_THAT(Joined(loaded.errors),
              HasSubstr("typo.yaml:6:5: unknown key 'dependson' in task 'one' "
                        "(did you mean 'depends_on'?)"));
  EXPECT_THAT(Joined(loaded.errors),
              HasSubstr("typo.yaml:8:7: unknown key 'max_attempt' in retry of task 'one' "
                        "(did you mean 'max_attempts'?)"));
}

TEST(JobLoaderTest, ReportsEveryErrorOfAFileInOnePass) {
  LoadedJobs loaded = LoadJobFromString(R"(id: many
tasks:
  - id: a
    type: command
  - id: b
    type: command
    command: x
    depends_on: [a, a, zz, b]
    condition: sometimes
    timeout_secs: -1
  - id: a
    type: command
    command: y
)",
                                        "many.yaml", kAnyType);
  std::string errors = Joined(loaded.errors);
  EXPECT_THAT(errors, HasSubstr("many.yaml:3:5: task 'a' of type command needs 'command'"));
  EXPECT_THAT(errors, HasSubstr("many.yaml:11:9: duplicate task id 'a'"));
  EXPECT_THAT(errors, HasSubstr("lists dependency 'a' twice"));
  EXPECT_THAT(errors, HasSubstr("task 'b' depends on unknown task 'zz'"));
  EXPECT_THAT(errors, HasSubstr("task 'b' depends on itself"));
  EXPECT_THAT(errors, HasSubstr("many.yaml:9:16:"));
  EXPECT_THAT(errors, HasSubstr("many.yaml:10:19: 'timeout_secs' must be greater than 0"));
  EXPECT_GE(loaded.errors.size(), 7u) << errors;
}

TEST(JobLoaderTest, UnknownTaskTypeSuggestsAKnownOne) {
  JobLoaderOptions options;
  options.known_types = {"command", "noop", "sleep"};
  LoadedJobs loaded = LoadJobFromString(R"(id: t
tasks:
  - id: a
    type: slep
)",
                                        "t.yaml", options);
  EXPECT_THAT(Joined(loaded.errors),
              HasSubstr("t.yaml:4:11: unknown task type 'slep' (did you mean 'sleep'?)"));
}

TEST(JobLoaderTest, ACycleIsReportedWithItsPath) {
  LoadedJobs loaded = LoadJobFromString(R"(id: cyc
tasks:
  - {id: a, type: command, command: x, depends_on: [b]}
  - {id: b, type: command, command: x, depends_on: [a]}
)",
                                        "cyc.yaml", kAnyType);
  EXPECT_THAT(loaded.jobs, IsEmpty());
  EXPECT_THAT(Joined(loaded.errors), HasSubstr("cyc.yaml:"));
  EXPECT_THAT(Joined(loaded.errors), HasSubstr("cycle"));
}

TEST(JobLoaderTest, MalformedYamlNamesTheLineAndColumn) {
  LoadedJobs loaded = LoadJobFromString("id: x\ntasks: [\n  - a\n", "bad.yaml", kAnyType);
  ASSERT_EQ(loaded.errors.size(), 1u);
  EXPECT_THAT(loaded.errors[0], HasSubstr("bad.yaml:"));
}

TEST(JobLoaderTest, ScheduleAndJobDependenciesAreAcceptedWithAWarning) {
  LoadedJobs loaded = LoadJobFromString(R"(id: sched
schedule: "0 0 2 * * *"
depends_on: [other]
tasks:
  - {id: a, type: command, command: x}
)",
                                        "sched.yaml", kAnyType);
  EXPECT_EQ(loaded.jobs.size(), 1u);
  EXPECT_EQ(loaded.warnings.size(), 2u);
  EXPECT_THAT(Joined(loaded.warnings), HasSubstr("sched.yaml:2:11: 'schedule'"));
}

TEST(JobLoaderTest, ResourcesNamePoolsAndSystemResources) {
  LoadedJobs loaded = LoadJobFromString(R"(id: r
tasks:
  - id: train
    type: command
    command: x
    resources: {gpu: 1, db: 2, cpu_slots: 4, memory_mb: 2048}
)",
                                        "r.yaml", kAnyType);
  const TaskSpec& train = TaskOf(OnlyJob(loaded), "train");
  EXPECT_EQ(train.resources.slots, (std::map<std::string, uint32_t>{{"db", 2}, {"gpu", 1}}));
  EXPECT_EQ(train.resources.cpu_slots, 4u);
  EXPECT_EQ(train.resources.memory_mb, 2048u);
}

TEST(JobLoaderTest, TemplatesMayOnlyReadOutputsOfUpstreamTasks) {
  LoadedJobs loaded = LoadJobFromString(R"yaml(id: t
tasks:
  - id: a
    type: command
    command: x
  - id: b
    type: command
    command: echo
    args: ["${{ tasks.a.outputs.v }}"]
  - id: c
    type: command
    command: echo
    args: ["${{ tasks.ghost.outputs.v }}", "${{ nonsense }}"]
    depends_on: [a]
)yaml",
                                        "t.yaml", kAnyType);
  std::string errors = Joined(loaded.errors);
  EXPECT_THAT(errors, HasSubstr("t.yaml:10:5: task 'c'"));
  EXPECT_THAT(loaded.jobs, IsEmpty());
  LoadedJobs upstream_only = LoadJobFromString(R"yaml(id: t
tasks:
  - {id: a, type: command, command: x}
  - {id: b, type: command, command: echo, args: ["${{ tasks.a.outputs.v }}"]}
)yaml",
                                               "u.yaml", kAnyType);
  EXPECT_THAT(Joined(upstream_only.errors),
              HasSubstr("u.yaml:4:5: task 'b' reads outputs of 'a', which is not upstream of it"));
  LoadedJobs ok = LoadJobFromString(R"yaml(id: t
tasks:
  - {id: a, type: command, command: x}
  - {id: m, type: command, command: x, depends_on: [a]}
  - {id: b, type: command, command: echo, args: ["${{ tasks.a.outputs.v }}"], depends_on: [m]}
)yaml",
                                    "ok.yaml", kAnyType);
  EXPECT_THAT(ok.errors, IsEmpty()) << "a transitive upstream is upstream too";
}

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

TEST_F(JobDirectoryTest, DuplicateJobIdsAcrossFilesNameBothFiles) {
  Write("one.yaml", "id: same\ntasks: [{id: t, type: command, command: x}]\n");
  Write("two.yaml", "id: same\ntasks: [{id: t, type: command, command: x}]\n");
  LoadedJobs loaded = LoadJobDirectory(dir_.string(), kAnyType);
  ASSERT_EQ(loaded.errors.size(), 1u);
  EXPECT_THAT(loaded.errors[0], HasSubstr("two.yaml: job id 'same' is already used by"));
  EXPECT_THAT(loaded.errors[0], HasSubstr("one.yaml"));
  EXPECT_EQ(loaded.jobs.size(), 1u);
}

TEST_F(JobDirectoryTest, AMissingDirectoryIsAnError) {
  LoadedJobs loaded = LoadJobDirectory((dir_ / "nope").string(), kAnyType);
  ASSERT_EQ(loaded.errors.size(), 1u);
  EXPECT_THAT(loaded.errors[0], HasSubstr("not a directory of job files"));
}

}  // namespace
}  // namespace petit::host
