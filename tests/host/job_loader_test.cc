// Job files in the original Petit format: what loads, what it means, and how errors read.
#include "config/job_loader.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace petit::host {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const JobLoaderOptions kAnyType;

std::string Joined(const std::vector<Diagnostic>& problems) {
  std::string all;
  for (const Diagnostic& problem : problems) all += problem.ToString() + "\n";
  return all;
}

// The only problem of `loaded` whose message contains `text`.
Diagnostic Find(const LoadedJobs& loaded, const std::string& text) {
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
std::string Where(const Diagnostic& problem) {
  return problem.file + ":" + std::to_string(problem.line) + ":" + std::to_string(problem.column) +
         " " + problem.key;
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
  EXPECT_EQ(Where(Find(loaded, "'dependson'")), "typo.yaml:6:5 tasks.one.dependson");
  EXPECT_EQ(Where(Find(loaded, "'max_attempt'")), "typo.yaml:8:7 tasks.one.retry.max_attempt");
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
  EXPECT_THAT(loaded.errors[0].ToString(), HasSubstr("bad.yaml:"));
  EXPECT_GT(loaded.errors[0].line, 0u);
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

TEST(JobLoaderTest, ATaskMaySetItsOwnOutputCap) {
  LoadedJobs loaded = LoadJobFromString(R"(id: c
tasks:
  - {id: quiet, type: command, command: x, output_cap_bytes: 4096}
  - {id: usual, type: command, command: x}
)",
                                        "c.yaml", kAnyType);
  EXPECT_EQ(TaskOf(OnlyJob(loaded), "quiet").output_cap_bytes, std::optional<uint64_t>(4096));
  EXPECT_EQ(TaskOf(OnlyJob(loaded), "usual").output_cap_bytes, std::nullopt);

  LoadedJobs tiny = LoadJobFromString(R"(id: c
tasks:
  - {id: quiet, type: command, command: x, output_cap_bytes: 10}
)",
                                      "c.yaml", kAnyType);
  ASSERT_EQ(tiny.errors.size(), 1u);
  EXPECT_THAT(tiny.errors[0].ToString(), HasSubstr("c.yaml:3:"));
  EXPECT_THAT(tiny.errors[0].ToString(), HasSubstr("output_cap_bytes"));
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

TEST(JobLoaderTest, ProblemsOfAFileAreListedTopToBottom) {
  LoadedJobs loaded = LoadJobFromString(R"(id: order
tasks:
  - {id: a, type: command, command: x, depends_on: [nope]}
  - {id: b, type: command, command: x, timeout_secs: 0}
schedule: "61 * * * *"
)",
                                        "order.yaml", kAnyType);
  ASSERT_EQ(loaded.errors.size(), 3u) << Joined(loaded.errors);
  EXPECT_EQ(loaded.errors[0].line, 3u);
  EXPECT_EQ(loaded.errors[1].line, 4u);
  EXPECT_EQ(loaded.errors[2].line, 5u);
}

// --- schedules ---------------------------------------------------------------------------------

TEST(JobLoaderTest, AScheduleStringIsReadInTheDefaultTimeZone) {
  JobLoaderOptions options;
  options.default_time_zone = "Europe/London";
  LoadedJobs loaded = LoadJobFromString(R"(id: nightly
schedule: "0 0 2 * * *"
tasks: [{id: a, type: command, command: x}]
)",
                                        "n.yaml", options);
  const Job& job = OnlyJob(loaded);
  ASSERT_TRUE(job.schedule.has_value());
  EXPECT_EQ(job.schedule->expression(), "0 0 2 * * *");
  EXPECT_EQ(job.schedule->time_zone(), "Europe/London");
  // 2026-01-10T12:00:00Z; London is on UTC in winter, so 02:00 local is 02:00Z the next day.
  EXPECT_EQ(job.schedule->NextAfter(int64_t{1768046400} * 1000000), int64_t{1768096800} * 1000000);
}

