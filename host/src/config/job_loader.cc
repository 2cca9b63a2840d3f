#include "config/job_loader.h"

#include <cstdint>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "config/yaml_support.h"
#include "petit/core/json.h"
#include "petit/core/resources.h"
#include "petit/core/template.h"

namespace petit::host {
namespace {

constexpr int64_t kMaxRetries = 1000;
constexpr int64_t kMaxDelaySecs = 7 * 24 * 3600;
constexpr int64_t kMaxTimeoutSecs = 30LL * 24 * 3600;
constexpr int64_t kMaxJobConcurrency = 4096;

const std::vector<std::string_view> kJobKeys = {
    "id",     "name",  "description",     "schedule",   "enabled",
    "config", "tasks", "max_concurrency", "depends_on", "max_parallel_tasks"};
const std::vector<std::string_view> kCommonTaskKeys = {"id",           "name",      "type",
                                                       "depends_on",   "condition", "retry",
                                                       "timeout_secs", "priority",  "resources"};
const std::vector<std::string_view> kCommandKeys = {"command", "args", "working_dir", "environment",
                                                    "shell"};
const std::vector<std::string_view> kPythonKeys = {"script", "inline", "working_dir",
                                                   "environment"};
const std::vector<std::string_view> kCustomKeys = {"handler", "config"};
const std::vector<std::string_view> kPluginKeys = {"params"};
const std::vector<std::string_view> kRetryKeys = {
    "max_attempts",   "delay_secs", "condition", "backoff_multiplier",
    "max_delay_secs", "jitter",     "exit_codes"};

std::vector<std::string_view> Concat(const std::vector<std::string_view>& a,
                                     const std::vector<std::string_view>& b) {
  std::vector<std::string_view> all = a;
  all.insert(all.end(), b.begin(), b.end());
  return all;
}

struct TaskNodes {
  TaskSpec spec;
  YAML::Node node;
  std::vector<YAML::Node> dependency_nodes;  // parallel to spec.depends_on
};

class JobParser {
 public:
  JobParser(const YAML::Node& root, YamlErrors& errors, const JobLoaderOptions& options)
      : root_(root), errors_(errors), options_(options) {}

  std::optional<Job> Parse() {
    if (!root_.IsMap()) {
      errors_.AddAt(root_, "a job file must be a mapping with at least 'id' and 'tasks'");
      return std::nullopt;
    }
    CheckKeys(root_, kJobKeys, "job", errors_);
    Job job;
    if (auto id = Required(root_, "id", "job")) {
      Status valid = ValidateName(*id, "job id");
      if (!valid.ok()) errors_.AddAt(root_["id"], valid.message());
      job.id = JobId(*id);
    }
    where_ = job.id.empty() ? std::string("job") : "job '" + job.id.str() + "'";
    if (root_["name"]) {
      if (auto name = ReadString(root_["name"], "name", errors_)) job.name = *name;
    }
    if (job.name.empty()) job.name = job.id.str();
    if (root_["description"]) {
      if (auto text = ReadString(root_["description"], "description", errors_)) {
        job.description = *text;
      }
    }
    if (root_["enabled"])
      job.enabled = ReadBool(root_["enabled"], "enabled", errors_).value_or(true);
    if (const YAML::Node node = root_["max_parallel_tasks"]) {
      if (auto n = ReadInt(node, "max_parallel_tasks", 1, kMaxJobConcurrency, errors_)) {
        job.max_parallel_tasks = static_cast<uint32_t>(*n);
      }
    }
    if (const YAML::Node node = root_["max_concurrency"]) {
      // Max active runs of the job (the original's meaning); enforced by the scheduler.
      ReadInt(node, "max_concurrency", 1, kMaxJobConcurrency, errors_);
    }
    for (const char* key : {"schedule", "depends_on"}) {
      // Accepted so files written for the original Petit load; the scheduler that honours them
      // is not part of this version, so say so rather than ignore them silently.
      if (root_[key]) {
        warnings_.push_back({root_[key].Mark(), "'" + std::string(key) + "' of " + where_ +
                                                    " is not enforced yet: `petit trigger` runs "
                                                    "the job on demand only"});
      }
    }
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
        if (end > start) errors_.AddAt(root_["tasks"], message.substr(start, end - start));
        start = end + 1;
      }
      return std::nullopt;
    }
    CheckTemplateAncestry(job);
    if (!errors_.empty()) return std::nullopt;
    return job;
  }

