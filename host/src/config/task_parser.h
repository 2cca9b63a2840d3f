// Parsing one task of a job file: the keys every task has (id, name, type, depends_on, condition,
// retry, timeout_secs, priority, resources, output_cap_bytes) and its parameters, under `params`
// for a plugin task type or in one of the original's forms (legacy_task_forms.h). Parameters are
// checked against the JSON Schema their plugin declares (params_schema.h). `environment` is for
// tasks that run a process; on an in-process plugin type it is an error rather than silently
// unused. Checks that need the other tasks of the job are job_parser.h's.
//
// Ownership: a TaskParser borrows its error lists and context for its lifetime. Threads: one
// TaskParser belongs to the parse of one file; the LoadContext it reads may be shared.
#ifndef PETIT_HOST_CONFIG_TASK_PARSER_H_
#define PETIT_HOST_CONFIG_TASK_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/legacy_task_forms.h"
#include "config/load_context.h"
#include "config/yaml_support.h"
#include "config/yaml_tree.h"
#include "petit/core/task_spec.h"

namespace petit::host::internal {

// Where a task is written: the nodes the checks across the tasks of its job point at.
struct TaskPlace {
  YamlNode node;
  std::string key;        // "tasks.<id>"
  YamlNode dependencies;  // `depends_on` as written: one id, or a list
  // The item of `dependencies` each entry of the spec's depends_on is, when an item that is not an
  // id was left out; empty when entry i is item i.
  std::vector<uint32_t> dependency_items;

  // Where depends_on[i] of the task's spec is written.
  YamlNode DependencyNode(size_t i) const {
    if (dependencies.IsScalar()) return dependencies;
    return dependencies[dependency_items.empty() ? i : dependency_items[i]];
  }
};

// A task as written.
struct ParsedTask {
  TaskSpec spec;
  TaskPlace place;
};

class TaskParser {
 public:
  TaskParser(YamlErrors& errors, YamlErrors& warnings, const LoadContext& context)
      : errors_(errors), warnings_(warnings), context_(context) {}

  // Parses `node`, item `index` of a job's `tasks`; its problems go to the errors. Nullopt when it
  // has no id or no type, so that nothing about it can be checked further.
  std::optional<ParsedTask> Parse(const YamlNode& node, size_t index);

  // The task type of each warning added so far, in order: a schema this host cannot read is
  // reported once per type.
  const std::vector<std::string>& warning_types() const { return warning_types_; }

 private:
  bool CheckType(const YamlNode& at, const std::string& type);
  void CheckParams(const PluginTask& plugin, const YamlNode& task, const std::string& who);
  std::string ParamsObject(const PluginTask& plugin);
  void ParseDependsOn(const YamlNode& deps, ParsedTask& task);
  void ParseResources(const YamlNode& node, TaskSpec& spec);
  void ParseRetry(const YamlNode& node, TaskSpec& spec, const std::string& who);

  YamlErrors& errors_;
  YamlErrors& warnings_;
  const LoadContext& context_;
  std::vector<std::string> warning_types_;
};

}  // namespace petit::host::internal

#endif  // PETIT_HOST_CONFIG_TASK_PARSER_H_