TEST(JobLoaderTest, AScheduleMappingNamesItsOwnTimeZone) {
  JobLoaderOptions options;
  options.default_time_zone = "Europe/London";
  LoadedJobs loaded = LoadJobFromString(R"(id: morning
schedule:
  cron: "0 9 * * 1-5"
  timezone: America/New_York
tasks: [{id: a, type: command, command: x}]
)",
                                        "m.yaml", options);
  const Job& job = OnlyJob(loaded);
  ASSERT_TRUE(job.schedule.has_value());
  EXPECT_EQ(job.schedule->time_zone(), "America/New_York");
  EXPECT_EQ(job.schedule->expression(), "0 9 * * 1-5");
}

TEST(JobLoaderTest, WithoutAScheduleAJobRunsOnlyWhenTriggered) {
  LoadedJobs loaded = LoadJobFromString(R"(id: manual
schedule:
tasks: [{id: a, type: command, command: x}]
)",
                                        "m.yaml", kAnyType);
  EXPECT_FALSE(OnlyJob(loaded).schedule.has_value());
  EXPECT_THAT(loaded.warnings, IsEmpty());
}

TEST(JobLoaderTest, AnInvalidCronExpressionIsReportedAtItsValueWithTheParsersReason) {
  LoadedJobs loaded = LoadJobFromString(R"(id: bad
schedule: "0 25 * * *"
tasks: [{id: a, type: command, command: x}]
)",
                                        "bad.yaml", kAnyType);
  EXPECT_THAT(loaded.jobs, IsEmpty());
  Diagnostic problem = Find(loaded, "invalid schedule '0 25 * * *'");
  EXPECT_EQ(Where(problem), "bad.yaml:2:11 schedule");
  EXPECT_THAT(problem.message, HasSubstr("25"));

  LoadedJobs mapped = LoadJobFromString(R"(id: bad
schedule: {cron: "@every 0s"}
tasks: [{id: a, type: command, command: x}]
)",
                                        "map.yaml", kAnyType);
  EXPECT_EQ(Where(Find(mapped, "invalid schedule '@every 0s'")), "map.yaml:2:18 schedule.cron");
}

TEST(JobLoaderTest, AnUnknownTimeZoneIsReportedAtTheTimezoneKeyWithASuggestion) {
  LoadedJobs loaded = LoadJobFromString(R"(id: tz
schedule:
  cron: "@daily"
  timezone: Europe/Lodnon
tasks: [{id: a, type: command, command: x}]
)",
                                        "tz.yaml", kAnyType);
  Diagnostic problem = Find(loaded, "Europe/Lodnon");
  EXPECT_EQ(Where(problem), "tz.yaml:4:13 schedule.timezone");
  EXPECT_THAT(problem.message, HasSubstr("did you mean 'Europe/London'?"));
}

TEST(JobLoaderTest, AScheduleMappingIsStrict) {
  LoadedJobs loaded = LoadJobFromString(R"(id: strict
schedule:
  cron: "@daily"
  timezon: UTC
tasks: [{id: a, type: command, command: x}]
)",
                                        "s.yaml", kAnyType);
  EXPECT_EQ(Where(Find(loaded, "(did you mean 'timezone'?)")), "s.yaml:4:3 schedule.timezon");
  LoadedJobs no_cron = LoadJobFromString(R"(id: strict
schedule: {timezone: UTC}
tasks: [{id: a, type: command, command: x}]
)",
                                         "c.yaml", kAnyType);
  EXPECT_EQ(Where(Find(no_cron, "missing required key 'cron'")), "c.yaml:2:11 schedule.cron");
  LoadedJobs listed = LoadJobFromString(R"(id: strict
schedule: ["@daily"]
tasks: [{id: a, type: command, command: x}]
)",
                                        "l.yaml", kAnyType);
  EXPECT_EQ(Where(Find(listed, "must be a cron expression")), "l.yaml:2:11 schedule");
}

// --- run policies ------------------------------------------------------------------------------

