#include "config/job_loader.h"

#include <cstdint>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <initializer_list>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "config/params_schema.h"
#include "config/yaml_support.h"
#include "petit/core/job_graph.h"
#include "petit/core/json.h"
#include "petit/core/resources.h"
#include "petit/core/schedule.h"
#include "petit/core/template.h"

namespace petit::host {
namespace {

constexpr int64_t kMaxRetries = 1000;
constexpr int64_t kMaxDelaySecs = 7 * 24 * 3600;
constexpr int64_t kMaxTimeoutSecs = 30LL * 24 * 3600;
constexpr int64_t kMaxJobConcurrency = 4096;
constexpr int64_t kMaxCatchUpLimit = 100000;
constexpr int64_t kMaxWindowSecs = 10LL * 366 * 24 * 3600;
// Reading files in parallel pays off only when each thread gets a few dozen files.
constexpr size_t kMinFilesPerThread = 16;
constexpr size_t kMaxLoadThreads = 8;

const std::vector<std::string_view> kJobKeys = {
    "id",      "name",     "description",     "schedule",          "enabled",
    "config",  "tasks",    "max_concurrency", "max_active_runs",   "depends_on",
    "overlap", "catch_up", "catch_up_limit",  "max_parallel_tasks"};
const std::vector<std::string_view> kScheduleKeys = {"cron", "timezone"};
const std::vector<std::string_view> kJobDependencyKeys = {"job", "job_id", "condition"};
const std::vector<std::string_view> kCommonTaskKeys = {
    "id",    "name",         "type",     "depends_on", "condition",
    "retry", "timeout_secs", "priority", "resources",  "output_cap_bytes"};
const std::vector<std::string_view> kCommandKeys = {"command", "args", "working_dir", "environment",
                                                    "shell"};
const std::vector<std::string_view> kPythonKeys = {"script", "inline", "working_dir",
                                                   "environment"};
const std::vector<std::string_view> kCustomKeys = {"handler", "config"};
const std::vector<std::string_view> kPluginKeys = {"params"};

std::vector<std::string_view> Concat(std::initializer_list<std::vector<std::string_view>> parts) {
  std::vector<std::string_view> all;
  for (const auto& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

// The keys each kind of task accepts. In-process types list `environment` too, so that using it
// gets a precise error instead of "unknown key".
const std::vector<std::string_view> kCommandTaskKeys = Concat({kCommonTaskKeys, kCommandKeys});
const std::vector<std::string_view> kPythonTaskKeys = Concat({kCommonTaskKeys, kPythonKeys});
const std::vector<std::string_view> kCustomTaskKeys =
    Concat({kCommonTaskKeys, kCustomKeys, {"environment"}});
const std::vector<std::string_view> kPluginTaskKeys =
    Concat({kCommonTaskKeys, kPluginKeys, {"environment"}});
const std::vector<std::string_view> kRetryKeys = {
    "max_attempts",   "delay_secs", "condition", "backoff_multiplier",
    "max_delay_secs", "jitter",     "exit_codes"};

template <typename Enum>
using Choices = std::vector<std::pair<std::string_view, Enum>>;

// Core's names, turned around for ReadChoice; `within_window` takes a value, so it is read apart.
template <typename Enum>
Choices<Enum> ChoicesOf(std::span<const std::pair<Enum, std::string_view>> names,
                        std::optional<Enum> except = std::nullopt) {
  Choices<Enum> choices;
  for (const auto& [value, name] : names) {
    if (value != except) choices.emplace_back(name, value);
  }
  return choices;
}

const Choices<OverlapPolicy> kOverlapChoices = ChoicesOf(OverlapPolicyNames());
const Choices<CatchUpPolicy> kCatchUpChoices = ChoicesOf(CatchUpPolicyNames());
const Choices<JobDependency::Condition> kConditionChoices = ChoicesOf(
    JobDependencyConditionNames(), std::optional(JobDependency::Condition::kWithinWindow));

// Where the parts of a valid job came from, for the checks made once every file is read.
struct JobMarks {
  YAML::Mark id;
  std::vector<YAML::Mark> dependencies;      // parallel to Job::depends_on
  std::vector<std::string> dependency_keys;  // parallel to Job::depends_on
};

// A job id as a file declares it, whether or not the rest of the file is valid.
struct Declaration {
  std::string id;
  std::string file;
  YAML::Mark mark;
  std::optional<size_t> job;  // index in LoadedJobs::jobs when the job is valid
};

// What every file of one load shares: the options and each plugin schema, parsed once before
// any file is read. Immutable afterwards, so the threads of LoadJobDirectory share it freely.
class LoadContext {
 public:
  explicit LoadContext(const JobLoaderOptions& options) : options_(options) {
    for (const auto& [type, text] : options.params_schemas) {
      Result<ParamsSchema> parsed = ParamsSchema::Parse(text);
      if (parsed.ok()) {
        schemas_.emplace(type, std::move(parsed).value());
      } else {
        unreadable_.emplace(type, parsed.status().message());
      }
    }
  }

  const JobLoaderOptions& options() const { return options_; }

  // The schema of `type`; nullptr when it declares none or declares one this host cannot read
  // (then `unreadable` says why).
  const ParamsSchema* SchemaFor(const std::string& type, std::string* unreadable) const {
    if (auto it = schemas_.find(type); it != schemas_.end()) return &it->second;
    if (auto it = unreadable_.find(type); it != unreadable_.end()) *unreadable = it->second;
    return nullptr;
  }

 private:
  const JobLoaderOptions& options_;
  std::map<std::string, ParamsSchema, std::less<>> schemas_;
  std::map<std::string, std::string, std::less<>> unreadable_;
};

// What one file yields; files are read independently, then merged in file order.
struct FileResult {
  LoadedJobs part;
  std::vector<JobMarks> marks;  // parallel to part.jobs
  std::optional<Declaration> declaration;
  // A schema that cannot be read is the plugin's defect, not the job's: it is reported once per
  // load, at its first use, so these are kept apart until the merge.
  std::vector<std::pair<std::string, Diagnostic>> schema_warnings;
};

struct TaskNodes {
  TaskSpec spec;
  YAML::Node node;
  std::string key;                           // "tasks.<id>"
  std::vector<YAML::Node> dependency_nodes;  // parallel to spec.depends_on
};

class JobParser {
 public:
  JobParser(const YAML::Node& root, YamlErrors& errors, YamlErrors& warnings,
            const LoadContext& context)
      : root_(root), fields_(root), errors_(errors), warnings_(warnings), context_(context) {}

  std::optional<Job> Parse() {
    if (!root_.IsMap()) {
      errors_.AddAt(root_, "", "a job file must be a mapping with at least 'id' and 'tasks'");
      return std::nullopt;
    }
    CheckKeys(root_, kJobKeys, "job", errors_);
    Job job;
    ParseIdentity(job);
    ParseRunPolicy(job);
    ParseSchedule(job);
    ParseCatchUp(job);
    ParseJobDependencies(job);
    ParseConfig(job);
    ParseTasks(job);
    if (!errors_.empty()) return std::nullopt;
    Status valid = job.dag.Validate();
    if (!valid.ok()) {
      std::string message = valid.message();
      size_t start = 0;
      while (start <= message.size()) {
        size_t end = message.find('\n', start);
        if (end == std::string::npos) end = message.size();
        if (end > start)
          errors_.AddAt(fields_["tasks"], "tasks", message.substr(start, end - start));
        start = end + 1;
      }
      return std::nullopt;
    }
    CheckTemplateAncestry(job);
    if (!errors_.empty()) return std::nullopt;
    return job;
  }

  // The id the file declares, even when the job is invalid; empty when it has none.
  const std::string& declared_id() const { return declared_id_; }
  const JobMarks& marks() const { return marks_; }
  // The task type of each warning, in order.
  const std::vector<std::string>& warning_types() const { return warning_types_; }

 private:
  std::optional<std::string> Required(const MapFields& fields, const YAML::Node& owner,
                                      const char* key, std::string_view where) {
    const YAML::Node node = fields[key];
    if (!node) {
      errors_.AddAt(owner, key, std::string(where) + " is missing required key '" + key + "'");
      return std::nullopt;
    }
    return ReadString(node, key, errors_);
  }

  template <typename Enum>
  std::optional<Enum> ReadChoice(const YAML::Node& node, std::string_view key,
                                 std::string_view what, const Choices<Enum>& choices) {
    std::optional<std::string> text = ReadString(node, key, errors_);
    if (!text) return std::nullopt;
    std::vector<std::string_view> names;
    for (const auto& [name, value] : choices) {
      if (name == *text) return value;
      names.push_back(name);
    }
    std::string message = "unknown " + std::string(what) + " '" + *text + "' (expected ";
    for (size_t i = 0; i < names.size(); ++i) {
      if (i > 0) message += i + 1 == names.size() ? " or " : ", ";
      message += names[i];
    }
    message += ")";
    if (auto close = ClosestMatch(*text, names)) message += "; did you mean '" + *close + "'?";
    errors_.AddAt(node, key, message);
    return std::nullopt;
  }

  void ParseIdentity(Job& job) {
    if (auto id = Required(fields_, root_, "id", "job")) {
      Status valid = ValidateName(*id, "job id");
      if (!valid.ok()) errors_.AddAt(fields_["id"], "id", valid.message());
      job.id = JobId(*id);
      declared_id_ = *id;
      marks_.id = fields_["id"].Mark();
    }
    where_ = job.id.empty() ? std::string("job") : "job '" + job.id.str() + "'";
    if (const YAML::Node name = fields_["name"]) {
      if (auto text = ReadString(name, "name", errors_)) job.name = *text;
    }
    if (job.name.empty()) job.name = job.id.str();
    if (const YAML::Node description = fields_["description"]) {
      if (auto text = ReadString(description, "description", errors_)) job.description = *text;
    }
    if (const YAML::Node enabled = fields_["enabled"]) {
      job.enabled = ReadBool(enabled, "enabled", errors_).value_or(true);
    }
  }

  void ParseRunPolicy(Job& job) {
    if (const YAML::Node node = fields_["max_parallel_tasks"]) {
      if (auto n = ReadInt(node, "max_parallel_tasks", 1, kMaxJobConcurrency, errors_)) {
        job.max_parallel_tasks = static_cast<uint32_t>(*n);
      }
    }
    const YAML::Node concurrency = fields_["max_concurrency"];
    const YAML::Node active = fields_["max_active_runs"];
    if (concurrency && active) {
      errors_.AddAt(active, "max_active_runs",
                    "'max_active_runs' and 'max_concurrency' are the same setting; give one");
    } else if (concurrency) {
      // The original refuses 0 here; max_active_runs spells out "unlimited" as 0 instead.
      if (auto n = ReadInt(concurrency, "max_concurrency", 1, kMaxJobConcurrency, errors_)) {
        job.max_active_runs = static_cast<uint32_t>(*n);
      }
    } else if (active) {
      if (auto n = ReadInt(active, "max_active_runs", 0, kMaxJobConcurrency, errors_)) {
        job.max_active_runs = static_cast<uint32_t>(*n);
      }
    }
    if (const YAML::Node node = fields_["overlap"]) {
      if (auto policy = ReadChoice(node, "overlap", "overlap policy", kOverlapChoices)) {
        job.overlap = *policy;
      }
    }
  }

  // yaml-cpp's Node::operator= rebinds the node in the document itself, so the nodes below are
  // never reassigned: each is a new const variable or a parameter.
  void ParseSchedule(Job& job) {
    const YAML::Node node = fields_["schedule"];
    // `schedule:` left empty means no schedule, as it did in the original.
    if (!node || node.IsNull()) return;
    if (node.IsScalar()) {
      ParseScheduleExpression(node, "schedule", context_.options().default_time_zone, job);
      return;
    }
    if (!node.IsMap()) {
      errors_.AddAt(node, "schedule",
                    "'schedule' must be a cron expression, or a mapping {cron, timezone}");
      return;
    }
    const MapFields fields(node);
    std::string zone = context_.options().default_time_zone;
    {
      YamlErrors::KeyScope scope(errors_, "schedule");
      CheckKeys(node, kScheduleKeys, "schedule of " + where_, errors_);
      if (!fields["cron"]) {
        errors_.AddAt(node, "cron", "schedule of " + where_ + " is missing required key 'cron'");
        return;
      }
      if (const YAML::Node zone_node = fields["timezone"]) {
        std::optional<std::string> name = ReadString(zone_node, "timezone", errors_);
        if (!name) return;
        // The zone is checked on its own so its problem points at `timezone`, not at `cron`.
        Result<Schedule> zone_check = Schedule::Parse("@daily", *name);
        if (!zone_check.ok()) {
          errors_.AddAt(zone_node, "timezone", zone_check.status().message());
          return;
        }
        zone = *name;
      }
    }
    ParseScheduleExpression(fields["cron"], "schedule.cron", zone, job);
  }

  void ParseScheduleExpression(const YAML::Node& expression, const std::string& key,
                               const std::string& zone, Job& job) {
    std::optional<std::string> text = ReadString(expression, key, errors_);
    if (!text) return;
    Result<Schedule> schedule = Schedule::Parse(*text, zone);
    if (!schedule.ok()) {
      errors_.AddAt(expression, key,
                    "invalid schedule '" + *text + "': " + schedule.status().message());
      return;
    }
    job.schedule = std::move(schedule).value();
  }

  void ParseCatchUp(Job& job) {
    const YAML::Node policy = fields_["catch_up"];
    const YAML::Node limit = fields_["catch_up_limit"];
    if (policy) {
      if (auto value = ReadChoice(policy, "catch_up", "catch-up policy", kCatchUpChoices)) {
        job.catch_up = *value;
        const YAML::Node schedule = fields_["schedule"];
        if (*value != CatchUpPolicy::kNone && (!schedule || schedule.IsNull())) {
          errors_.AddAt(policy, "catch_up",
                        "'catch_up' needs a 'schedule': " + where_ +
                            " runs only when triggered, so it never misses a run");
        }
      }
    }
    if (!limit) return;
    if (auto n = ReadInt(limit, "catch_up_limit", 1, kMaxCatchUpLimit, errors_)) {
      job.catch_up_limit = static_cast<uint32_t>(*n);
    }
    if (job.catch_up != CatchUpPolicy::kAll) {
      errors_.AddAt(limit, "catch_up_limit", "'catch_up_limit' applies only with 'catch_up: all'");
    }
  }

  void ParseJobDependencies(Job& job) {
    const YAML::Node deps = fields_["depends_on"];
    if (!deps || deps.IsNull()) return;
    if (deps.IsScalar()) {
      ParseJobDependency(deps, "depends_on", job);
      return;
    }
    if (!deps.IsSequence()) {
      errors_.AddAt(deps, "depends_on",
                    "'depends_on' of a job must be a list of jobs: `- other_job` or "
                    "`- {job: other_job, condition: last_success}`");
      return;
    }
    size_t index = 0;
    for (const YAML::Node& item : deps) {
      ParseJobDependency(item, "depends_on[" + std::to_string(index++) + "]", job);
    }
  }

  void ParseJobDependency(const YAML::Node& item, const std::string& key, Job& job) {
    JobDependency dependency;
    if (item.IsScalar()) {
      AddJobDependency(item, key, dependency, job);
      return;
    }
    if (!item.IsMap()) {
      errors_.AddAt(
          item, key,
          "a dependency of " + where_ + " must be a job id or a mapping {job, condition}");
      return;
    }
    const MapFields fields(item);
    const YAML::Node job_node = fields["job"];
    const YAML::Node alias = fields["job_id"];
    {
      YamlErrors::KeyScope scope(errors_, key);
      CheckKeys(item, kJobDependencyKeys, "a dependency of " + where_, errors_);
      if (job_node && alias) {
        errors_.AddAt(alias, "job_id", "'job' and 'job_id' name the same thing; give one");
      }
      if (!job_node && !alias) {
        errors_.AddAt(item, "job", "a dependency of " + where_ + " is missing required key 'job'");
        return;
      }
      if (const YAML::Node condition = fields["condition"]) {
        if (!ParseDependencyCondition(condition, dependency)) return;
      }
    }
    AddJobDependency(job_node ? job_node : alias, key + (job_node ? ".job" : ".job_id"), dependency,
                     job);
  }

  void AddJobDependency(const YAML::Node& id_node, const std::string& key,
                        JobDependency& dependency, Job& job) {
    std::optional<std::string> name = ReadString(id_node, key, errors_);
    if (!name) return;
    if (Status valid = ValidateName(*name, "job id"); !valid.ok()) {
      errors_.AddAt(id_node, key, valid.message());
      return;
    }
    for (const JobDependency& earlier : job.depends_on) {
      if (earlier.job.str() == *name) {
        errors_.AddAt(id_node, key, where_ + " lists job '" + *name + "' twice in depends_on");
        return;
      }
    }
    dependency.job = JobId(*name);
    job.depends_on.push_back(dependency);
    marks_.dependencies.push_back(id_node.Mark());
    marks_.dependency_keys.push_back(errors_.Path(key));
  }

  // condition: last_success | last_complete | {within_window: {seconds: N}}
  bool ParseDependencyCondition(const YAML::Node& node, JobDependency& dependency) {
    YamlErrors::KeyScope scope(errors_, "condition");
    if (node.IsScalar()) {
      if (node.Scalar() == "within_window") {
        errors_.AddAt(node, "",
                      "'within_window' needs its window: condition: {within_window: {seconds: "
                      "3600}}");
        return false;
      }
      Choices<JobDependency::Condition> all = kConditionChoices;
      all.emplace_back("within_window", JobDependency::Condition::kWithinWindow);
      std::optional<JobDependency::Condition> condition =
          ReadChoice(node, "", "job dependency condition", all);
      if (!condition) return false;
      dependency.condition = *condition;
      return true;
    }
    if (!node.IsMap() || node.size() != 1 || !node["within_window"]) {
      if (node.IsMap()) CheckKeys(node, {"within_window"}, "a job dependency condition", errors_);
      if (!node.IsMap() || node.size() != 1) {
        errors_.AddAt(node, "",
                      "'condition' must be last_success, last_complete or "
                      "{within_window: {seconds: N}}");
      }
      return false;
    }
    const YAML::Node window = node["within_window"];
    YamlErrors::KeyScope window_scope(errors_, "within_window");
    if (!window.IsMap()) {
      errors_.AddAt(window, "", "'within_window' must be a mapping {seconds: N}");
      return false;
    }
    CheckKeys(window, {"seconds"}, "within_window", errors_);
    const YAML::Node seconds = window["seconds"];
    if (!seconds) {
      errors_.AddAt(window, "seconds", "'within_window' is missing required key 'seconds'");
      return false;
    }
    std::optional<int64_t> n = ReadInt(seconds, "seconds", 1, kMaxWindowSecs, errors_);
    if (!n) return false;
    dependency.condition = JobDependency::Condition::kWithinWindow;
    dependency.window = std::chrono::seconds(*n);
    return true;
  }

  void ParseConfig(Job& job) {
    const YAML::Node node = fields_["config"];
    if (!node || node.IsNull()) return;
    if (!node.IsMap()) {
      errors_.AddAt(node, "config", "'config' must be a mapping of names to values");
      return;
    }
    auto config = std::make_shared<ValueMap>();
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar()) {
        errors_.AddAt(it->first, "config", "config keys must be strings");
        continue;
      }
      config->insert_or_assign(it->first.Scalar(), YamlToConfigValue(it->second));
    }
    job.config = std::move(config);
  }

  void ParseTasks(Job& job) {
    const YAML::Node tasks = fields_["tasks"];
    if (!tasks) {
      errors_.AddAt(root_, "tasks", where_ + " is missing required key 'tasks'");
      return;
    }
    if (!tasks.IsSequence() || tasks.size() == 0) {
      errors_.AddAt(tasks, "tasks", "'tasks' must be a non-empty list of tasks");
      return;
    }
    std::vector<TaskNodes> parsed;
    // Growing would copy every task: the move of TaskNodes may throw, so vector copies instead.
    parsed.reserve(tasks.size());
    std::map<std::string, YAML::Node> seen;
    size_t index = 0;
    for (const YAML::Node& node : tasks) {
      std::optional<TaskNodes> task = ParseTask(node, index++);
      if (!task) continue;
      const std::string& id = task->spec.id.str();
      if (auto [it, inserted] = seen.emplace(id, node["id"]); !inserted) {
        errors_.AddAt(node["id"], task->key + ".id",
                      "duplicate task id '" + id + "' in " + where_ + " (first at line " +
                          std::to_string(it->second.Mark().line + 1) + ")");
        continue;
      }
      parsed.push_back(std::move(*task));
    }
    // Dependencies may name tasks anywhere in the file, so they are checked once all are known.
    for (const TaskNodes& task : parsed) {
      std::set<std::string> listed;
      for (size_t i = 0; i < task.spec.depends_on.size(); ++i) {
        const std::string& dep = task.spec.depends_on[i].str();
        const YAML::Node& at = task.dependency_nodes[i];
        const std::string key = task.key + ".depends_on";
        std::string who = "task '" + task.spec.id.str() + "'";
        if (dep == task.spec.id.str()) {
          errors_.AddAt(at, key, who + " depends on itself");
        } else if (!seen.count(dep)) {
          std::vector<std::string_view> ids;
          for (const auto& [id, unused] : seen) ids.push_back(id);
          std::string message = who + " depends on unknown task '" + dep + "'";
          if (auto close = ClosestMatch(dep, ids)) message += " (did you mean '" + *close + "'?)";
          errors_.AddAt(at, key, message);
        } else if (!listed.insert(dep).second) {
          errors_.AddAt(at, key, who + " lists dependency '" + dep + "' twice");
        }
      }
    }
    for (const TaskNodes& task : parsed) {
      task_marks_[task.spec.id.str()] = {task.node.Mark(), task.key};
      CheckTemplateSyntax(task, seen);
    }
    for (TaskNodes& task : parsed) job.dag.AddTask(std::move(task.spec));
  }

  // A template must parse and may only read outputs of tasks that exist; whether they are
  // upstream is checked once the graph is known to be acyclic (CheckTemplateAncestry).
  void CheckTemplateSyntax(const TaskNodes& task, const std::map<std::string, YAML::Node>& ids) {
    const std::string& params = task.spec.params_json;
    if (!HasTemplates(params)) return;
    std::string who = "task '" + task.spec.id.str() + "'";
    if (Status syntax = CheckTemplates(params); !syntax.ok()) {
      errors_.AddAt(task.node, task.key, who + ": " + syntax.message());
      return;
    }
    for (const std::string& ref : ReferencedTasks(params)) {
      if (!ids.count(ref)) {
        errors_.AddAt(task.node, task.key, who + " reads outputs of unknown task '" + ref + "'");
      }
    }
  }

  void CheckTemplateAncestry(const Job& job) {
    for (Dag::Index i = 0; i < job.dag.size(); ++i) {
      const TaskSpec& spec = job.dag.task(i);
      if (!HasTemplates(spec.params_json)) continue;
      for (const std::string& ref : ReferencedTasks(spec.params_json)) {
        std::optional<Dag::Index> up = job.dag.IndexOf(TaskId(ref));
        if (!up) continue;
        std::vector<Dag::Index> below = job.dag.TransitiveDownstream(*up);
        if (std::find(below.begin(), below.end(), i) != below.end()) continue;
        const auto& [mark, key] = task_marks_[spec.id.str()];
        errors_.Add(mark, key,
                    "task '" + spec.id.str() + "' reads outputs of '" + ref +
                        "', which is not upstream of it (add it to depends_on)");
      }
    }
  }

  std::optional<TaskNodes> ParseTask(const YAML::Node& node, size_t index) {
    const std::string position_key = "tasks[" + std::to_string(index) + "]";
    if (!node.IsMap()) {
      errors_.AddAt(node, position_key,
                    "each task must be a mapping with at least 'id' and 'type'");
      return std::nullopt;
    }
    MapFields fields(node);
    std::optional<std::string> id;
    {
      YamlErrors::KeyScope scope(errors_, position_key);
      id = Required(fields, node, "id", "task");
    }
    if (!id) return std::nullopt;
    TaskNodes task;
    task.node = node;
    task.key = "tasks." + *id;
    YamlErrors::KeyScope scope(errors_, task.key);
    Status valid = ValidateName(*id, "task id");
    if (!valid.ok()) errors_.AddAt(fields["id"], "id", valid.message());
    TaskSpec& spec = task.spec;
    spec.id = TaskId(*id);
    const std::string who = "task '" + *id + "'";
    auto type = Required(fields, node, "type", who);
    if (!type) return std::nullopt;

    bool runs_a_process = true;
    if (*type == "command") {
      CheckKeys(node, kCommandTaskKeys, who, errors_);
      CheckType(fields["type"], "command");
      ParseCommand(fields, node, spec, who);
    } else if (*type == "python") {
      CheckKeys(node, kPythonTaskKeys, who, errors_);
      CheckType(fields["type"], "command");
      ParsePython(fields, node, spec, who);
    } else if (*type == "custom") {
      runs_a_process = false;
      CheckKeys(node, kCustomTaskKeys, who, errors_);
      if (auto handler = Required(fields, node, "handler", who)) {
        spec.type = *handler;
        if (CheckType(fields["handler"], spec.type)) {
          CheckParams(fields["config"], node, "config", who, spec.type, fields["handler"]);
        }
      }
      spec.params_json = ParamsObject(fields["config"], "config");
    } else {
      runs_a_process = false;
      CheckKeys(node, kPluginTaskKeys, who, errors_);
      spec.type = *type;
      if (CheckType(fields["type"], spec.type)) {
        CheckParams(fields["params"], node, "params", who, spec.type, fields["type"]);
      }
      spec.params_json = ParamsObject(fields["params"], "params");
    }
    if (!runs_a_process) {
      if (const YAML::Node environment = fields["environment"]) {
        errors_.AddAt(environment, "environment",
                      "'environment' sets variables of a process; " + who + " of type " +
                          spec.type + " runs inside the host and has none");
      }
    }

    if (const YAML::Node name = fields["name"])
      spec.name = ReadString(name, "name", errors_).value_or("");
    if (spec.name.empty()) spec.name = spec.id.str();
    if (const YAML::Node deps = fields["depends_on"]) ParseDependsOn(deps, task);
    if (const YAML::Node cond = fields["condition"]) {
      if (auto text = ReadString(cond, "condition", errors_)) {
        Result<TriggerRule> rule = ParseTriggerRule(*text);
        if (rule.ok()) {
          spec.trigger = *rule;
        } else {
          errors_.AddAt(cond, "condition", rule.status().message());
        }
      }
    }
    if (const YAML::Node retry = fields["retry"]) ParseRetry(retry, spec, who);
    if (const YAML::Node timeout = fields["timeout_secs"]) {
      if (auto secs = ReadNumber(timeout, "timeout_secs", errors_)) {
        if (*secs <= 0 || *secs > kMaxTimeoutSecs) {
          errors_.AddAt(timeout, "timeout_secs",
                        "'timeout_secs' must be greater than 0 and at most " +
                            std::to_string(kMaxTimeoutSecs));
        } else {
          spec.timeout = std::chrono::milliseconds(static_cast<int64_t>(*secs * 1000.0));
        }
      }
    }
    if (const YAML::Node resources = fields["resources"]) ParseResources(resources, spec);
    if (const YAML::Node priority = fields["priority"]) {
      if (auto p = ReadInt(priority, "priority", -1000000, 1000000, errors_)) {
        spec.priority = static_cast<int32_t>(*p);
      }
    }
    // The same bounds as petit.yaml's output_cap_bytes, which it overrides for this task.
    if (const YAML::Node cap = fields["output_cap_bytes"]) {
      if (auto n = ReadInt(cap, "output_cap_bytes", 1024, int64_t{1} << 40, errors_)) {
        spec.output_cap_bytes = static_cast<uint64_t>(*n);
      }
    }
    return task;
  }

  // resources: {gpu: 1, db: 2, cpu_slots: 2, memory_mb: 512}; the last two are the host's system
  // resources, the rest name pools of petit.yaml.
  void ParseResources(const YAML::Node& node, TaskSpec& spec) {
    if (!node.IsMap()) {
      errors_.AddAt(node, "resources",
                    "'resources' must map pool names to slot counts, e.g. {gpu: 1}");
      return;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node name = it->first;
      std::string key = name.IsScalar() ? name.Scalar() : "";
      std::optional<int64_t> amount =
          ReadInt(it->second, "resources." + key, 1, int64_t{1} << 40, errors_);
      if (!amount) continue;
      if (key == kCpuSlotsName) {
        spec.resources.cpu_slots = static_cast<uint32_t>(std::min<int64_t>(*amount, UINT32_MAX));
      } else if (key == kMemoryMbName) {
        spec.resources.memory_mb = static_cast<uint64_t>(*amount);
      } else if (Status valid = ValidateName(key, "pool name"); !valid.ok()) {
        errors_.AddAt(name, "resources." + key, valid.message());
      } else {
        spec.resources.slots[key] = static_cast<uint32_t>(std::min<int64_t>(*amount, UINT32_MAX));
      }
    }
  }

  // False when the type is unknown (and reported); true when it is known or types are unchecked.
  bool CheckType(const YAML::Node& at, const std::string& type) {
    const auto& known = context_.options().known_types;
    if (known.empty() || std::find(known.begin(), known.end(), type) != known.end()) return true;
    std::vector<std::string_view> candidates(known.begin(), known.end());
    candidates.push_back("python");
    candidates.push_back("custom");
    std::string message = "unknown task type '" + type + "'";
    if (type == "command") {
      message = "task type 'command' needs the command plugin, which is not loaded";
    } else if (auto close = ClosestMatch(type, candidates)) {
      message += " (did you mean '" + *close + "'?)";
    } else {
      message += "; `petit plugins` lists the task types this host has";
    }
    errors_.AddAt(at, "type", message);
    return false;
  }

  void CheckParams(const YAML::Node& params, const YAML::Node& task, std::string_view key,
                   const std::string& who, const std::string& type, const YAML::Node& type_node) {
    std::string unreadable;
    const ParamsSchema* schema = context_.SchemaFor(type, &unreadable);
    if (!unreadable.empty() &&
        std::find(warning_types_.begin(), warning_types_.end(), type) == warning_types_.end()) {
      warnings_.AddAt(type_node, "type",
                      "the parameter schema of task type '" + type + "' cannot be checked here (" +
                          unreadable + "); its parameters are checked when a task is created");
      warning_types_.push_back(type);
    }
    if (schema == nullptr) return;
    // A mapping is the plugin's contract and ParamsObject reports anything else.
    if (params && !params.IsNull() && !params.IsMap()) return;
    schema->Check(params, task, key, who + " (type " + type + ")", errors_);
  }

  std::string ParamsObject(const YAML::Node& node, std::string_view key) {
    if (!node || node.IsNull()) return "{}";
    if (!node.IsMap()) {
      errors_.AddAt(node, key, "'" + std::string(key) + "' must be a mapping of parameters");
      return "{}";
    }
    return YamlToJson(node);
  }

  // Appends "environment": {...} to a params object being built.
  void AppendEnvironment(const YAML::Node& node, std::string& json) {
    if (!node) return;
    YamlErrors::KeyScope scope(errors_, "environment");
    if (!node.IsMap()) {
      errors_.AddAt(node, "", "'environment' must be a mapping of variable names to values");
      return;
    }
    json += ",\"environment\":{";
    bool first = true;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string name = it->first.IsScalar() ? it->first.Scalar() : "";
      if (!it->first.IsScalar() || !it->second.IsScalar()) {
        errors_.AddAt(it->first, name,
                      "environment variables must be name: value pairs of strings");
        continue;
      }
      if (name.empty() || name.find('=') != std::string::npos) {
        errors_.AddAt(it->first, name, "invalid environment variable name '" + name + "'");
        continue;
      }
      if (!first) json.push_back(',');
      first = false;
      AppendJsonString(json, name);
      json.push_back(':');
      AppendJsonString(json, it->second.Scalar());
    }
    json += "}";
  }

