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
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/legacy_task_forms.h"
#include "config/load_context.h"
#include "config/yaml_support.h"
#include "petit/core/task_spec.h"

namespace petit::host::internal {

// A task as written, with the nodes the checks across the tasks of its job point at.
struct ParsedTask {
  TaskSpec spec;
  YAML::Node node;
  std::string key;                           // "tasks.<id>"
  std::vector<YAML::Node> dependency_nodes;  // parallel to spec.depends_on
};

class TaskParser {
 public:
  TaskParser(YamlErrors& errors, YamlErrors& warnings, const LoadContext& context)
      : errors_(errors), warnings_(warnings), context_(context) {}

  // Parses `node`, item `index` of a job's `tasks`; its problems go to the errors. Nullopt when it
  // has no id or no type, so that nothing about it can be checked further.
  std::optional<ParsedTask> Parse(const YAML::Node& node, size_t index);

  // The task type of each warning added so far, in order: a schema this host cannot read is
  // reported once per type.
  const std::vector<std::string>& warning_types() const { return warning_types_; }

 private:
  bool CheckType(const YAML::Node& at, const std::string& type);
  void CheckParams(const PluginTask& plugin, const YAML::Node& task, const std::string& who);
  std::string ParamsObject(const PluginTask& plugin);
  void ParseDependsOn(const YAML::Node& deps, ParsedTask& task);
  void ParseResources(const YAML::Node& node, TaskSpec& spec);
  void ParseRetry(const YAML::Node& node, TaskSpec& spec, const std::string& who);

  YamlErrors& errors_;
  YamlErrors& warnings_;
  const LoadContext& context_;
  std::vector<std::string> warning_types_;
  NodeArena arena_;  // the params of the original's task forms, one pool per file
};

}  // namespace petit::host::internal

#endif  // PETIT_HOST_CONFIG_TASK_PARSER_H_