 private:
  std::optional<std::string> Required(const YAML::Node& map, const char* key,
                                      std::string_view where) {
    const YAML::Node node = map[key];
    if (!node) {
      errors_.AddAt(map, std::string(where) + " is missing required key '" + key + "'");
      return std::nullopt;
    }
    return ReadString(node, key, errors_);
  }

  void ParseConfig(Job& job) {
    const YAML::Node node = root_["config"];
    if (!node) return;
    if (!node.IsMap()) {
      errors_.AddAt(node, "'config' must be a mapping of names to values");
      return;
    }
    auto config = std::make_shared<ValueMap>();
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar()) {
        errors_.AddAt(it->first, "config keys must be strings");
        continue;
      }
      config->insert_or_assign(it->first.Scalar(), YamlToConfigValue(it->second));
    }
    job.config = std::move(config);
  }

  void ParseTasks(Job& job) {
    const YAML::Node tasks = root_["tasks"];
    if (!tasks) {
      errors_.AddAt(root_, where_ + " is missing required key 'tasks'");
      return;
    }
    if (!tasks.IsSequence() || tasks.size() == 0) {
      errors_.AddAt(tasks, "'tasks' must be a non-empty list of tasks");
      return;
    }
    std::vector<TaskNodes> parsed;
    std::map<std::string, YAML::Node> seen;
    for (const YAML::Node& node : tasks) {
      std::optional<TaskNodes> task = ParseTask(node);
      if (!task) continue;
      const std::string& id = task->spec.id.str();
      if (auto [it, inserted] = seen.emplace(id, node["id"]); !inserted) {
        errors_.AddAt(node["id"], "duplicate task id '" + id + "' in " + where_ +
                                      " (first at line " +
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
        std::string who = "task '" + task.spec.id.str() + "'";
        if (dep == task.spec.id.str()) {
          errors_.AddAt(at, who + " depends on itself");
        } else if (!seen.count(dep)) {
          std::vector<std::string_view> ids;
          for (const auto& [id, unused] : seen) ids.push_back(id);
          std::string message = who + " depends on unknown task '" + dep + "'";
          if (auto close = ClosestMatch(dep, ids)) message += " (did you mean '" + *close + "'?)";
          errors_.AddAt(at, message);
        } else if (!listed.insert(dep).second) {
          errors_.AddAt(at, who + " lists dependency '" + dep + "' twice");
        }
      }
    }
    for (const TaskNodes& task : parsed) {
      task_marks_[task.spec.id.str()] = task.node.Mark();
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
      errors_.AddAt(task.node, who + ": " + syntax.message());
      return;
    }
    for (const std::string& ref : ReferencedTasks(params)) {
      if (!ids.count(ref)) {
        errors_.AddAt(task.node, who + " reads outputs of unknown task '" + ref + "'");
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
        errors_.Add(task_marks_[spec.id.str()],
                    "task '" + spec.id.str() + "' reads outputs of '" + ref +
                        "', which is not upstream of it (add it to depends_on)");
      }
    }
  }

  std::optional<TaskNodes> ParseTask(const YAML::Node& node) {
    if (!node.IsMap()) {
      errors_.AddAt(node, "each task must be a mapping with at least 'id' and 'type'");
      return std::nullopt;
    }
    TaskNodes task;
    task.node = node;
    auto id = Required(node, "id", "task");
    if (!id) return std::nullopt;
    Status valid = ValidateName(*id, "task id");
    if (!valid.ok()) errors_.AddAt(node["id"], valid.message());
    TaskSpec& spec = task.spec;
    spec.id = TaskId(*id);
    std::string who = "task '" + *id + "'";
    auto type = Required(node, "type", who);
    if (!type) return std::nullopt;

    if (*type == "command") {
      CheckKeys(node, Concat(kCommonTaskKeys, kCommandKeys), who, errors_);
      ParseCommand(node, spec, who);
    } else if (*type == "python") {
      CheckKeys(node, Concat(kCommonTaskKeys, kPythonKeys), who, errors_);
      ParsePython(node, spec, who);
    } else if (*type == "custom") {
      CheckKeys(node, Concat(kCommonTaskKeys, kCustomKeys), who, errors_);
      if (auto handler = Required(node, "handler", who)) {
        spec.type = *handler;
        CheckType(node["handler"], spec.type);
      }
      spec.params_json = ParamsObject(node["config"], "config");
    } else {
      CheckKeys(node, Concat(kCommonTaskKeys, kPluginKeys), who, errors_);
      spec.type = *type;
      CheckType(node["type"], spec.type);
      spec.params_json = ParamsObject(node["params"], "params");
    }

    if (node["name"]) spec.name = ReadString(node["name"], "name", errors_).value_or("");
    if (spec.name.empty()) spec.name = spec.id.str();
    if (const YAML::Node deps = node["depends_on"]) ParseDependsOn(deps, task);
    if (const YAML::Node cond = node["condition"]) {
      if (auto text = ReadString(cond, "condition", errors_)) {
        Result<TriggerRule> rule = ParseTriggerRule(*text);
        if (rule.ok()) {
          spec.trigger = *rule;
        } else {
          errors_.AddAt(cond, rule.status().message());
        }
      }
    }
    if (const YAML::Node retry = node["retry"]) ParseRetry(retry, spec, who);
    if (const YAML::Node timeout = node["timeout_secs"]) {
      if (auto secs = ReadNumber(timeout, "timeout_secs", errors_)) {
        if (*secs <= 0 || *secs > kMaxTimeoutSecs) {
          errors_.AddAt(timeout, "'timeout_secs' must be greater than 0 and at most " +
                                     std::to_string(kMaxTimeoutSecs));
        } else {
          spec.timeout = std::chrono::milliseconds(static_cast<int64_t>(*secs * 1000.0));
        }
      }
    }
    if (const YAML::Node resources = node["resources"]) ParseResources(resources, spec);
    if (const YAML::Node priority = node["priority"]) {
      if (auto p = ReadInt(priority, "priority", -1000000, 1000000, errors_)) {
        spec.priority = static_cast<int32_t>(*p);
      }
    }
    return task;
  }

  // resources: {gpu: 1, db: 2, cpu_slots: 2, memory_mb: 512}; the last two are the host's system
  // resources, the rest name pools of petit.yaml.
  void ParseResources(const YAML::Node& node, TaskSpec& spec) {
    if (!node.IsMap()) {
      errors_.AddAt(node, "'resources' must map pool names to slot counts, e.g. {gpu: 1}");
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
        errors_.AddAt(name, valid.message());
      } else {
        spec.resources.slots[key] = static_cast<uint32_t>(std::min<int64_t>(*amount, UINT32_MAX));
      }
    }
  }

  void CheckType(const YAML::Node& at, const std::string& type) {
    const auto& known = options_.known_types;
    if (known.empty() || std::find(known.begin(), known.end(), type) != known.end()) return;
    std::vector<std::string_view> candidates(known.begin(), known.end());
    candidates.push_back("python");
    candidates.push_back("custom");
    std::string message = "unknown task type '" + type + "'";
    if (auto close = ClosestMatch(type, candidates)) {
      message += " (did you mean '" + *close + "'?)";
    } else {
      message += "; `petit plugins` lists the task types this host has";
    }
    errors_.AddAt(at, message);
  }

  std::string ParamsObject(const YAML::Node& node, std::string_view key) {
    if (!node || node.IsNull()) return "{}";
    if (!node.IsMap()) {
      errors_.AddAt(node, "'" + std::string(key) + "' must be a mapping of parameters");
      return "{}";
    }
    return YamlToJson(node);
  }

  // Appends "environment": {...} to a params object being built.
  void AppendEnvironment(const YAML::Node& node, std::string& json) {
    if (!node) return;
    if (!node.IsMap()) {
      errors_.AddAt(node, "'environment' must be a mapping of variable names to values");
      return;
    }
    json += ",\"environment\":{";
    bool first = true;
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar() || !it->second.IsScalar()) {
        errors_.AddAt(it->first, "environment variables must be name: value pairs of strings");
        continue;
      }
      const std::string& name = it->first.Scalar();
      if (name.empty() || name.find('=') != std::string::npos) {
        errors_.AddAt(it->first, "invalid environment variable name '" + name + "'");
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

  void ParseCommand(const YAML::Node& node, TaskSpec& spec, const std::string& who) {
    spec.type = "command";
    std::string json = "{";
    const YAML::Node command = node["command"];
    const YAML::Node shell = node["shell"];
    if (command && shell) {
      errors_.AddAt(shell, who + " has both 'command' and 'shell'; use one");
    } else if (!command && !shell) {
      errors_.AddAt(node, who + " of type command needs 'command' (or 'shell')");
    }
    if (command) {
      if (auto text = ReadString(command, "command", errors_)) {
        if (text->empty()) errors_.AddAt(command, "'command' must not be empty");
        json += "\"command\":";
        AppendJsonString(json, *text);
      }
    } else if (shell) {
      if (auto text = ReadString(shell, "shell", errors_)) {
        json += "\"shell\":";
        AppendJsonString(json, *text);
      }
    }
    if (const YAML::Node args = node["args"]) {
      if (auto list = ReadStringList(args, "args", errors_)) {
        json += ",\"args\":[";
        for (size_t i = 0; i < list->size(); ++i) {
          if (i != 0) json.push_back(',');
          AppendJsonString(json, (*list)[i]);
        }
        json += "]";
      }
    }
    AppendWorkingDir(node["working_dir"], json);
    AppendEnvironment(node["environment"], json);
    json += "}";
    spec.params_json = std::move(json);
  }

  void ParsePython(const YAML::Node& node, TaskSpec& spec, const std::string& who) {
    spec.type = "command";
    auto script = Required(node, "script", who);
    bool inline_code = false;
    if (node["inline"]) inline_code = ReadBool(node["inline"], "inline", errors_).value_or(false);
    std::string json = "{\"command\":\"python3\",\"args\":[";
    if (inline_code) json += "\"-c\",";
    AppendJsonString(json, script.value_or(""));
    json += "]";
    AppendWorkingDir(node["working_dir"], json);
    AppendEnvironment(node["environment"], json);
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
      errors_.AddAt(deps, "'depends_on' must be a task id or a list of task ids");
      return;
    }
    for (const YAML::Node& dep : deps) {
      if (!dep.IsScalar()) {
        errors_.AddAt(dep, "items of 'depends_on' must be task ids");
        continue;
      }
      task.spec.depends_on.emplace_back(dep.Scalar());
      task.dependency_nodes.push_back(dep);
    }
  }

  void ParseRetry(const YAML::Node& node, TaskSpec& spec, const std::string& who) {
    if (!node.IsMap()) {
      errors_.AddAt(node, "'retry' must be a mapping (max_attempts, delay_secs, condition)");
      return;
    }
    CheckKeys(node, kRetryKeys, "retry of " + who, errors_);
    RetryPolicy& retry = spec.retry;
    if (const YAML::Node n = node["max_attempts"]) {
      // The original's max_attempts counts retries after the first attempt.
      if (auto v = ReadInt(n, "max_attempts", 0, kMaxRetries, errors_)) {
        retry.max_retries = static_cast<uint32_t>(*v);
      }
    }
    if (const YAML::Node n = node["delay_secs"]) {
      if (auto v = ReadNumber(n, "delay_secs", errors_)) {
        if (*v < 0 || *v > kMaxDelaySecs) {
          errors_.AddAt(n, "'delay_secs' must be between 0 and " + std::to_string(kMaxDelaySecs));
        } else {
          retry.delay = std::chrono::milliseconds(static_cast<int64_t>(*v * 1000.0));
        }
      }
    }
    if (const YAML::Node n = node["backoff_multiplier"]) {
      if (auto v = ReadNumber(n, "backoff_multiplier", errors_)) retry.multiplier = *v;
    }
    if (const YAML::Node n = node["max_delay_secs"]) {
      if (auto v = ReadNumber(n, "max_delay_secs", errors_)) {
        retry.max_delay = std::chrono::milliseconds(static_cast<int64_t>(*v * 1000.0));
      }
    }
    if (const YAML::Node n = node["jitter"]) {
      if (auto v = ReadNumber(n, "jitter", errors_)) retry.jitter = *v;
    }
    if (const YAML::Node n = node["exit_codes"]) {
      if (!n.IsSequence()) {
        errors_.AddAt(n, "'exit_codes' must be a list of integers");
      } else {
        for (const YAML::Node& code : n) {
          if (auto v = ReadInt(code, "exit_codes", 0, 255, errors_)) {
            retry.exit_codes.push_back(static_cast<int32_t>(*v));
          }
        }
        retry.condition = RetryCondition::kOnExitCodes;
      }
    }
    if (const YAML::Node n = node["condition"]) {
      if (auto text = ReadString(n, "condition", errors_)) {
        Result<RetryCondition> condition = ParseRetryCondition(*text);
        if (condition.ok()) {
          retry.condition = *condition;
        } else {
          errors_.AddAt(n, condition.status().message());
        }
      }
    }
    // A long fixed delay from an original-format file must not be cut to the default backoff cap.
    if (!node["max_delay_secs"] && retry.delay > retry.max_delay) retry.max_delay = retry.delay;
    Status valid = retry.Validate();
    if (!valid.ok()) errors_.AddAt(node, "retry of " + who + ": " + valid.message());
  }

 public:
  std::vector<std::pair<YAML::Mark, std::string>> warnings_;

 private:
  const YAML::Node& root_;
  YamlErrors& errors_;
  const JobLoaderOptions& options_;
  std::string where_ = "job";
  std::map<std::string, YAML::Mark> task_marks_;
};