TEST(JobLoaderTest, MaxConcurrencyIsTheOriginalNameOfMaxActiveRuns) {
  const char* kYaml = R"(id: runs
max_concurrency: 3
tasks: [{id: a, type: command, command: x}]
)";
  EXPECT_EQ(OnlyJob(LoadJobFromString(kYaml, "r.yaml", kAnyType)).max_active_runs, 3u);
  LoadedJobs unlimited = LoadJobFromString(R"(id: runs
max_active_runs: 0
tasks: [{id: a, type: command, command: x}]
)",
                                           "u.yaml", kAnyType);
  EXPECT_EQ(OnlyJob(unlimited).max_active_runs, 0u) << "0 = unlimited";
  LoadedJobs defaults =
      LoadJobFromString("id: d\ntasks: [{id: a, type: command, command: x}]\n", "d.yaml", kAnyType);
  EXPECT_EQ(OnlyJob(defaults).max_active_runs, 1u);
}

TEST(JobLoaderTest, MaxConcurrencyAndMaxActiveRunsTogetherAreAnError) {
  LoadedJobs loaded = LoadJobFromString(R"(id: both
max_concurrency: 2
max_active_runs: 2
tasks: [{id: a, type: command, command: x}]
)",
                                        "b.yaml", kAnyType);
  EXPECT_EQ(Where(Find(loaded, "the same setting")), "b.yaml:3:18 max_active_runs");
  LoadedJobs zero = LoadJobFromString(R"(id: zero
max_concurrency: 0
tasks: [{id: a, type: command, command: x}]
)",
                                      "z.yaml", kAnyType);
  EXPECT_EQ(Where(Find(zero, "'max_concurrency' must be between 1 and 4096")),
            "z.yaml:2:18 max_concurrency");
}

TEST(JobLoaderTest, ReadsOverlapAndCatchUpPolicies) {
  LoadedJobs loaded = LoadJobFromString(R"(id: p
schedule: "*/5 * * * *"
overlap: cancel_previous
catch_up: all
catch_up_limit: 25
tasks: [{id: a, type: command, command: x}]
)",
                                        "p.yaml", kAnyType);
  const Job& job = OnlyJob(loaded);
  EXPECT_EQ(job.overlap, OverlapPolicy::kCancelPrevious);
  EXPECT_EQ(job.catch_up, CatchUpPolicy::kAll);
  EXPECT_EQ(job.catch_up_limit, 25u);
  LoadedJobs defaults =
      LoadJobFromString("id: d\ntasks: [{id: a, type: command, command: x}]\n", "d.yaml", kAnyType);
  EXPECT_EQ(OnlyJob(defaults).overlap, OverlapPolicy::kSkip);
  EXPECT_EQ(OnlyJob(defaults).catch_up, CatchUpPolicy::kNone);
  for (const char* value : {"skip", "queue"}) {
    LoadedJobs each = LoadJobFromString(
        std::string("id: e\noverlap: ") + value + "\ntasks: [{id: a, type: command, command: x}]\n",
        "e.yaml", kAnyType);
    EXPECT_EQ(OnlyJob(each).overlap,
              std::string(value) == "skip" ? OverlapPolicy::kSkip : OverlapPolicy::kQueue);
  }
}

TEST(JobLoaderTest, PolicyErrorsNameTheValueAndSuggestOne) {
  LoadedJobs loaded = LoadJobFromString(R"(id: p
overlap: queu
catch_up: latest
catch_up_limit: 5
tasks: [{id: a, type: command, command: x}]
)",
                                        "p.yaml", kAnyType);
  Diagnostic overlap = Find(loaded, "unknown overlap policy 'queu'");
  EXPECT_EQ(Where(overlap), "p.yaml:2:10 overlap");
  EXPECT_THAT(overlap.message, HasSubstr("did you mean 'queue'?"));
  EXPECT_EQ(Where(Find(loaded, "'catch_up' needs a 'schedule'")), "p.yaml:3:11 catch_up");
  EXPECT_EQ(Where(Find(loaded, "applies only with 'catch_up: all'")), "p.yaml:4:17 catch_up_limit");
}

// --- job dependencies --------------------------------------------------------------------------