  void AppendWorkingDir(const YAML::Node& node, std::string& json) {
    if (!node) return;
    if (auto dir = ReadString(node, "working_dir", errors_)) {
      json += ",\"working_dir\":";
      AppendJsonString(json, *dir);
    }
  }

  void ParseCommand(const MapFields& fields, const YAML::Node& node, TaskSpec& spec,
                    const std::string& who) {
    spec.type = "command";
    std::string json = "{";
    const YAML::Node command = fields["command"];
    const YAML::Node shell = fields["shell"];
    if (command && shell) {
      errors_.AddAt(shell, "shell", who + " has both 'command' and 'shell'; use one");
    } else if (!command && !shell) {
      errors_.AddAt(node, "command", who + " of type command needs 'command' (or 'shell')");
    }
    if (command) {
      if (auto text = ReadString(command, "command", errors_)) {
        if (text->empty()) errors_.AddAt(command, "command", "'command' must not be empty");
        json += "\"command\":";
        AppendJsonString(json, *text);
      }
    } else if (shell) {
      if (auto text = ReadString(shell, "shell", errors_)) {
        json += "\"shell\":";
        AppendJsonString(json, *text);
      }
    }
    if (const YAML::Node args = fields["args"]) {
      if (shell && !command) {
        errors_.AddAt(args, "args",
                      "'args' goes with 'command'; put a shell script in 'shell' whole");
      } else if (auto list = ReadStringList(args, "args", errors_)) {
        json += ",\"args\":[";
        for (size_t i = 0; i < list->size(); ++i) {
          if (i != 0) json.push_back(',');
          AppendJsonString(json, (*list)[i]);
        }
        json += "]";
      }
    }
    AppendWorkingDir(fields["working_dir"], json);
    AppendEnvironment(fields["environment"], json);
    json += "}";
    spec.params_json = std::move(json);
  }