void ParseInto(const YAML::Node& root, YamlErrors& errors, const JobLoaderOptions& options,
               const std::string& file, LoadedJobs& out) {
  JobParser parser(root, errors, options);
  std::optional<Job> job = parser.Parse();
  YamlErrors warnings(file);
  for (const auto& [mark, message] : parser.warnings_) warnings.Add(mark, message);
  out.warnings.insert(out.warnings.end(), warnings.messages().begin(), warnings.messages().end());
  if (job) {
    job->source_file = file;
    out.jobs.push_back(std::move(*job));
  }
}

void Collect(const YamlErrors& errors, LoadedJobs& out) {
  out.errors.insert(out.errors.end(), errors.messages().begin(), errors.messages().end());
}

bool IsJobFile(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  if (ext != ".yaml" && ext != ".yml") return false;
  std::string stem = path.stem().string();
  return stem != "petit";
}

}  // namespace

void LoadJobFile(const std::string& path, const JobLoaderOptions& options, LoadedJobs& out) {
  ++out.files;
  YamlErrors errors(path);
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    out.errors.push_back(path + ": cannot read the file");
    return;
  } catch (const YAML::Exception& e) {
    errors.Add(e.mark, e.msg);
    Collect(errors, out);
    return;
  }
  ParseInto(root, errors, options, path, out);
  Collect(errors, out);
}