TEST(JobLoaderTest, ReadsJobDependenciesInEveryDocumentedSpelling) {
  LoadedJobs loaded = LoadJobFromString(R"(id: downstream
depends_on:
  - upstream_1
  - job: upstream_2
    condition: last_complete
  - job_id: upstream_3
    condition: last_success
  - job: upstream_4
    condition:
      within_window:
        seconds: 3600
tasks: [{id: a, type: command, command: x}]
)",
                                        "d.yaml", kAnyType);
  const Job& job = OnlyJob(loaded);
  ASSERT_EQ(job.depends_on.size(), 4u);
  using Condition = JobDependency::Condition;
  EXPECT_EQ(job.depends_on[0].job.str(), "upstream_1");
  EXPECT_EQ(job.depends_on[0].condition, Condition::kLastSuccess);
  EXPECT_EQ(job.depends_on[1].job.str(), "upstream_2");
  EXPECT_EQ(job.depends_on[1].condition, Condition::kLastComplete);
  EXPECT_EQ(job.depends_on[2].job.str(), "upstream_3");
  EXPECT_EQ(job.depends_on[2].condition, Condition::kLastSuccess);
  EXPECT_EQ(job.depends_on[3].condition, Condition::kWithinWindow);
  EXPECT_EQ(job.depends_on[3].window, std::chrono::seconds(3600));
  LoadedJobs single = LoadJobFromString(R"(id: one
depends_on: upstream
tasks: [{id: a, type: command, command: x}]
)",
                                        "s.yaml", kAnyType);
  ASSERT_EQ(OnlyJob(single).depends_on.size(), 1u);
}

TEST(JobLoaderTest, JobDependencyErrorsPointAtTheEntry) {
  LoadedJobs loaded = LoadJobFromString(R"(id: d
depends_on:
  - job: a
    condition: last_sucess
  - job: b
    condition: within_window
  - job: c
    condition: {within_window: {seconds: 0}}
  - {job: e, job_id: e}
  - e
  - {jobb: f}
  - "bad id!"
tasks: [{id: t, type: command, command: x}]
)",
                                        "d.yaml", kAnyType);
  EXPECT_THAT(loaded.jobs, IsEmpty());
  Diagnostic typo = Find(loaded, "'last_sucess'");
  EXPECT_EQ(Where(typo), "d.yaml:4:16 depends_on[0].condition");
  EXPECT_THAT(typo.message, HasSubstr("did you mean 'last_success'?"));
  EXPECT_EQ(Where(Find(loaded, "needs its window")), "d.yaml:6:16 depends_on[1].condition");
  EXPECT_EQ(Where(Find(loaded, "'seconds' must be between 1")),
            "d.yaml:8:42 depends_on[2].condition.within_window.seconds");
  EXPECT_EQ(Where(Find(loaded, "'job' and 'job_id'")), "d.yaml:9:22 depends_on[3].job_id");
  EXPECT_EQ(Where(Find(loaded, "lists job 'e' twice")), "d.yaml:10:5 depends_on[4]");
  EXPECT_EQ(Where(Find(loaded, "unknown key 'jobb'")), "d.yaml:11:6 depends_on[5].jobb");
  EXPECT_EQ(Where(Find(loaded, "job id")), "d.yaml:12:5 depends_on[6]");
}

// --- task types and parameters -----------------------------------------------------------------

TEST(JobLoaderTest, EnvironmentOnAnInProcessTaskTypeIsAnError) {
  LoadedJobs loaded = LoadJobFromString(R"(id: env
tasks:
  - id: wait
    type: sleep
    params: {ms: 1}
    environment: {A: b}
)",
                                        "env.yaml", kAnyType);
  Diagnostic problem = Find(loaded, "'environment' sets variables of a process");
  EXPECT_EQ(Where(problem), "env.yaml:6:18 tasks.wait.environment");
  EXPECT_THAT(problem.message, HasSubstr("type sleep runs inside the host"));
}

// A schema in the shape plugins declare, richer than any first-party one.
constexpr char kHttpSchema[] = R"({
  "type": "object",
  "properties": {
    "url": {"type": "string", "minLength": 1},
    "method": {"type": "string", "enum": ["GET", "POST", "PUT", "DELETE"]},
    "timeout_secs": {"type": "number", "exclusiveMinimum": 0},
    "retries": {"type": "integer", "minimum": 0, "maximum": 10},
    "verify_tls": {"type": "boolean"},
    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
    "expect": {"type": "array", "items": {"type": "integer"}, "minItems": 1}
  },
  "required": ["url"],
  "additionalProperties": false
})";