  void ParsePython(const MapFields& fields, const YAML::Node& node, TaskSpec& spec,
                   const std::string& who) {
    spec.type = "command";
    auto script = Required(fields, node, "script", who);
    bool inline_code = false;
    if (const YAML::Node flag = fields["inline"]) {
      inline_code = ReadBool(flag, "inline", errors_).value_or(false);
    }
    std::string json = "{\"command\":\"python3\",\"args\":[";
    if (inline_code) json += "\"-c\",";
    AppendJsonString(json, script.value_or(""));
    json += "]";
    AppendWorkingDir(fields["working_dir"], json);
    AppendEnvironment(fields["environment"], json);
    json += "}";
    spec.params_json = std::move(json);
  }

  void ParseDependsOn(const YAML::Node& deps, TaskNodes& task) {
    if (deps.IsScalar()) {
      task.spec.depends_on.emplace_back(deps.Scalar());
      task.dependency_nodes.push_back(deps);
      return;
    }
    if (!deps.IsSequence()) {
      errors_.AddAt(deps, "depends_on", "'depends_on' must be a task id or a list of task ids");
      return;
    }
    for (const YAML::Node& dep : deps) {
      if (!dep.IsScalar()) {
        errors_.AddAt(dep, "depends_on", "items of 'depends_on' must be task ids");
        continue;
      }
      task.spec.depends_on.emplace_back(dep.Scalar());
      task.dependency_nodes.push_back(dep);
    }
  }

