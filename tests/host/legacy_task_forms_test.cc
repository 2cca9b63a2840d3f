// The original Petit's command, python and custom task forms (config/legacy_task_forms.h): the
// plugin type and params each becomes.
#include "config/legacy_task_forms.h"

#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include "config/yaml_document.h"
#include "config/yaml_support.h"
#include "job_loader_test_support.h"

namespace petit::host {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

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

// One task translated on its own: the plugin task and the problems of its form.
struct Translated {
  std::shared_ptr<YamlTree> tree;  // holds the task and the params made for it
  internal::PluginTask plugin;
  YamlErrors errors{"t.yaml"};
  // The params as the plugin receives them.
  std::string Json() const { return YamlToJson(plugin.params, plugin.typing); }
};

internal::YamlDocument Load(const std::string& text) {
  internal::YamlDocument document = internal::ParseYamlDocument(text, "t.yaml");
  EXPECT_TRUE(document.errors.empty() && document.problems.empty()) << text;
  return document;
}

Translated Translate(const internal::YamlDocument& document) {
  const YamlNode task = document.root;
  Translated out;
  out.tree = document.tree;
  std::optional<internal::LegacyForm> form = internal::LegacyFormOf(task["type"].Scalar());
  EXPECT_TRUE(form.has_value());
  out.plugin = internal::TranslateLegacyTask(form.value_or(internal::LegacyForm::kCommand),
                                             MapFields(task), task, "task 't'", out.errors);
  return out;
}

TEST(LegacyTaskFormsTest, OnlyTheOriginalsFormsAreLegacy) {
  EXPECT_EQ(internal::LegacyFormOf("command"), internal::LegacyForm::kCommand);
  EXPECT_EQ(internal::LegacyFormOf("python"), internal::LegacyForm::kPython);
  EXPECT_EQ(internal::LegacyFormOf("custom"), internal::LegacyForm::kCustom);
  EXPECT_EQ(internal::LegacyFormOf("sleep"), std::nullopt);
  EXPECT_TRUE(internal::RunsAProcess(internal::LegacyForm::kPython));
  EXPECT_FALSE(internal::RunsAProcess(internal::LegacyForm::kCustom));
}

TEST(LegacyTaskFormsTest, ACommandWithArgsBecomesTheCommandPluginsParamsAsText) {
  Translated t = Translate(Load(R"(
id: t
type: command
command: ./load.sh
args: [--rows, 5, true, "x y"]
working_dir: /tmp
environment: {LIMIT: 10, DEBUG: true, NAME: "n"}
timeout_secs: 30
)"));
  EXPECT_TRUE(t.errors.empty()) << t.errors.Joined();
  EXPECT_EQ(t.plugin.type, "command");
  EXPECT_TRUE(t.plugin.complete);
  EXPECT_EQ(t.plugin.key, "") << "the params are keys of the task itself";
  EXPECT_EQ(t.plugin.typing, ScalarTyping::kText);
  EXPECT_EQ(t.Json(),
            R"({"command":"./load.sh","args":["--rows","5","true","x y"],"working_dir":"/tmp",)"
            R"("environment":{"LIMIT":"10","DEBUG":"true","NAME":"n"}})")
      << "timeout_secs is the task's own attempt timeout, not a parameter";
}

TEST(LegacyTaskFormsTest, AShellScriptBecomesTheShellParam) {
  Translated t = Translate(Load(R"(
id: t
type: command
shell: "ls | wc -l"
environment: {A: b}
)"));
  EXPECT_TRUE(t.errors.empty()) << t.errors.Joined();
  EXPECT_EQ(t.plugin.type, "command");
  EXPECT_EQ(t.Json(), R"({"shell":"ls | wc -l","environment":{"A":"b"}})");
}

TEST(LegacyTaskFormsTest, WhatTheCommandPluginRefusesIsPassedOnForItsSchemaToReport) {
  Translated t = Translate(Load("{id: t, type: command, command: a, shell: b, args: [x]}"));
  EXPECT_TRUE(t.errors.empty()) << "'command' with 'shell', or 'shell' with 'args', is the "
                                   "plugin's rule, declared in its schema: "
                                << t.errors.Joined();
  EXPECT_EQ(t.Json(), R"({"command":"a","shell":"b","args":["x"]})");
}

TEST(LegacyTaskFormsTest, ACommandTaskWithNothingToRunIsIncomplete) {
  Translated t = Translate(Load("{id: t, type: command, args: [x]}"));
  ASSERT_EQ(t.errors.size(), 1u);
  EXPECT_EQ(t.errors.diagnostics()[0].ToString(),
            "t.yaml:1:1: task 't' of type command needs 'command' (or 'shell')");
  EXPECT_EQ(t.errors.diagnostics()[0].key, "command");
  EXPECT_FALSE(t.plugin.complete) << "so the schema does not report it a second time";
}

TEST(LegacyTaskFormsTest, APythonScriptRunsWithPython3) {
  Translated file = Translate(Load(R"(
id: t
type: python
script: scripts/report.py
working_dir: /srv
environment: {MODE: 2}
)"));
  EXPECT_TRUE(file.errors.empty()) << file.errors.Joined();
  EXPECT_EQ(file.plugin.type, "command");
  EXPECT_EQ(file.plugin.typing, ScalarTyping::kText);
  EXPECT_EQ(file.Json(),
            R"({"command":"python3","args":["scripts/report.py"],"working_dir":"/srv",)"
            R"("environment":{"MODE":"2"}})");

  Translated code = Translate(Load(R"(
id: t
type: python
script: print(1)
inline: true
)"));
  EXPECT_TRUE(code.errors.empty()) << code.errors.Joined();
  EXPECT_EQ(code.Json(), R"json({"command":"python3","args":["-c","print(1)"]})json");
}

TEST(LegacyTaskFormsTest, APythonTaskNeedsItsScript) {
  Translated missing = Translate(Load("{id: t, type: python, inline: maybe}"));
  EXPECT_THAT(missing.errors.Joined(), HasSubstr("task 't' is missing required key 'script'"));
  EXPECT_THAT(missing.errors.Joined(), HasSubstr("t.yaml:1:31: 'inline' must be true or false"));
  EXPECT_FALSE(missing.plugin.complete);

  Translated listed = Translate(Load("{id: t, type: python, script: [a]}"));
  ASSERT_EQ(listed.errors.size(), 1u);
  EXPECT_EQ(listed.errors.diagnostics()[0].ToString(),
            "t.yaml:1:31: 'script' must be a string, not a list");
  EXPECT_EQ(listed.errors.diagnostics()[0].key, "script") << "the key the user wrote, not args";
}

TEST(LegacyTaskFormsTest, ACustomTaskIsItsHandlersTypeWithItsConfigAsTypedParams) {
  const internal::YamlDocument document =
      Load("{id: t, type: custom, handler: sleep, config: {ms: 5}}");
  const YamlNode task = document.root;
  Translated t = Translate(document);
  EXPECT_TRUE(t.errors.empty()) << t.errors.Joined();
  EXPECT_EQ(t.plugin.type, "sleep");
  EXPECT_EQ(t.plugin.key, "config");
  EXPECT_EQ(t.plugin.typing, ScalarTyping::kTyped);
  EXPECT_EQ(t.Json(), R"({"ms":5})");
  EXPECT_EQ(t.plugin.type_node.Mark().column, task["handler"].Mark().column)
      << "an unknown type is reported at the handler";

  Translated none = Translate(Load("{id: t, type: custom}"));
  EXPECT_THAT(none.errors.Joined(), HasSubstr("task 't' is missing required key 'handler'"));
  EXPECT_EQ(none.plugin.type, "");
  EXPECT_FALSE(none.plugin.complete);
}

TEST(LegacyTaskFormsTest, TheParamsAreTheDocumentsNodesAndTheDocumentIsUnchanged) {
  const internal::YamlDocument document =
      Load("{id: t, type: command, command: x, args: [--n, 5]}");
  const YamlNode task = document.root;
  Translated t = Translate(document);
  EXPECT_EQ(t.plugin.params["args"].Mark().column, task["args"].Mark().column)
      << "a problem in the params points at what the user wrote";
  EXPECT_EQ(t.plugin.params["args"][1].Mark().column, task["args"][1].Mark().column);
  EXPECT_EQ(YamlToJson(task["args"]), R"(["--n",5])") << "text typing is a way of reading only";
}

}  // namespace
}  // namespace petit::host