LoadedJobs LoadJobFromString(const std::string& yaml, const std::string& name,
                             const JobLoaderOptions& options) {
  LoadedJobs out;
  out.files = 1;
  YamlErrors errors(name);
  try {
    YAML::Node root = YAML::Load(yaml);
    ParseInto(root, errors, options, name, out);
  } catch (const YAML::Exception& e) {
    errors.Add(e.mark, e.msg);
  }
  Collect(errors, out);
  return out;
}

LoadedJobs LoadJobDirectory(const std::string& dir, const JobLoaderOptions& options) {
  LoadedJobs out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    out.errors.push_back(dir + ": not a directory of job files");
    return out;
  }
  std::vector<std::string> files;
  for (auto it = std::filesystem::recursive_directory_iterator(
           dir, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && IsJobFile(it->path())) files.push_back(it->path().string());
  }
  if (ec) out.errors.push_back(dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  for (const std::string& file : files) LoadJobFile(file, options, out);

  std::map<std::string, std::string> file_of_id;
  std::vector<Job> unique;
  for (Job& job : out.jobs) {
    auto [it, inserted] = file_of_id.emplace(job.id.str(), job.source_file);
    if (!inserted) {
      out.errors.push_back(job.source_file + ": job id '" + job.id.str() + "' is already used by " +
                           it->second);
      continue;
    }
    unique.push_back(std::move(job));
  }
  std::sort(unique.begin(), unique.end(), [](const Job& a, const Job& b) { return a.id < b.id; });
  out.jobs = std::move(unique);
  return out;
}

}  // namespace petit::host