JobLoaderOptions HttpOptions() {
  JobLoaderOptions options;
  options.known_types = {"command", "http.request", "sleep", "upper"};
  options.params_schemas.emplace("http.request", kHttpSchema);
  options.params_schemas.emplace(
      "sleep", R"({"type":"object","properties":{"ms":{"type":"integer","minimum":0}},)"
               R"("required":["ms"],"additionalProperties":false})");
  options.params_schemas.emplace(
      "upper",
      R"({"type":"object","properties":{"text":{"type":"string"},"input":{"type":"string"}},)"
      R"("anyOf":[{"required":["text"]},{"required":["input"]}],"additionalProperties":false})");
  return options;
}

TEST(JobLoaderTest, PluginParametersThatFitTheSchemaLoad) {
  LoadedJobs loaded = LoadJobFromString(R"yaml(id: http
tasks:
  - id: produce
    type: command
    command: x
  - id: fetch
    type: http.request
    depends_on: [produce]
    params:
      url: "https://example.com/${{ tasks.produce.outputs.path }}"
      method: "${{ config.method }}"
      timeout_secs: 2.5
      retries: 3
      verify_tls: false
      headers: {accept: application/json}
      expect: [200, 204]
  - id: wait
    type: custom
    handler: sleep
    config: {ms: 5}
config: {method: GET}
)yaml",
                                        "http.yaml", HttpOptions());
  const Job& job = OnlyJob(loaded);
  EXPECT_EQ(TaskOf(job, "fetch").type, "http.request");
  EXPECT_EQ(TaskOf(job, "wait").type, "sleep");
}

TEST(JobLoaderTest, PluginParametersAreCheckedAgainstTheSchemaWithPositions) {
  LoadedJobs loaded = LoadJobFromString(R"yaml(id: http
tasks:
  - id: fetch
    type: http.request
    params:
      url: ""
      methd: GET
      method: PUTT
      timeout_secs: 0
      retries: "3"
      headers: {accept: 5}
      expect: [200, x]
  - id: nothing
    type: http.request
  - id: late
    type: http.request
    params: {url: u, retries: 11}
  - id: wait
    type: custom
    handler: sleep
    config: {ms: -1}
)yaml",
                                        "http.yaml", HttpOptions());
  EXPECT_THAT(loaded.jobs, IsEmpty());
  const std::string fetch = "task 'fetch' (type http.request): ";
  EXPECT_EQ(Find(loaded, "parameter 'url' must not be empty").message,
            fetch + "parameter 'url' must not be empty");
  EXPECT_EQ(Where(Find(loaded, "parameter 'url' must not be empty")),
            "http.yaml:6:12 tasks.fetch.params.url");
  Diagnostic unknown = Find(loaded, "unknown parameter 'methd'");
  EXPECT_EQ(Where(unknown), "http.yaml:7:7 tasks.fetch.params.methd");
  EXPECT_THAT(unknown.message, HasSubstr("(did you mean 'method'?)"));
  Diagnostic method = Find(loaded, "parameter 'method' must be one of");
  EXPECT_EQ(Where(method), "http.yaml:8:15 tasks.fetch.params.method");
  EXPECT_THAT(method.message,
              HasSubstr(R"(must be one of "GET", "POST", "PUT", "DELETE", not "PUTT")"));
  EXPECT_EQ(Where(Find(loaded, "'timeout_secs' must be greater than 0, not 0")),
            "http.yaml:9:21 tasks.fetch.params.timeout_secs");
  EXPECT_EQ(Where(Find(loaded, "'retries' must be an integer, not a string")),
            "http.yaml:10:16 tasks.fetch.params.retries");
  EXPECT_EQ(Where(Find(loaded, "'headers.accept' must be a string, not an integer")),
            "http.yaml:11:25 tasks.fetch.params.headers.accept");
  EXPECT_EQ(Where(Find(loaded, "'expect[1]' must be an integer, not a string")),
            "http.yaml:12:21 tasks.fetch.params.expect[1]");
  EXPECT_EQ(Where(Find(loaded,
                       "task 'nothing' (type http.request): missing required parameter "
                       "'url'")),
            "http.yaml:13:5 tasks.nothing.params");
  EXPECT_EQ(Where(Find(loaded, "'retries' must be at most 10, not 11")),
            "http.yaml:17:31 tasks.late.params.retries");
  EXPECT_EQ(Where(Find(loaded, "task 'wait' (type sleep): parameter 'ms' must be at least 0")),
            "http.yaml:21:18 tasks.wait.config.ms");
}

