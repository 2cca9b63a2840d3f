// The original Petit's task forms that name no plugin type, translated into a plugin task type and
// its params: the same data a user would write under `params:` for that type.
//
//   type: command  command or shell, args, working_dir, environment
//                  -> type command, params {command | shell, args, working_dir, environment}
//   type: python   script, inline, working_dir, environment
//                  -> type command, params {command: python3, args: [-c,] script, working_dir,
//                     environment}
//   type: custom   handler, config  -> type <handler>, params config
//
// A translation checks only what its form needs to mean anything: something to run, a script, a
// handler. Whatever else is wrong with the params is the plugin's rule, found by the JSON Schema
// the plugin declares (params_schema.h) exactly as for `params:`. The values of the command and
// python forms are text, as the original's were (`args: [-n, 5]` passes "5"), so their params are
// read with ScalarTyping::kText; custom `config` is typed like `params`.
//
// Ownership: the params share the document's nodes, so a problem found in them points at what the
// user wrote; the nodes made for them are added to the document's tree, which is otherwise not
// modified. Threads: reentrant.
#ifndef PETIT_HOST_CONFIG_LEGACY_TASK_FORMS_H_
#define PETIT_HOST_CONFIG_LEGACY_TASK_FORMS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/yaml_support.h"
#include "config/yaml_tree.h"

namespace petit::host::internal {

enum class LegacyForm : uint8_t { kCommand, kPython, kCustom };

// The form `type` names; nullopt for a plugin task type.
std::optional<LegacyForm> LegacyFormOf(std::string_view type);

// The task keys of `form`, beside the keys every task has.
const std::vector<std::string_view>& LegacyFormKeys(LegacyForm form);

// True for the forms that run a process, and so take `environment`.
bool RunsAProcess(LegacyForm form);

// A task as its plugin sees it: a task type and params.
struct PluginTask {
  std::string type;    // empty when a custom task names no handler
  YamlNode type_node;  // where the type is written: `type`, or `handler` of a custom task
  // A mapping, or undefined or null for no params; anything else is the task parser's to report.
  YamlNode params;
  // The key of `params` below the task's in messages: "params", "config", or "" when the params
  // are keys of the task itself (the command and python forms).
  std::string key;
  ScalarTyping typing = ScalarTyping::kTyped;
  // False when the form lacks what names the work (that is reported). The params are then not
  // checked against the plugin's schema, which would report the same problem again.
  bool complete = true;
};

// Translates the task `task` (whose keys are `fields`) written in `form`, making its params in
// the task's tree. The problems of the form itself go to `errors`, under its current scope; `who`
// names the task in them ("task 'extract'").
PluginTask TranslateLegacyTask(LegacyForm form, const MapFields& fields, const YamlNode& task,
                               const std::string& who, YamlErrors& errors);

}  // namespace petit::host::internal

#endif  // PETIT_HOST_CONFIG_LEGACY_TASK_FORMS_H_