  void ParseRetry(const YAML::Node& node, TaskSpec& spec, const std::string& who) {
    YamlErrors::KeyScope scope(errors_, "retry");
    if (!node.IsMap()) {
      errors_.AddAt(node, "", "'retry' must be a mapping (max_attempts, delay_secs, condition)");
      return;
    }
    CheckKeys(node, kRetryKeys, "retry of " + who, errors_);
    MapFields fields(node);
    RetryPolicy& retry = spec.retry;
    if (const YAML::Node n = fields["max_attempts"]) {
      // The original's max_attempts counts retries after the first attempt.
      if (auto v = ReadInt(n, "max_attempts", 0, kMaxRetries, errors_)) {
        retry.max_retries = static_cast<uint32_t>(*v);
      }
    }
    if (const YAML::Node n = fields["delay_secs"]) {
      if (auto v = ReadNumber(n, "delay_secs", errors_)) {
        if (*v < 0 || *v > kMaxDelaySecs) {
          errors_.AddAt(n, "delay_secs",
                        "'delay_secs' must be between 0 and " + std::to_string(kMaxDelaySecs));
        } else {
          retry.delay = std::chrono::milliseconds(static_cast<int64_t>(*v * 1000.0));
        }
      }
    }
    if (const YAML::Node n = fields["backoff_multiplier"]) {
      if (auto v = ReadNumber(n, "backoff_multiplier", errors_)) retry.multiplier = *v;
    }
    if (const YAML::Node n = fields["max_delay_secs"]) {
      if (auto v = ReadNumber(n, "max_delay_secs", errors_)) {
        retry.max_delay = std::chrono::milliseconds(static_cast<int64_t>(*v * 1000.0));
      }
    }
    if (const YAML::Node n = fields["jitter"]) {
      if (auto v = ReadNumber(n, "jitter", errors_)) retry.jitter = *v;
    }
    if (const YAML::Node n = fields["exit_codes"]) {
      if (!n.IsSequence()) {
        errors_.AddAt(n, "exit_codes", "'exit_codes' must be a list of integers");
      } else {
        for (const YAML::Node& code : n) {
          if (auto v = ReadInt(code, "exit_codes", 0, 255, errors_)) {
            retry.exit_codes.push_back(static_cast<int32_t>(*v));
          }
        }
        retry.condition = RetryCondition::kOnExitCodes;
      }
    }
    if (const YAML::Node n = fields["condition"]) {
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

  const YAML::Node& root_;
  const MapFields fields_;
  YamlErrors& errors_;
  YamlErrors& warnings_;
  const LoadContext& context_;
  std::string where_ = "job";
  std::string declared_id_;
  JobMarks marks_;
  std::vector<std::string> warning_types_;
  std::map<std::string, std::pair<YAML::Mark, std::string>> task_marks_;
};

// Problems of one file, top to bottom, so a long report reads in the order of the file.
void AppendSorted(const YamlErrors& problems, std::vector<Diagnostic>& out) {
  const size_t first = out.size();
  out.insert(out.end(), problems.diagnostics().begin(), problems.diagnostics().end());
  std::stable_sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                   });
}

void ParseInto(const YAML::Node& root, const std::string& file, const LoadContext& context,
               FileResult& result) {
  YamlErrors errors(file);
  YamlErrors warnings(file);
  JobParser parser(root, errors, warnings, context);
  std::optional<Job> job = parser.Parse();
  AppendSorted(errors, result.part.errors);
  for (size_t i = 0; i < warnings.size(); ++i) {
    result.schema_warnings.emplace_back(parser.warning_types()[i], warnings.diagnostics()[i]);
  }
  if (!parser.declared_id().empty()) {
    result.declaration = Declaration{parser.declared_id(), file, parser.marks().id, std::nullopt};
  }
  if (job) {
    job->source_file = file;
    if (result.declaration) result.declaration->job = 0;
    result.part.jobs.push_back(std::move(*job));
    result.marks.push_back(parser.marks());
  }
}

void AddYamlException(const std::string& file, const YAML::Exception& e, LoadedJobs& out) {
  YamlErrors errors(file);
  errors.Add(e.mark, "", e.msg);
  AppendSorted(errors, out.errors);
}

void LoadFileInto(const std::string& path, const LoadContext& context, FileResult& result) {
  result.part.files = 1;
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAllFromFile(path);
  } catch (const YAML::BadFile&) {
    result.part.errors.push_back({path, 0, 0, "", "cannot read the file"});
    return;
  } catch (const YAML::Exception& e) {
    AddYamlException(path, e, result.part);
    return;
  }
  if (documents.size() > 1) {
    YamlErrors errors(path);
    errors.AddAt(documents[1], "",
                 "a job file holds one job, but this one has " + std::to_string(documents.size()) +
                     " YAML documents (separated by ---)");
    AppendSorted(errors, result.part.errors);
    return;
  }
  ParseInto(documents.empty() ? YAML::Node() : documents.front(), path, context, result);
}