TEST(JobLoaderTest, SchemaAlternativesAreExplainedByTheNamesTheyRequire) {
  JobLoaderOptions options = HttpOptions();
  options.known_types.push_back("run");
  options.params_schemas.emplace("run", R"({"type":"object",
    "properties":{"command":{"type":"string"},"shell":{"type":"string"},"args":{"type":"array"}},
    "oneOf":[{"required":["command"]},{"required":["shell"]}],
    "not":{"required":["shell","args"]}})");
  LoadedJobs loaded = LoadJobFromString(R"yaml(id: alt
tasks:
  - {id: neither, type: upper, params: {}}
  - {id: both, type: run, params: {command: a, shell: b}}
  - {id: mixed, type: run, params: {shell: b, args: [x]}}
  - {id: fine, type: upper, params: {input: a.b}}
)yaml",
                                        "alt.yaml", options);
  EXPECT_EQ(Find(loaded, "'neither'").message,
            "task 'neither' (type upper): parameters must include 'text' or 'input'");
  EXPECT_EQ(Find(loaded, "'both'").message,
            "task 'both' (type run): parameters must include exactly one of 'command' or 'shell'");
  EXPECT_EQ(Find(loaded, "'mixed'").message,
            "task 'mixed' (type run): parameters must not include 'shell' and 'args' together");
  EXPECT_EQ(loaded.errors.size(), 3u) << Joined(loaded.errors);
}

TEST(JobLoaderTest, ASchemaTheHostCannotReadIsAWarningNotAnError) {
  JobLoaderOptions options;
  options.known_types = {"odd"};
  options.params_schemas.emplace("odd", R"({"type": "object", "required": "x"})");
  LoadedJobs loaded = LoadJobFromString(R"(id: odd
tasks:
  - {id: a, type: odd, params: {anything: 1}}
  - {id: b, type: odd}
)",
                                        "odd.yaml", options);
  EXPECT_EQ(OnlyJob(loaded).dag.size(), 2u);
  ASSERT_EQ(loaded.warnings.size(), 1u) << "once per type";
  EXPECT_THAT(loaded.warnings[0].ToString(),
              HasSubstr("odd.yaml:3:19: the parameter schema of task type 'odd' cannot be "
                        "checked here"));
}

TEST(JobLoaderTest, TheCommandTypeNeedsTheCommandPlugin) {
  JobLoaderOptions options;
  options.known_types = {"sleep"};
  LoadedJobs loaded =
      LoadJobFromString("id: c\ntasks: [{id: a, type: command, command: x}]\n", "c.yaml", options);
  EXPECT_EQ(Where(Find(loaded, "needs the command plugin")), "c.yaml:2:23 tasks.a.type");
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
  ASSERT_EQ(loaded.errors.size(), 1u) << Joined(loaded.errors);
  EXPECT_EQ(loaded.errors[0].ToString(), (dir_ / "two.yaml").string() +
                                             ":1:5: job id 'same' is already used by " +
                                             (dir_ / "one.yaml").string() + ":1:5");
  EXPECT_EQ(loaded.errors[0].key, "id");
  ASSERT_EQ(loaded.jobs.size(), 1u);
  EXPECT_EQ(loaded.jobs[0].source_file, (dir_ / "one.yaml").string()) << "the first file wins";
}

TEST_F(JobDirectoryTest, AMissingDirectoryIsAnError) {
  LoadedJobs loaded = LoadJobDirectory((dir_ / "nope").string(), kAnyType);
  ASSERT_EQ(loaded.errors.size(), 1u);
  EXPECT_THAT(loaded.errors[0].message, HasSubstr("not a directory of job files"));
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
