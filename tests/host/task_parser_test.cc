// The keys of one task (config/task_parser.h): strict keys, task types, resources, and parameters
// checked against the JSON Schema their plugin declares, the command plugin's own included.
#include "config/task_parser.h"

#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "petit/core/resources.h"

#include "command_spec.h"
#include "job_loader_test_support.h"

namespace petit::host {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

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

// `custom` is a form of the original's, not a plugin type: a handler naming it is not a typo of it.
TEST(JobLoaderTest, AHandlerNamingNoPluginTypeIsNeverToldToMeanItself) {
  JobLoaderOptions options;
  options.known_types = {"command", "noop", "sleep"};
  LoadedJobs loaded = LoadJobFromString(R"(id: c
tasks:
  - id: t
    type: custom
    handler: custom
)",
                                        "c.yaml", options);
  const std::string errors = Joined(loaded.errors);
  EXPECT_THAT(errors, HasSubstr("c.yaml:5:14: unknown task type 'custom'; the known types are "
                                "command, noop, sleep"));
  EXPECT_THAT(errors, Not(HasSubstr("did you mean 'custom'")));
}

// Resources this host could never grant are reported at the entry that asks for them, one problem
// each, in the loader's file:line:column form.
TEST(JobLoaderTest, ResourcesTheHostCannotGrantAreReportedWhereTheyAreWritten) {
  ResourceCapacity capacity;
  capacity.pools = {{"gpu", 2}};
  Result<std::unique_ptr<ResourceManager>> manager = ResourceManager::Create(capacity);
  ASSERT_TRUE(manager.ok()) << manager.status().ToString();
  JobLoaderOptions options;
  options.check_resources = [&manager](const ResourceRequirements& requirements) {
    return (*manager)->Check(requirements);
  };
  LoadedJobs loaded = LoadJobFromString(R"(id: r
tasks:
  - id: train
    type: command
    command: x
    resources: {gpu: 3, cpu: 1,
                nopool: 1}
  - {id: fits, type: command, command: x, resources: {gpu: 2}}
)",
                                        "r.yaml", options);
  EXPECT_THAT(loaded.jobs, IsEmpty());
  EXPECT_EQ(Where(Find(loaded,
                       "task 'train': needs 3 slots of resource pool 'gpu', which has 2; "
                       "pools and slots come from petit.yaml")),
            "r.yaml:6:17 tasks.train.resources.gpu");
  EXPECT_EQ(Where(Find(loaded, "unknown resource pool 'cpu' (did you mean 'gpu'?)")),
            "r.yaml:6:25 tasks.train.resources.cpu");
  EXPECT_EQ(Where(Find(loaded, "unknown resource pool 'nopool' (pools: gpu)")),
            "r.yaml:7:17 tasks.train.resources.nopool");
  EXPECT_EQ(loaded.errors.size(), 3u) << Joined(loaded.errors);
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

TEST(JobLoaderTest, RetryDelaysOutOfRangeNameTheirKeyAndLineNotAnOverflowedValue) {
  for (const char* value : {"1e300", "-1", "604801", "-1e300"}) {
    for (const char* key : {"delay_secs", "max_delay_secs"}) {
      const std::string yaml = std::string("id: j\ntasks:\n  - id: t\n    type: command\n") +
                               "    command: x\n    retry:\n      max_attempts: 2\n      " + key +
                               ": " + value + "\n";
      LoadedJobs loaded = LoadJobFromString(yaml, "r.yaml", kAnyType);
      ASSERT_EQ(loaded.errors.size(), 1u) << key << ": " << value;
      const Diagnostic& error = loaded.errors.front();
      EXPECT_EQ(error.line, 8u) << key << ": " << value;
      EXPECT_EQ(error.key, std::string("tasks.t.retry.") + key);
      EXPECT_THAT(error.message, HasSubstr(std::string("'") + key + "' must be between 0 and "));
    }
  }
}