// Appends one file's result to the load; `warned` holds the task types whose unreadable schema
// was already reported.
void Merge(FileResult&& result, LoadedJobs& out, std::vector<JobMarks>* marks,
           std::vector<Declaration>* declarations, std::set<std::string>& warned) {
  out.files += result.part.files;
  std::move(result.part.errors.begin(), result.part.errors.end(), std::back_inserter(out.errors));
  for (auto& [type, warning] : result.schema_warnings) {
    if (warned.insert(type).second) out.warnings.push_back(std::move(warning));
  }
  if (result.declaration && result.declaration->job) result.declaration->job = out.jobs.size();
  std::move(result.part.jobs.begin(), result.part.jobs.end(), std::back_inserter(out.jobs));
  if (marks != nullptr) {
    std::move(result.marks.begin(), result.marks.end(), std::back_inserter(*marks));
  }
  if (declarations != nullptr && result.declaration) {
    declarations->push_back(std::move(*result.declaration));
  }
}

// Reads `files` into `results` (same order). yaml-cpp is CPU-bound (about 1 ms for a 3 KB job
// file here) and files are independent, so large directories are read on several threads; each
// thread takes the next unread file, and results are merged in file order afterwards, so the
// outcome never depends on the scheduling.
void LoadFiles(const std::vector<std::string>& files, const LoadContext& context,
               std::vector<FileResult>& results) {
  results.resize(files.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < files.size(); i = next.fetch_add(1)) {
      LoadFileInto(files[i], context, results[i]);
    }
  };
  const size_t by_size = files.size() / kMinFilesPerThread;
  const size_t threads =
      std::min({static_cast<size_t>(std::max(1u, std::thread::hardware_concurrency())),
                kMaxLoadThreads, std::max<size_t>(by_size, 1)});
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t) helpers.emplace_back(work);
  work();
  for (std::thread& helper : helpers) helper.join();
}

