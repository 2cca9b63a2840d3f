// What `petit validate` says to a person new to Petit (config/key_hints.h): one row per mistake
// such a person makes in a job file, each checked for its hint, and for the file, line and key
// path the problem names.
#include "config/key_hints.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "job_loader_test_support.h"

namespace petit::host {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Where a row's line goes in the job file below.
enum class At { kJob, kSchedule, kTask, kRetry, kPluginTask };

struct Mistake {
  At at;
  std::string line;      // "key: value", as the person wrote it
  std::string expected;  // in the problem's message
};

// A valid job with one line added at `at`; `*line_number` is that line's (1-based).
std::string JobWith(At at, const std::string& line, uint32_t* line_number) {
  const std::vector<std::pair<At, std::string>> parts = {
      {At::kJob, "id: j\n"},
      {At::kSchedule, "schedule:\n  cron: \"@daily\"\n"},
      {At::kTask, "tasks:\n  - id: t\n    type: command\n    command: \"true\"\n"},
      {At::kRetry, "    retry:\n      max_attempts: 1\n"},
      {At::kPluginTask, "  - id: other\n    type: noop\n"},
  };
  const std::string indent = at == At::kJob        ? ""
                             : at == At::kSchedule ? "  "
                             : at == At::kRetry    ? "      "
                                                   : "    ";
  std::string text;
  for (const auto& [place, part] : parts) {
    text += part;
    if (place == at) {
      *line_number = static_cast<uint32_t>(std::count(text.begin(), text.end(), '\n') + 1);
      text += indent + line + "\n";
    }
  }
  return text;
}

// The key path a problem about `line` at `at` names.
std::string PathOf(At at, const std::string& line) {
  const std::string key = line.substr(0, line.find(':'));
  switch (at) {
    case At::kJob:
      return key;
    case At::kSchedule:
      return "schedule." + key;
    case At::kTask:
      return "tasks.t." + key;
    case At::kRetry:
      return "tasks.t.retry." + key;
    case At::kPluginTask:
      return "tasks.other." + key;
  }
  return key;
}

void ExpectOneProblem(const Mistake& row) {
  uint32_t line = 0;
  const std::string text = JobWith(row.at, row.line, &line);
  LoadedJobs loaded = LoadJobFromString(text, "j.yaml", kAnyType);
  ASSERT_EQ(loaded.errors.size(), 1u) << row.line << "\n" << text << Joined(loaded.errors);
  const Diagnostic& problem = loaded.errors.front();
  EXPECT_THAT(problem.message, HasSubstr(row.expected)) << row.line;
  EXPECT_EQ(problem.file, "j.yaml");
  EXPECT_EQ(problem.line, line) << row.line;
  EXPECT_EQ(problem.key, PathOf(row.at, row.line)) << row.line;
}

TEST(KeyHintsTest, AnUnknownKeyNamesTheKeyANewUserMeant) {
  const std::vector<Mistake> rows = {
      // A task: units left out or other, another case, other formats' words.
      {At::kTask, "timeout: 30", "(did you mean 'timeout_secs'? it is in seconds)"},
      {At::kTask, "timeout_ms: 500",
       "(did you mean 'timeout_secs'? it is in seconds, not milliseconds)"},
      {At::kTask, "timeoutSecs: 5", "(did you mean 'timeout_secs'?)"},
      {At::kTask, "output_cap: 4096", "(did you mean 'output_cap_bytes'? it is in bytes)"},
      {At::kTask, "priorty: 1", "(did you mean 'priority'?)"},
      {At::kTask, "deps: [other]", "(did you mean 'depends_on'?)"},
      {At::kTask, "dependencies: [other]", "(did you mean 'depends_on'?)"},
      {At::kTask, "depends-on: [other]", "(did you mean 'depends_on'?)"},
      {At::kTask, "dependsOn: [other]", "(did you mean 'depends_on'?)"},
      {At::kTask, "needs: [other]", "(did you mean 'depends_on'?)"},
      {At::kTask, "trigger_rule: all_done", "(did you mean 'condition'?)"},
      {At::kTask, "env: {A: b}", "(did you mean 'environment'?)"},
      {At::kTask, "cwd: /tmp", "(did you mean 'working_dir'?)"},
      {At::kTask, "cmd: x", "(did you mean 'command'?)"},
      {At::kTask, "operator: bash", "(did you mean 'type'?)"},
      {At::kTask, "Name: x", "(did you mean 'name'?)"},
      // A task: keys of its retry, and of the job.
      {At::kTask, "delay: 5", "(did you mean 'retry: {delay_secs: ...}'? it is in seconds)"},
      {At::kTask, "max_attempts: 3", "(did you mean 'retry: {max_attempts: ...}'?)"},
      {At::kTask, "retries: 3",
       "(did you mean 'retry: {max_attempts: ...}'? it counts retries after the first run)"},
      {At::kTask, "retry_delay: 10", "(did you mean 'retry: {delay_secs: ...}'?"},
      {At::kTask, "backoff_multiplier: 2", "(did you mean 'retry: {backoff_multiplier: ...}'?)"},
      {At::kTask, "schedule: \"@daily\"", "('schedule' belongs to the job, not to a task)"},
      {At::kTask, "description: x", "('description' belongs to the job, not to a task)"},
      {At::kTask, "desc: x", "(did you mean 'description'? it belongs to the job, not to a task)"},
      {At::kTask, "timezone: UTC", "('timezone' belongs to the job's 'schedule', not to a task)"},
      // A task of a plugin type: the keys of the original's command and python forms.
      {At::kPluginTask, "command: x",
       "('command' is a key of tasks of type command; other task types take their parameters "
       "under 'params')"},
      {At::kPluginTask, "script: x", "is a key of tasks of type python;"},
      {At::kPluginTask, "parameters: {}", "(did you mean 'params'?)"},
      // A retry.
      {At::kRetry, "delay: 5", "(did you mean 'delay_secs'? it is in seconds)"},
      {At::kRetry, "delay_ms: 500", "(did you mean 'delay_secs'? it is in seconds, not millis"},
      {At::kRetry, "retries: 2",
       "(did you mean 'max_attempts'? it counts retries after the first run)"},
      {At::kRetry, "limit: 2", "(did you mean 'max_attempts'?)"},
      {At::kRetry, "intervalSec: 5", "(did you mean 'delay_secs'?"},
      {At::kRetry, "retry_delay_ms: 500",
       "(did you mean 'delay_secs'? it is in seconds, not milli"},
      {At::kTask, "retryDelaySeconds: 5", "(did you mean 'retry: {delay_secs: ...}'?"},
      {At::kRetry, "max_delay: 60", "(did you mean 'max_delay_secs'? it is in seconds)"},
      {At::kRetry, "exit_code: [1]", "(did you mean 'exit_codes'?)"},
      {At::kRetry, "backoff: 2", "(did you mean 'backoff_multiplier'?)"},
      {At::kRetry, "retry_on: failure", "(did you mean 'condition'?)"},
      {At::kRetry, "timeout_secs: 5", "('timeout_secs' belongs to the task, beside 'retry')"},
      {At::kRetry, "timeout: 5",
       "(did you mean 'timeout_secs'? it belongs to the task, beside 'retry'; it is in seconds)"},
      // A job.
      {At::kJob, "cron: \"0 * * * *\"", "(did you mean 'schedule'?)"},
      {At::kJob, "schedule_interval: \"@daily\"", "(did you mean 'schedule'?)"},
      {At::kJob, "timezone: UTC", "(did you mean 'schedule: {timezone: ...}'?)"},
      {At::kJob, "desc: x", "(did you mean 'description'?)"},
      {At::kJob, "steps: []", "(did you mean 'tasks'?)"},
      {At::kJob, "catchup: all", "(did you mean 'catch_up'?)"},
      {At::kJob, "maxActiveRuns: 1", "(did you mean 'max_active_runs'?)"},
      {At::kJob, "max_active_tasks: 2", "(did you mean 'max_parallel_tasks'?)"},
      {At::kJob, "disabled: true", "(did you mean 'enabled'? write enabled: false)"},
      {At::kJob, "depends: [x]", "(did you mean 'depends_on'?)"},
      {At::kJob, "dag_id: x", "(did you mean 'id'?)"},
      {At::kJob, "retry: {max_attempts: 2}", "('retry' belongs to each task, under 'tasks')"},
      {At::kJob, "type: command", "('type' belongs to each task, under 'tasks')"},
      {At::kJob, "timeout: 60",
       "(did you mean 'timeout_secs'? it belongs to each task, under 'tasks'; it is in seconds)"},
      {At::kJob, "retries: 3", "(did you mean 'max_attempts'? it belongs to the 'retry' of each"},
      {At::kJob, "storage: \"memory:\"", "('storage' belongs in petit.yaml, not in a job file)"},
      // A schedule.
      {At::kSchedule, "tz: UTC", "(did you mean 'timezone'?)"},
      {At::kSchedule, "time_zone: UTC", "(did you mean 'timezone'?)"},
      {At::kSchedule, "TimeZone: UTC", "(did you mean 'timezone'?)"},
      {At::kSchedule, "catch_up: all", "('catch_up' belongs to the job, beside 'schedule')"},
      // Other formats' words for a schedule, written inside `schedule:`, mean its `cron`: the
      // key holding them (`schedule`, `retry`) is never the hint.
      {At::kSchedule, "crontab: \"0 1 * * *\"", "(did you mean 'cron'?)"},
      {At::kSchedule, "expression: \"0 1 * * *\"", "(did you mean 'cron'?)"},
      {At::kSchedule, "schedule_interval: \"@daily\"", "(did you mean 'cron'?)"},
      {At::kSchedule, "every: 5m", "(did you mean 'cron'? write cron: '@every 10m')"},
      {At::kSchedule, "zone: UTC", "(did you mean 'timezone'?)"},
  };
  for (const Mistake& row : rows) ExpectOneProblem(row);
}

TEST(KeyHintsTest, AKeyInsideAMapIsNeverToldToBeThatMap) {
  // Whether by another format's word or by spelling, `schedule` inside `schedule:` (or `retry`
  // inside `retry:`) would send the user to where they already are.
  const std::vector<Mistake> rows = {
      {At::kSchedule, "schedul: x", "unknown key 'schedul'"},
      {At::kSchedule, "trigger: x", "unknown key 'trigger'"},
      {At::kSchedule, "cron_schedule: x", "unknown key 'cron_schedule'"},
      {At::kRetry, "retry_policy: {}", "unknown key 'retry_policy'"},
      {At::kRetry, "retyr: {}", "unknown key 'retyr'"},
  };
  for (const Mistake& row : rows) {
    ExpectOneProblem(row);
    uint32_t line = 0;
    LoadedJobs loaded = LoadJobFromString(JobWith(row.at, row.line, &line), "j.yaml", kAnyType);
    ASSERT_EQ(loaded.errors.size(), 1u) << row.line;
    const std::string& message = loaded.errors.front().message;
    EXPECT_THAT(message, Not(HasSubstr("'schedule'?"))) << message;
    EXPECT_THAT(message, Not(HasSubstr("mean 'schedule'"))) << message;
    EXPECT_THAT(message, Not(HasSubstr("mean 'retry"))) << message;
  }
}

TEST(KeyHintsTest, AValueOfTheWrongKindSaysWhatToWrite) {
  const std::vector<Mistake> rows = {
      // Durations and sizes with a unit, in a key that names its own.
      {At::kTask, "timeout_secs: 5m",
       "'timeout_secs' must be a number (seconds), not '5m': write timeout_secs: 300"},
      {At::kTask, "timeout_secs: 1h30m", "write timeout_secs: 5400"},
      {At::kTask, "timeout_secs: 500ms", "write timeout_secs: 0.5"},
      {At::kTask, "timeout_secs: 2 hours", "write timeout_secs: 7200"},
      {At::kRetry, "delay_secs: 10s", "write delay_secs: 10"},
      {At::kRetry, "max_delay_secs: 1d", "write max_delay_secs: 86400"},
      {At::kTask, "output_cap_bytes: 1MB",
       "'output_cap_bytes' must be an integer (bytes), not '1MB': write output_cap_bytes: "
       "1048576"},
      // Anything else: the value written and an example.
      {At::kTask, "timeout_secs: soon",
       "'timeout_secs' must be a number (seconds), not 'soon' (e.g. timeout_secs: 10)"},
      {At::kTask, "timeout_secs: [1]", "'timeout_secs' must be a number, not a list"},
      {At::kTask, "priority: high", "'priority' must be an integer, not 'high' (e.g. priority: 1)"},
      {At::kTask, "priority: 2.5", "'priority' must be an integer, not '2.5'"},
      {At::kRetry, "exit_codes: 1", "'exit_codes' must be a list of integers"},
      {At::kRetry, "jitter: lots", "'jitter' must be a number, not 'lots'"},
      {At::kJob, "enabled: yes", "'enabled' must be true or false, not 'yes'"},
      {At::kJob, "max_active_runs: two", "'max_active_runs' must be an integer, not 'two'"},
      {At::kJob, "overlap: Skip", "unknown overlap policy 'Skip' (expected"},
      {At::kJob, "overlap: Skip", "did you mean 'skip'?"},
      {At::kJob, "catch_up: everything", "unknown catch-up policy 'everything'"},
  };
  for (const Mistake& row : rows) ExpectOneProblem(row);
}

TEST(KeyHintsTest, TasksWrittenAsAMappingSayHowAListIsWritten) {
  LoadedJobs loaded = LoadJobFromString(R"(id: j
tasks:
  extract:
    type: command
    command: x
)",
                                        "j.yaml", kAnyType);
  EXPECT_EQ(Where(Find(loaded,
                       "'tasks' must be a non-empty list of tasks, not a mapping: write "
                       "each task as an item, `- id: extract` followed by its keys")),
            "j.yaml:3:3 tasks");
}

