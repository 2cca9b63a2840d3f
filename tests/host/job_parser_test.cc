// The job-level keys of a job file (config/job_parser.h) and the checks among the tasks of a job:
// schedules, run policies, job dependencies as written, task dependencies, cycles and templates.
#include "config/job_parser.h"

#include <chrono>
#include <cstdint>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/yaml_limits.h"
#include "job_loader_test_support.h"

namespace petit::host {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

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
  EXPECT_THAT(errors, HasSubstr("many.yaml:10:19: 'timeout_secs' must be at least 0.001 (1 ms)"));
  EXPECT_GE(loaded.errors.size(), 7u) << errors;
}

// A generated file that names many unknown tasks gets each reported, but a "did you mean" only for
// the first ones: each guess reads every task id, and guessing for all of 13,000 made a file under
// 1 MB take 25 s to check.
TEST(JobLoaderTest, HundredsOfUnknownDependenciesAreAllReportedButOnlyTheFirstGetAGuess) {
  constexpr int kTasks = 300;
  // Long ids make each guess read more, so that the budget runs out within a few hundred tasks.
  const std::string stem = "_" + std::string(90, 'x') + "_";
  std::string text = "id: generated\ntasks:\n";
  for (int i = 0; i < kTasks; ++i) {
    const std::string n = std::to_string(i);
    text += "  - {id: task" + stem + n + ", type: command, command: x, depends_on: [tsak" + stem +
            n + "]}\n";
  }
  LoadedJobs loaded = LoadJobFromString(text, "generated.yaml", kAnyType);
  size_t unknown = 0;
  size_t guessed = 0;
  for (const Diagnostic& error : loaded.errors) {
    if (error.message.find("depends on unknown task 'tsak") == std::string::npos) continue;
    ++unknown;
    if (error.message.find("(did you mean 'task") != std::string::npos) ++guessed;
  }
  EXPECT_EQ(unknown, size_t{kTasks});
  EXPECT_THAT(loaded.errors.front().message, HasSubstr("(did you mean 'task" + stem + "0'?)"));
  EXPECT_GT(guessed, 0u);
  EXPECT_LT(guessed, size_t{kTasks} / 2);
}

// A task refused for its own error is still a task of the file: depending on it is not a second,
// misleading error ("depends on unknown task").
TEST(JobLoaderTest, ADependencyOnATaskRefusedForItsOwnErrorIsNotASecondError) {
  LoadedJobs loaded = LoadJobFromString(R"(id: one
tasks:
  - id: a
    type: [command]
  - id: b
    type: command
    command: x
    depends_on: [a, zz]
)",
                                        "one.yaml", kAnyType);
  std::string errors = Joined(loaded.errors);
  EXPECT_THAT(errors, HasSubstr("one.yaml:4:11: 'type' must be a string, not a list"));
  EXPECT_THAT(errors, HasSubstr("task 'b' depends on unknown task 'zz'"));
  EXPECT_THAT(errors, Not(HasSubstr("unknown task 'a'")));
  EXPECT_EQ(loaded.errors.size(), 2u) << errors;
}

// A timeout that would round to 0 ms, which means none, is refused rather than silently dropped.
TEST(JobLoaderTest, ATimeoutBelowAMillisecondIsRefused) {
  for (const char* secs : {"0.0001", "1e-300", "0.0009"}) {
    LoadedJobs loaded = LoadJobFromString(
        std::string("id: t\ntasks:\n  - {id: a, type: command, command: x, timeout_secs: ") + secs +
            "}\n",
        "t.yaml", kAnyType);
    EXPECT_THAT(Joined(loaded.errors), HasSubstr("'timeout_secs' must be at least 0.001")) << secs;
  }
  LoadedJobs ok = LoadJobFromString(
      "id: t\ntasks:\n  - {id: a, type: command, command: x, timeout_secs: 0.001}\n", "t.yaml",
      kAnyType);
  EXPECT_EQ(OnlyJob(ok).dag.task(0).timeout, std::chrono::milliseconds(1));
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
  // At the value that holds the bad template, quoted as written.
  EXPECT_EQ(Where(Find(loaded, "task 'c': template '${{ nonsense }}': unknown expression")),
            "t.yaml:13:44 tasks.c.args[1]");
  EXPECT_THAT(loaded.jobs, IsEmpty());
  LoadedJobs unterminated = LoadJobFromString(R"yaml(id: t
tasks:
  - id: a
    type: command
    command: echo
    args:
      - ok
      - "${{ oops"
)yaml",
                                              "open.yaml", kAnyType);
  EXPECT_EQ(Where(Find(unterminated, "task 'a': unterminated template '${{ oops' (no closing")),
            "open.yaml:8:9 tasks.a.args[1]");
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