bool IsJobFile(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  if (ext != ".yaml" && ext != ".yml") return false;
  std::string stem = path.stem().string();
  return stem != "petit";
}

Diagnostic At(const std::string& file, const YAML::Mark& mark, std::string key,
              std::string message) {
  Diagnostic diagnostic{file, 0, 0, std::move(key), std::move(message)};
  if (!mark.is_null()) {
    diagnostic.line = static_cast<uint32_t>(mark.line + 1);
    diagnostic.column = static_cast<uint32_t>(mark.column + 1);
  }
  return diagnostic;
}

std::string Location(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return file;
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

// Keeps the first job of each id; every later declaration is one error naming both files.
void RemoveDuplicateIds(const std::vector<Declaration>& declarations, LoadedJobs& out,
                        std::vector<JobMarks>& marks) {
  std::map<std::string, const Declaration*> first;
  std::vector<bool> keep(out.jobs.size(), true);
  for (const Declaration& declaration : declarations) {
    auto [it, inserted] = first.emplace(declaration.id, &declaration);
    if (inserted) continue;
    const Declaration& original = *it->second;
    out.errors.push_back(At(declaration.file, declaration.mark, "id",
                            "job id '" + declaration.id + "' is already used by " +
                                Location(original.file, original.mark)));
    if (declaration.job) keep[*declaration.job] = false;
  }
  std::vector<Job> jobs;
  std::vector<JobMarks> kept_marks;
  for (size_t i = 0; i < out.jobs.size(); ++i) {
    if (!keep[i]) continue;
    jobs.push_back(std::move(out.jobs[i]));
    kept_marks.push_back(std::move(marks[i]));
  }
  out.jobs = std::move(jobs);
  marks = std::move(kept_marks);
}

// Job dependencies across the directory (core/job_graph.h). A job with a problem is dropped, and so
// is, transitively, every job that depends on a dropped one: it could never be scheduled.
void CheckJobDependencies(const std::set<std::string>& broken_ids, LoadedJobs& out,
                          std::vector<JobMarks>& marks) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < out.jobs.size(); ++i) index.emplace(out.jobs[i].id.str(), i);
  std::vector<bool> keep(out.jobs.size(), true);
  for (const JobGraphProblem& problem : CheckJobGraph(out.jobs)) {
    const Job& job = out.jobs[problem.job];
    const JobMarks& where = marks[problem.job];
    std::string message = problem.message;
    const std::string& target = job.depends_on[problem.dependency].job.str();
    if (problem.kind == JobGraphProblem::Kind::kUnknownJob && broken_ids.count(target)) {
      message = "job '" + job.id.str() + "' depends on job '" + target + "', which has errors";
    }
    out.errors.push_back(At(job.source_file, where.dependencies[problem.dependency],
                            where.dependency_keys[problem.dependency], std::move(message)));
    keep[problem.job] = false;
    for (const JobId& member : problem.cycle) keep[index.at(member.str())] = false;
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < out.jobs.size(); ++i) {
      if (!keep[i]) continue;
      const Job& job = out.jobs[i];
      for (size_t d = 0; d < job.depends_on.size(); ++d) {
        auto it = index.find(job.depends_on[d].job.str());
        if (it == index.end() || keep[it->second]) continue;
        out.errors.push_back(At(job.source_file, marks[i].dependencies[d],
                                marks[i].dependency_keys[d],
                                "job '" + job.id.str() + "' depends on job '" +
                                    job.depends_on[d].job.str() + "', which has errors"));
        keep[i] = false;
        changed = true;
        break;
      }
    }
  }
  std::vector<Job> jobs;
  for (size_t i = 0; i < out.jobs.size(); ++i) {
    if (keep[i]) jobs.push_back(std::move(out.jobs[i]));
  }
  out.jobs = std::move(jobs);
}

}  // namespace

