#include "config/task_parser.h"

#include <cstdint>

#include <algorithm>
#include <initializer_list>

#include "petit/core/resources.h"

namespace petit::host::internal {
namespace {

constexpr int64_t kMaxRetries = 1000;
constexpr int64_t kMaxDelaySecs = 7 * 24 * 3600;
constexpr int64_t kMaxTimeoutSecs = 30LL * 24 * 3600;
constexpr int64_t kMaxPriority = 1000000;
constexpr int64_t kMaxResourceAmount = int64_t{1} << 40;

const std::vector<std::string_view>& kCommonTaskKeys = KeysOf(KeyLevel::kTask);

std::vector<std::string_view> Concat(std::initializer_list<std::vector<std::string_view>> parts) {
  std::vector<std::string_view> all;
  for (const auto& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

// The keys each kind of task accepts. In-process types list `environment` too, so that using it
// gets a precise error instead of "unknown key".
const std::vector<std::string_view>& TaskKeys(std::optional<LegacyForm> form) {
  static const std::vector<std::string_view> kCommand =
      Concat({kCommonTaskKeys, LegacyFormKeys(LegacyForm::kCommand)});
  static const std::vector<std::string_view> kPython =
      Concat({kCommonTaskKeys, LegacyFormKeys(LegacyForm::kPython)});
  static const std::vector<std::string_view> kCustom =
      Concat({kCommonTaskKeys, LegacyFormKeys(LegacyForm::kCustom), {"environment"}});
  static const std::vector<std::string_view> kPlugin =
      Concat({kCommonTaskKeys, {"params", "environment"}});
  if (!form) return kPlugin;
  switch (*form) {
    case LegacyForm::kCommand:
      return kCommand;
    case LegacyForm::kPython:
      return kPython;
    case LegacyForm::kCustom:
      return kCustom;
  }
  return kPlugin;
}

}  // namespace

std::optional<ParsedTask> TaskParser::Parse(const YamlNode& node, size_t index) {
  const std::string position_key = "tasks[" + std::to_string(index) + "]";
  if (!node.IsMap()) {
    errors_.AddAt(node, position_key, "each task must be a mapping with at least 'id' and 'type'");
    return std::nullopt;
  }
  MapFields fields(node);
  std::optional<std::string> id;
  {
    YamlErrors::KeyScope scope(errors_, position_key);
    id = ReadRequiredString(fields, node, "id", "task", errors_);
  }
  if (!id) return std::nullopt;
  ParsedTask task;
  task.place.node = node;
  task.place.key = "tasks." + *id;
  YamlErrors::KeyScope scope(errors_, task.place.key);
  Status valid = ValidateName(*id, "task id");
  if (!valid.ok()) errors_.AddAt(fields["id"], "id", valid.message());
  TaskSpec& spec = task.spec;
  spec.id = TaskId(*id);
  const std::string who = "task '" + *id + "'";
  std::optional<std::string> type = ReadRequiredString(fields, node, "type", who, errors_);
  if (!type) return std::nullopt;

  const std::optional<LegacyForm> form = LegacyFormOf(*type);
  CheckKeys(node, TaskKeys(form), who, errors_, KeyLevel::kTask);
  const PluginTask plugin =
      form ? TranslateLegacyTask(*form, fields, node, who, errors_)
           : PluginTask{*type, fields["type"], fields["params"], "params", ScalarTyping::kTyped};
  spec.type = plugin.type;
  if (!plugin.type.empty() && CheckType(plugin.type_node, plugin.type) && plugin.complete) {
    CheckParams(plugin, node, who);
  }
  spec.params_json = ParamsObject(plugin);
  if (!form || !RunsAProcess(*form)) {
    if (const YamlNode environment = fields["environment"]) {
      errors_.AddAt(environment, "environment",
                    "'environment' sets variables of a process; " + who + " of type " + spec.type +
                        " runs inside the host and has none");
    }
  }

  if (const YamlNode name = fields["name"])
    spec.name = ReadString(name, "name", errors_).value_or("");
  if (spec.name.empty()) spec.name = spec.id.str();
  if (const YamlNode deps = fields["depends_on"]) ParseDependsOn(deps, task);
  if (const YamlNode cond = fields["condition"]) {
    if (auto text = ReadString(cond, "condition", errors_)) {
      Result<TriggerRule> rule = ParseTriggerRule(*text);
      if (rule.ok()) {
        spec.trigger = *rule;
      } else {
        errors_.AddAt(cond, "condition", rule.status().message());
      }
    }
  }
  if (const YamlNode retry = fields["retry"]) ParseRetry(retry, spec, who);
  if (const YamlNode timeout = fields["timeout_secs"]) {
    if (auto secs = ReadNumber(timeout, "timeout_secs", errors_)) {
      // Below a millisecond would round to 0 ms, which means no timeout at all.
      if (*secs < 0.001 || *secs > kMaxTimeoutSecs) {
        errors_.AddAt(timeout, "timeout_secs",
                      "'timeout_secs' must be at least 0.001 (1 ms) and at most " +
                          std::to_string(kMaxTimeoutSecs));
      } else {
        spec.timeout = std::chrono::milliseconds(static_cast<int64_t>(*secs * 1000.0));
      }
    }
  }
  if (const YamlNode resources = fields["resources"]) ParseResources(resources, spec);
  if (const YamlNode priority = fields["priority"]) {
    if (auto p = ReadInt(priority, "priority", -kMaxPriority, kMaxPriority, errors_)) {
      spec.priority = static_cast<int32_t>(*p);
    }
  }
  if (const YamlNode cap = fields["output_cap_bytes"]) {
    if (auto n = ReadInt(cap, "output_cap_bytes", int64_t{kMinOutputCapBytes},
                         int64_t{kMaxOutputCapBytes}, errors_)) {
      spec.output_cap_bytes = static_cast<uint64_t>(*n);
    }
  }
  return task;
}

// False when the type is unknown (and reported); true when it is known or types are unchecked.
bool TaskParser::CheckType(const YamlNode& at, const std::string& type) {
  const auto& known = context_.options().known_types;
  if (known.empty() || std::find(known.begin(), known.end(), type) != known.end()) return true;
  std::vector<std::string_view> candidates(known.begin(), known.end());
  // The original's forms that are no plugin's name; `command` is one when its plugin is loaded.
  // Not as the guess for themselves: `handler: custom` names a plugin type, which custom is not.
  for (std::string_view form : {"python", "custom"}) {
    if (form != type) candidates.push_back(form);
  }
  std::string message = "unknown task type '" + type + "'";
  if (type == "command") {
    message = "task type 'command' needs the command plugin, which is not loaded";
  } else if (auto guess = GuessName(type, candidates)) {
    message += " (did you mean '" + guess->name + "'?)";
  } else {
    // No close one: the types there are, and how to get more.
    std::vector<std::string> sorted(known.begin(), known.end());
    std::sort(sorted.begin(), sorted.end());
    constexpr size_t kListed = 12;
    message += "; the known types are ";
    for (size_t i = 0; i < sorted.size() && i < kListed; ++i) {
      message += (i == 0 ? "" : ", ") + sorted[i];
    }
    if (sorted.size() > kListed) message += ", ...";
    message +=
        "; a plugin's types are known once it is loaded (--plugin-dir DIR, or plugin_dirs in "
        "petit.yaml); `petit plugins` lists them";
  }
  errors_.AddAt(at, "type", message);
  return false;
}

void TaskParser::CheckParams(const PluginTask& plugin, const YamlNode& task,
                             const std::string& who) {
  std::string unreadable;
  const ParamsSchema* schema = context_.SchemaFor(plugin.type, &unreadable);
  if (!unreadable.empty() && std::find(warning_types_.begin(), warning_types_.end(), plugin.type) ==
                                 warning_types_.end()) {
    warnings_.AddAt(plugin.type_node, "type",
                    "the parameter schema of task type '" + plugin.type +
                        "' cannot be checked here (" + unreadable +
                        "); its parameters are checked when a task is created");
    warning_types_.push_back(plugin.type);
  }
  if (schema == nullptr) return;
  const YamlNode& params = plugin.params;
  // A mapping is the plugin's contract and ParamsObject reports anything else.
  if (params && !params.IsNull() && !params.IsMap()) return;
  schema->Check(params, task, plugin.key, who + " (type " + plugin.type + ")", errors_,
                plugin.typing);
}

std::string TaskParser::ParamsObject(const PluginTask& plugin) {
  const YamlNode& node = plugin.params;
  if (!node || node.IsNull()) return "{}";
  if (!node.IsMap()) {
    errors_.AddAt(node, plugin.key, "'" + plugin.key + "' must be a mapping of parameters");
    return "{}";
  }
  return YamlToJson(node, plugin.typing);
}

void TaskParser::ParseDependsOn(const YamlNode& deps, ParsedTask& task) {
  task.place.dependencies = deps;
  if (deps.IsScalar()) {
    task.spec.depends_on.emplace_back(deps.Scalar());
    return;
  }
  if (!deps.IsSequence()) {
    errors_.AddAt(deps, "depends_on", "'depends_on' must be a task id or a list of task ids");
    return;
  }
  task.spec.depends_on.reserve(deps.size());
  bool skipped = false;
  uint32_t item = 0;
  for (const YamlNode& dep : deps) {
    if (!dep.IsScalar()) {
      errors_.AddAt(dep, "depends_on", "items of 'depends_on' must be task ids");
      if (!skipped) {
        skipped = true;
        for (uint32_t i = 0; i < item; ++i) task.place.dependency_items.push_back(i);
      }
    } else {
      task.spec.depends_on.emplace_back(dep.Scalar());
      if (skipped) task.place.dependency_items.push_back(item);
    }
    ++item;
  }
}

// resources: {gpu: 1, db: 2, cpu_slots: 2, memory_mb: 512}; the last two are the host's system
// resources, the rest name pools of petit.yaml.
void TaskParser::ParseResources(const YamlNode& node, TaskSpec& spec) {
  if (!node.IsMap()) {
    errors_.AddAt(node, "resources",
                  "'resources' must map pool names to slot counts, e.g. {gpu: 1}");
    return;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YamlNode name = it->first;
    std::string key = name.IsScalar() ? name.Scalar() : "";
    std::optional<int64_t> amount =
        ReadInt(it->second, "resources." + key, 1, kMaxResourceAmount, errors_);
    if (!amount) continue;
    ResourceRequirements one;  // this entry alone, to check it where it is written
    if (key == kCpuSlotsName) {
      one.cpu_slots = static_cast<uint32_t>(std::min<int64_t>(*amount, UINT32_MAX));
      spec.resources.cpu_slots = one.cpu_slots;
    } else if (key == kMemoryMbName) {
      one.memory_mb = static_cast<uint64_t>(*amount);
      spec.resources.memory_mb = one.memory_mb;
    } else if (Status valid = ValidateName(key, "pool name"); !valid.ok()) {
      errors_.AddAt(name, "resources." + key, valid.message());
      continue;
    } else {
      one.slots[key] = static_cast<uint32_t>(std::min<int64_t>(*amount, UINT32_MAX));
      spec.resources.slots[key] = one.slots[key];
    }
    const auto& check = context_.options().check_resources;
    if (!check) continue;
    if (Status grantable = check(one); !grantable.ok()) {
      errors_.AddAt(name, "resources." + key,
                    "task '" + spec.id.str() + "': " + grantable.message() +
                        "; pools and slots come from petit.yaml");
    }
  }
}

void TaskParser::ParseRetry(const YamlNode& node, TaskSpec& spec, const std::string& who) {
  YamlErrors::KeyScope scope(errors_, "retry");
  if (!node.IsMap()) {
    std::string message = "'retry' must be a mapping (max_attempts, delay_secs, condition)";
    // `retry: 3`, as Airflow's `retries: 3`: say how Petit writes it.
    if (node.IsScalar()) {
      message += ", not '" + node.Scalar().substr(0, 64) + "' (e.g. retry: {max_attempts: " +
                 (JsonKindOf(node) == JsonKind::kInteger ? node.Scalar() : std::string("3")) +
                 ", delay_secs: 10})";
    }
    errors_.AddAt(node, "", message);
    return;
  }
  CheckKeys(node, KeysOf(KeyLevel::kRetry), "retry of " + who, errors_, KeyLevel::kRetry);
  MapFields fields(node);
  RetryPolicy& retry = spec.retry;
  if (const YamlNode n = fields["max_attempts"]) {
    // The original's max_attempts counts retries after the first attempt.
    if (auto v = ReadInt(n, "max_attempts", 0, kMaxRetries, errors_)) {
      retry.max_retries = static_cast<uint32_t>(*v);
    }
  }
  if (const YamlNode n = fields["delay_secs"]) {
    if (auto v = ReadNumber(n, "delay_secs", errors_)) {
      if (*v < 0 || *v > kMaxDelaySecs) {
        errors_.AddAt(n, "delay_secs",
                      "'delay_secs' must be between 0 and " + std::to_string(kMaxDelaySecs));
      } else {
        retry.delay = std::chrono::milliseconds(static_cast<int64_t>(*v * 1000.0));
      }
    }
  }
  if (const YamlNode n = fields["backoff_multiplier"]) {
    if (auto v = ReadNumber(n, "backoff_multiplier", errors_, "2")) {
      if (!(*v >= 1.0 && *v <= 1000.0)) {
        errors_.AddAt(n, "backoff_multiplier",
                      "'backoff_multiplier' must be between 1 and 1000, not " + n.Scalar());
      } else {
        retry.multiplier = *v;
      }
    }
  }
  if (const YamlNode n = fields["max_delay_secs"]) {
    if (auto v = ReadNumber(n, "max_delay_secs", errors_)) {
      // Checked before the conversion: 1e300 seconds is no count of milliseconds.
      if (*v < 0 || *v > kMaxDelaySecs) {
        errors_.AddAt(n, "max_delay_secs",
                      "'max_delay_secs' must be between 0 and " + std::to_string(kMaxDelaySecs));
      } else {
        retry.max_delay = std::chrono::milliseconds(static_cast<int64_t>(*v * 1000.0));
      }
    }
  }
  if (const YamlNode n = fields["jitter"]) {
    if (auto v = ReadNumber(n, "jitter", errors_, "0.5")) {
      if (!(*v >= 0.0 && *v <= 1.0)) {
        errors_.AddAt(n, "jitter",
                      "'jitter' must be between 0 and 1 (the fraction of each delay that may be "
                      "taken off at random), not " +
                          n.Scalar());
      } else {
        retry.jitter = *v;
      }
    }
  }
  if (const YamlNode n = fields["exit_codes"]) {
    if (!n.IsSequence()) {
      errors_.AddAt(n, "exit_codes", "'exit_codes' must be a list of integers");
    } else {
      for (const YamlNode& code : n) {
        if (auto v = ReadInt(code, "exit_codes", 0, 255, errors_)) {
          retry.exit_codes.push_back(static_cast<int32_t>(*v));
        }
      }
      retry.condition = RetryCondition::kOnExitCodes;
    }
  }
  if (const YamlNode n = fields["condition"]) {
    if (auto text = ReadString(n, "condition", errors_)) {
      Result<RetryCondition> condition = ParseRetryCondition(*text);
      if (condition.ok()) {
        retry.condition = *condition;
      } else {
        errors_.AddAt(n, "condition", condition.status().message());
      }
    }
  }
  // A long fixed delay from an original-format file must not be cut to the default backoff cap.
  if (!fields["max_delay_secs"] && retry.delay > retry.max_delay) retry.max_delay = retry.delay;
  Status valid = retry.Validate();
  if (!valid.ok()) errors_.AddAt(node, "", "retry of " + who + ": " + valid.message());
}

}  // namespace petit::host::internal