// --- api_visible -------------------------------------------------------------------------------

TEST(JobLoaderTest, ApiVisibleShowsWhatItListsAndNothingByDefault) {
  LoadedJobs hidden =
      LoadJobFromString("id: h\ntasks: [{id: a, type: command, command: x}]\n", "h.yaml", kAnyType);
  EXPECT_FALSE(OnlyJob(hidden).api_shows_config);
  EXPECT_FALSE(OnlyJob(hidden).api_shows_environment);
  LoadedJobs both = LoadJobFromString(
      "id: b\napi_visible: [config, environment]\ntasks: [{id: a, type: command, command: x}]\n",
      "b.yaml", kAnyType);
  EXPECT_TRUE(OnlyJob(both).api_shows_config);
  EXPECT_TRUE(OnlyJob(both).api_shows_environment);
  LoadedJobs one = LoadJobFromString(
      "id: o\napi_visible: [environment]\ntasks: [{id: a, type: command, command: x}]\n", "o.yaml",
      kAnyType);
  EXPECT_FALSE(OnlyJob(one).api_shows_config);
  EXPECT_TRUE(OnlyJob(one).api_shows_environment);
}

TEST(JobLoaderTest, ApiVisibleErrorsNameTheValueAndSuggestOne) {
  LoadedJobs typo = LoadJobFromString(
      "id: t\napi_visible: [config, enviroment]\ntasks: [{id: a, type: command, command: x}]\n",
      "t.yaml", kAnyType);
  Diagnostic problem = Find(typo, "unknown api_visible value 'enviroment'");
  EXPECT_EQ(Where(problem), "t.yaml:2:23 api_visible[1]");
  EXPECT_THAT(problem.message, HasSubstr("did you mean 'environment'?"));
  LoadedJobs scalar =
      LoadJobFromString("id: s\napi_visible: config\ntasks: [{id: a, type: command, command: x}]\n",
                        "s.yaml", kAnyType);
  EXPECT_THAT(Find(scalar, "'api_visible' must be a list").message, HasSubstr("not a scalar"));
  LoadedJobs key = LoadJobFromString(
      "id: k\napi_visibel: [config]\ntasks: [{id: a, type: command, command: x}]\n", "k.yaml",
      kAnyType);
  EXPECT_THAT(Find(key, "api_visibel").message, HasSubstr("did you mean 'api_visible'?"));
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

}  // namespace
}  // namespace petit::host

namespace petit::host {
namespace {

std::string JobOfTasks(size_t count) {
  std::string yaml = "id: wide\ntasks:\n";
  for (size_t i = 0; i < count; ++i) {
    yaml += "  - {id: t" + std::to_string(i) + ", type: command, command: x}\n";
  }
  return yaml;
}

TEST(JobLoaderTest, AJobOfMoreTasksThanTheLimitIsOneErrorAtItsTasks) {
  EXPECT_EQ(
      OnlyJob(LoadJobFromString(JobOfTasks(kMaxTasksPerJob), "wide.yaml", kAnyType)).dag.size(),
      kMaxTasksPerJob);
  LoadedJobs over = LoadJobFromString(JobOfTasks(kMaxTasksPerJob + 1), "wide.yaml", kAnyType);
  EXPECT_THAT(over.jobs, IsEmpty());
  ASSERT_EQ(over.errors.size(), 1u) << Joined(over.errors);
  EXPECT_EQ(over.errors[0].ToString(),
            "wide.yaml:3:3: a job holds at most " + std::to_string(kMaxTasksPerJob) +
                " tasks, and this one has " + std::to_string(kMaxTasksPerJob + 1));
  EXPECT_EQ(over.errors[0].key, "tasks");
}

}  // namespace
}  // namespace petit::host