TEST(KeyHintsTest, ARetryWrittenAsACountSaysHowToWriteIt) {
  LoadedJobs loaded = LoadJobFromString(R"(id: j
tasks:
  - {id: t, type: command, command: x, retry: 3}
)",
                                        "j.yaml", kAnyType);
  EXPECT_EQ(Where(Find(loaded, "'retry' must be a mapping")), "j.yaml:3:47 tasks.t.retry");
  EXPECT_THAT(Joined(loaded.errors), HasSubstr("not '3' (e.g. retry: {max_attempts: 3, "
                                               "delay_secs: 10})"));
}

TEST(KeyHintsTest, UnknownTasksInDependenciesAndTemplatesAreGuessedOrListed) {
  LoadedJobs loaded = LoadJobFromString(R"(id: j
tasks:
  - {id: load-data, type: command, command: x}
  - {id: report, type: command, command: x, depends_on: [Load_Data, nothing]}
  - id: publish
    type: noop
    depends_on: [report]
    params:
      title: fixed
      url: "${{ tasks.reprot.outputs.url }}"
)",
                                        "j.yaml", kAnyType);
  // Case and separators differ: a guess ClosestMatch would not make.
  EXPECT_EQ(Where(Find(loaded, "unknown task 'Load_Data' (did you mean 'load-data'?)")),
            "j.yaml:4:58 tasks.report.depends_on");
  // Nothing close: the few tasks there are.
  EXPECT_THAT(Joined(loaded.errors),
              HasSubstr("depends on unknown task 'nothing' (the job's tasks are load-data, "
                        "publish, report)"));
  // The template's own line and key, not the task's.
  EXPECT_EQ(Where(Find(loaded, "reads outputs of unknown task 'reprot' (did you mean 'report'?)")),
            "j.yaml:10:12 tasks.publish.params.url");
}