void LoadJobFile(const std::string& path, const JobLoaderOptions& options, LoadedJobs& out) {
  const LoadContext context(options);
  FileResult result;
  LoadFileInto(path, context, result);
  std::set<std::string> warned;
  Merge(std::move(result), out, nullptr, nullptr, warned);
}

LoadedJobs LoadJobFromString(const std::string& yaml, const std::string& name,
                             const JobLoaderOptions& options) {
  LoadedJobs out;
  const LoadContext context(options);
  FileResult result;
  result.part.files = 1;
  try {
    ParseInto(YAML::Load(yaml), name, context, result);
  } catch (const YAML::Exception& e) {
    AddYamlException(name, e, result.part);
  }
  std::set<std::string> warned;
  Merge(std::move(result), out, nullptr, nullptr, warned);
  return out;
}

LoadedJobs LoadJobDirectory(const std::string& dir, const JobLoaderOptions& options) {
  LoadedJobs out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    out.errors.push_back({dir, 0, 0, "", "not a directory of job files"});
    return out;
  }
  std::vector<std::string> files;
  for (auto it = std::filesystem::recursive_directory_iterator(
           dir, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && IsJobFile(it->path())) files.push_back(it->path().string());
  }
  if (ec) out.errors.push_back({dir, 0, 0, "", ec.message()});
  std::sort(files.begin(), files.end());

  const LoadContext context(options);
  std::vector<FileResult> results;
  LoadFiles(files, context, results);
  std::vector<JobMarks> marks;  // parallel to out.jobs
  std::vector<Declaration> declarations;
  std::set<std::string> warned;
  for (FileResult& result : results) Merge(std::move(result), out, &marks, &declarations, warned);
  std::set<std::string> broken_ids;
  for (const Declaration& declaration : declarations) {
    if (!declaration.job) broken_ids.insert(declaration.id);
  }
  RemoveDuplicateIds(declarations, out, marks);
  CheckJobDependencies(broken_ids, out, marks);
  std::sort(out.jobs.begin(), out.jobs.end(),
            [](const Job& a, const Job& b) { return a.id < b.id; });
  return out;
}

}  // namespace petit::host