TEST(JobLoaderTest, RetryJitterAndMultiplierAreCheckedAtTheirKeyWithAnExampleTheyAccept) {
  const struct {
    const char* line;
    const char* key;
    const char* expected;
  } rows[] = {
      {"jitter: 50", "jitter", "'jitter' must be between 0 and 1"},
      {"jitter: -0.1", "jitter", "'jitter' must be between 0 and 1"},
      {"jitter: true", "jitter", "(e.g. jitter: 0.5)"},
      {"backoff_multiplier: 0.5", "backoff_multiplier", "must be between 1 and 1000"},
      {"backoff_multiplier: 1e308", "backoff_multiplier", "must be between 1 and 1000"},
      {"backoff_multiplier: fast", "backoff_multiplier", "(e.g. backoff_multiplier: 2)"},
  };
  for (const auto& row : rows) {
    const std::string yaml = std::string("id: j\ntasks:\n  - id: t\n    type: command\n") +
                             "    command: x\n    retry:\n      max_attempts: 2\n      " +
                             row.line + "\n";
    LoadedJobs loaded = LoadJobFromString(yaml, "r.yaml", kAnyType);
    ASSERT_EQ(loaded.errors.size(), 1u) << row.line;
    const Diagnostic& error = loaded.errors.front();
    EXPECT_EQ(error.line, 8u) << row.line;
    EXPECT_EQ(error.key, std::string("tasks.t.retry.") + row.key) << row.line;
    EXPECT_THAT(error.message, HasSubstr(row.expected)) << row.line;
  }
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

// The host as `petit validate` has it with the command plugin loaded: the plugin's own schema.
JobLoaderOptions CommandPluginOptions() {
  JobLoaderOptions options;
  options.known_types = {"command", "sleep"};
  options.params_schemas.emplace("command", command::kCommandParamsSchema);
  return options;
}

TEST(TaskParserTest, TheCommandPluginsSchemaChecksTheOriginalsCommandForm) {
  LoadedJobs loaded = LoadJobFromString(R"yaml(id: forms
tasks:
  - {id: both, type: command, command: a, shell: b}
  - {id: mixed, type: command, shell: b, args: [x]}
  - {id: empty, type: command, command: ""}
  - {id: nested, type: command, command: a, args: [[x]]}
  - id: env
    type: command
    command: a
    environment: {"A=B": x, OK: [1]}
  - {id: dir, type: python, script: x.py, working_dir: ""}
)yaml",
                                        "forms.yaml", CommandPluginOptions());
  EXPECT_THAT(loaded.jobs, IsEmpty());
  EXPECT_EQ(Where(Find(loaded,
                       "task 'both' (type command): parameters must include exactly one "
                       "of 'command' or 'shell'")),
            "forms.yaml:3:5 tasks.both");
  EXPECT_EQ(Where(Find(loaded,
                       "task 'mixed' (type command): parameters must not include 'shell' "
                       "and 'args' together")),
            "forms.yaml:4:5 tasks.mixed");
  EXPECT_EQ(Where(Find(loaded,
                       "task 'empty' (type command): parameter 'command' must not be "
                       "empty")),
            "forms.yaml:5:41 tasks.empty.command");
  EXPECT_EQ(Where(Find(loaded, "parameter 'args[0]' must be a string, not a list")),
            "forms.yaml:6:52 tasks.nested.args[0]");
  Diagnostic name = Find(loaded, "has an invalid name 'A=B'");
  EXPECT_EQ(Where(name), "forms.yaml:10:19 tasks.env.environment.A=B");
  EXPECT_EQ(name.message,
            "task 'env' (type command): parameter 'environment' has an invalid name 'A=B' (names "
            "are not empty and have no '=' nor NUL)");
  EXPECT_EQ(Where(Find(loaded,
                       "parameter 'environment.OK' must be a string, a number or a "
                       "boolean, not a list")),
            "forms.yaml:10:33 tasks.env.environment.OK");
  EXPECT_EQ(Where(Find(loaded,
                       "task 'dir' (type command): parameter 'working_dir' must not be "
                       "empty")),
            "forms.yaml:11:56 tasks.dir.working_dir");
  EXPECT_EQ(loaded.errors.size(), 7u) << Joined(loaded.errors);
}

// What the plugin refuses when a task is created, `petit validate` refuses first, at the value.
TEST(TaskParserTest, ANulByteInACommandsTextIsRefusedAtLoadNotWhenTheTaskRuns) {
  LoadedJobs loaded = LoadJobFromString(R"yaml(id: nul
tasks:
  - {id: program, type: command, command: "echo\0rm"}
  - {id: argument, type: command, command: echo, args: ["a\0b"]}
  - {id: script, type: command, shell: "echo\0"}
  - {id: name, type: command, command: echo, environment: {"C\0D": z}}
  - {id: value, type: command, command: echo, environment: {C: "z\0"}}
  - {id: dir, type: command, command: echo, working_dir: "/tmp\0"}
)yaml",
                                        "nul.yaml", CommandPluginOptions());
  EXPECT_THAT(loaded.jobs, IsEmpty());
  EXPECT_EQ(Where(Find(loaded, "task 'program' (type command): parameter 'command' must match")),
            "nul.yaml:3:43 tasks.program.command");
  EXPECT_EQ(Where(Find(loaded, "parameter 'args[0]' must match")),
            "nul.yaml:4:57 tasks.argument.args[0]");
  EXPECT_EQ(Where(Find(loaded, "parameter 'shell' must match")),
            "nul.yaml:5:40 tasks.script.shell");
  EXPECT_THAT(Find(loaded, "task 'name' (type command)").message,
              HasSubstr("(names are not empty and have no '=' nor NUL)"));
  EXPECT_EQ(Where(Find(loaded, "parameter 'environment.C' must match")),
            "nul.yaml:7:64 tasks.value.environment.C");
  EXPECT_EQ(Where(Find(loaded, "parameter 'working_dir' must match")),
            "nul.yaml:8:58 tasks.dir.working_dir");
  EXPECT_EQ(loaded.errors.size(), 6u) << Joined(loaded.errors);
}

TEST(TaskParserTest, TheOriginalsCommandFormIsTextWhateverItsValuesLookLike) {
  LoadedJobs loaded = LoadJobFromString(R"yaml(id: text
tasks:
  - id: t
    type: command
    command: 7zip
    args: [-n, 5, true, ~x]
    environment: {N: 5, B: false}
)yaml",
                                        "text.yaml", CommandPluginOptions());
  EXPECT_EQ(TaskOf(OnlyJob(loaded), "t").params_json,
            R"({"command":"7zip","args":["-n","5","true","~x"],)"
            R"("environment":{"N":"5","B":"false"}})");
}

TEST(TaskParserTest, ACommandTaskWithNothingToRunIsReportedOnceWithTheSchemaToo) {
  LoadedJobs loaded = LoadJobFromString("id: none\ntasks: [{id: t, type: command, args: [x]}]\n",
                                        "none.yaml", CommandPluginOptions());
  ASSERT_EQ(loaded.errors.size(), 1u) << Joined(loaded.errors);
  EXPECT_EQ(loaded.errors[0].ToString(),
            "none.yaml:2:9: task 't' of type command needs 'command' (or 'shell')");
}

}  // namespace
}  // namespace petit::host
