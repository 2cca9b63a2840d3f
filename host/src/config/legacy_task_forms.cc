#include "config/legacy_task_forms.h"

namespace petit::host::internal {
namespace {

// The plugin that runs the process of the command and python forms.
constexpr char kCommandType[] = "command";
constexpr char kPythonProgram[] = "python3";

const std::vector<std::string_view> kCommandKeys = {"command", "args", "working_dir", "environment",
                                                    "shell"};
const std::vector<std::string_view> kPythonKeys = {"script", "inline", "working_dir",
                                                   "environment"};
const std::vector<std::string_view> kCustomKeys = {"handler", "config"};

// Copies `key` of the task into `params` when the task has it: the very node, so that its
// position and its text stay what the user wrote.
void CopyIfPresent(const MapFields& fields, std::string_view key, YamlNode& params) {
  if (const YamlNode value = fields[key]) params.force_insert(std::string(key), value);
}

PluginTask TranslateCommand(const MapFields& fields, const YamlNode& task, const std::string& who,
                            YamlErrors& errors) {
  PluginTask plugin{kCommandType, fields["type"], task.tree()->NewMap(), "", ScalarTyping::kText};
  if (!fields.Has("command") && !fields.Has("shell")) {
    errors.AddAt(task, "command", who + " of type command needs 'command' (or 'shell')");
    plugin.complete = false;
  }
  for (std::string_view key : {"command", "shell", "args", "working_dir", "environment"}) {
    CopyIfPresent(fields, key, plugin.params);
  }
  return plugin;
}

PluginTask TranslatePython(const MapFields& fields, const YamlNode& task, const std::string& who,
                           YamlErrors& errors) {
  PluginTask plugin{kCommandType, fields["type"], task.tree()->NewMap(), "", ScalarTyping::kText};
  bool inline_code = false;
  if (const YamlNode flag = fields["inline"]) {
    inline_code = ReadBool(flag, "inline", errors).value_or(false);
  }
  YamlNode args = task.tree()->NewSequence();
  if (inline_code) args.push_back("-c");
  // The script is the form's own key, so it is checked here: in `args` a problem with it would
  // name a key the task does not have.
  if (ReadRequiredString(fields, task, "script", who, errors)) {
    args.push_back(fields["script"]);
  } else {
    plugin.complete = false;
  }
  plugin.params.force_insert("command", kPythonProgram);
  plugin.params.force_insert("args", args);
  CopyIfPresent(fields, "working_dir", plugin.params);
  CopyIfPresent(fields, "environment", plugin.params);
  return plugin;
}

PluginTask TranslateCustom(const MapFields& fields, const YamlNode& task, const std::string& who,
                           YamlErrors& errors) {
  PluginTask plugin{"", fields["handler"], fields["config"], "config", ScalarTyping::kTyped};
  if (std::optional<std::string> handler =
          ReadRequiredString(fields, task, "handler", who, errors)) {
    plugin.type = *handler;
  } else {
    plugin.complete = false;
  }
  return plugin;
}

}  // namespace

std::optional<LegacyForm> LegacyFormOf(std::string_view type) {
  if (type == "command") return LegacyForm::kCommand;
  if (type == "python") return LegacyForm::kPython;
  if (type == "custom") return LegacyForm::kCustom;
  return std::nullopt;
}

const std::vector<std::string_view>& LegacyFormKeys(LegacyForm form) {
  switch (form) {
    case LegacyForm::kCommand:
      return kCommandKeys;
    case LegacyForm::kPython:
      return kPythonKeys;
    case LegacyForm::kCustom:
      return kCustomKeys;
  }
  return kCustomKeys;
}

bool RunsAProcess(LegacyForm form) { return form != LegacyForm::kCustom; }

PluginTask TranslateLegacyTask(LegacyForm form, const MapFields& fields, const YamlNode& task,
                               const std::string& who, YamlErrors& errors) {
  switch (form) {
    case LegacyForm::kCommand:
      return TranslateCommand(fields, task, who, errors);
    case LegacyForm::kPython:
      return TranslatePython(fields, task, who, errors);
    case LegacyForm::kCustom:
      return TranslateCustom(fields, task, who, errors);
  }
  return PluginTask{};
}

}  // namespace petit::host::internal