TEST(KeyHintsTest, AnUnknownTaskTypeListsTheKnownOnesAndHowToLoadMore) {
  JobLoaderOptions options;
  options.known_types = {"sleep", "command", "noop", "http"};
  LoadedJobs loaded = LoadJobFromString(R"(id: j
tasks:
  - {id: a, type: Sleep}
  - {id: b, type: spark_submit}
)",
                                        "j.yaml", options);
  EXPECT_THAT(Joined(loaded.errors),
              HasSubstr("j.yaml:3:19: unknown task type 'Sleep' (did you mean 'sleep'?)"));
  EXPECT_THAT(Joined(loaded.errors),
              HasSubstr("j.yaml:4:19: unknown task type 'spark_submit'; the known types are "
                        "command, http, noop, sleep; a plugin's types are known once it is "
                        "loaded (--plugin-dir DIR, or plugin_dirs in petit.yaml)"));
}

TEST(KeyHintsTest, UnitOfKeyReadsSuffixesAndKnownDurations) {
  EXPECT_EQ(UnitOfKey("timeout_secs"), "seconds");
  EXPECT_EQ(UnitOfKey("tasks.t.retry.delay_secs"), "seconds");
  EXPECT_EQ(UnitOfKey("shutdown_grace"), "seconds");
  EXPECT_EQ(UnitOfKey("cancel_grace_ms"), "milliseconds");
  EXPECT_EQ(UnitOfKey("priority"), "");
  EXPECT_EQ(NumberHint("memory_limit_mb", "2GB", true, "1"),
            " (megabytes), not '2GB': write memory_limit_mb: 2048");
  EXPECT_EQ(NumberHint("memory_limit_mb", "1.5KB", true, "1"),
            " (megabytes), not '1.5KB' (e.g. memory_limit_mb: 1)");
  EXPECT_EQ(NumberHint("priority", "5s", true, "1"), ", not '5s' (e.g. priority: 1)");
  EXPECT_EQ(UnknownKeyHint("zzzz", KeysOf(KeyLevel::kTask), KeyLevel::kTask), "");
  EXPECT_EQ(UnknownKeyHint(std::string(300, 'a'), KeysOf(KeyLevel::kTask), KeyLevel::kTask), "");
}

}  // namespace
}  // namespace petit::host
