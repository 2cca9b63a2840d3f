#include "config/job_parser.h"

#include <cstdint>

#include <algorithm>
#include <map>
#include <set>
#include <span>
#include <string_view>
#include <unordered_set>

#include "config/task_parser.h"
#include "config/yaml_limits.h"
#include "config/yaml_support.h"
#include "petit/core/schedule.h"
#include "petit/core/template.h"

namespace petit::host::internal {
namespace {

constexpr int64_t kMaxJobConcurrency = 4096;
constexpr int64_t kMaxCatchUpLimit = 100000;
constexpr int64_t kMaxWindowSecs = 10LL * 366 * 24 * 3600;

// What `api_visible` may list: the values the HTTP API hides unless the job shows them.
const std::vector<std::string_view> kApiVisibleValues = {"config", "environment"};

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

class JobParser {
 public:
  JobParser(const YamlNode& root, YamlErrors& errors, YamlErrors& warnings,
            const LoadContext& context)
      : root_(root),
        fields_(root),
        errors_(errors),
        context_(context),
        tasks_(errors, warnings, context) {}

  std::optional<Job> Parse() {
    if (!root_.IsMap()) {
      errors_.AddAt(root_, "", "a job file must be a mapping with at least 'id' and 'tasks'");
      return std::nullopt;
    }
    CheckKeys(root_, KeysOf(KeyLevel::kJob), "job", errors_, KeyLevel::kJob);
    Job job;
    ParseIdentity(job);
    ParseRunPolicy(job);
    ParseSchedule(job);
    ParseCatchUp(job);
    ParseJobDependencies(job);
    ParseConfig(job);
    ParseApiVisible(job);
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
  const std::vector<std::string>& warning_types() const { return tasks_.warning_types(); }

 private:
  template <typename Enum>
  std::optional<Enum> ReadChoice(const YamlNode& node, std::string_view key, std::string_view what,
                                 const Choices<Enum>& choices) {
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
    if (auto guess = GuessName(*text, names)) message += "; did you mean '" + guess->name + "'?";
    errors_.AddAt(node, key, message);
    return std::nullopt;
  }

  void ParseIdentity(Job& job) {
    if (auto id = ReadRequiredString(fields_, root_, "id", "job", errors_)) {
      Status valid = ValidateName(*id, "job id");
      if (!valid.ok()) errors_.AddAt(fields_["id"], "id", valid.message());
      job.id = JobId(*id);
      declared_id_ = *id;
      marks_.id = fields_["id"].Mark();
    }
    where_ = job.id.empty() ? std::string("job") : "job '" + job.id.str() + "'";
    if (const YamlNode name = fields_["name"]) {
      if (auto text = ReadString(name, "name", errors_)) job.name = *text;
    }
    if (job.name.empty()) job.name = job.id.str();
    if (const YamlNode description = fields_["description"]) {
      if (auto text = ReadString(description, "description", errors_)) job.description = *text;
    }
    if (const YamlNode enabled = fields_["enabled"]) {
      job.enabled = ReadBool(enabled, "enabled", errors_).value_or(true);
    }
  }

  void ParseRunPolicy(Job& job) {
    if (const YamlNode node = fields_["max_parallel_tasks"]) {
      if (auto n = ReadInt(node, "max_parallel_tasks", 1, kMaxJobConcurrency, errors_)) {
        job.max_parallel_tasks = static_cast<uint32_t>(*n);
      }
    }
    const YamlNode concurrency = fields_["max_concurrency"];
    const YamlNode active = fields_["max_active_runs"];
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
    if (const YamlNode node = fields_["overlap"]) {
      if (auto policy = ReadChoice(node, "overlap", "overlap policy", kOverlapChoices)) {
        job.overlap = *policy;
      }
    }
  }

  void ParseSchedule(Job& job) {
    const YamlNode node = fields_["schedule"];
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
      CheckKeys(node, KeysOf(KeyLevel::kSchedule), "schedule of " + where_, errors_,
                KeyLevel::kSchedule);
      if (!fields["cron"]) {
        errors_.AddAt(node, "cron", "schedule of " + where_ + " is missing required key 'cron'");
        return;
      }
      if (const YamlNode zone_node = fields["timezone"]) {
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

  void ParseScheduleExpression(const YamlNode& expression, const std::string& key,
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
    const YamlNode policy = fields_["catch_up"];
    const YamlNode limit = fields_["catch_up_limit"];
    if (policy) {
      if (auto value = ReadChoice(policy, "catch_up", "catch-up policy", kCatchUpChoices)) {
        job.catch_up = *value;
        const YamlNode schedule = fields_["schedule"];
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
    const YamlNode deps = fields_["depends_on"];
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
    for (const YamlNode& item : deps) {
      ParseJobDependency(item, "depends_on[" + std::to_string(index++) + "]", job);
    }
  }

  void ParseJobDependency(const YamlNode& item, const std::string& key, Job& job) {
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
    const YamlNode job_node = fields["job"];
    const YamlNode alias = fields["job_id"];
    {
      YamlErrors::KeyScope scope(errors_, key);
      CheckKeys(item, KeysOf(KeyLevel::kJobDependency), "a dependency of " + where_, errors_,
                KeyLevel::kJobDependency);
      if (job_node && alias) {
        errors_.AddAt(alias, "job_id", "'job' and 'job_id' name the same thing; give one");
      }
      if (!job_node && !alias) {
        errors_.AddAt(item, "job", "a dependency of " + where_ + " is missing required key 'job'");
        return;
      }
      if (const YamlNode condition = fields["condition"]) {
        if (!ParseDependencyCondition(condition, dependency)) return;
      }
    }
    AddJobDependency(job_node ? job_node : alias, key + (job_node ? ".job" : ".job_id"), dependency,
                     job);
  }

  void AddJobDependency(const YamlNode& id_node, const std::string& key, JobDependency& dependency,
                        Job& job) {
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
  bool ParseDependencyCondition(const YamlNode& node, JobDependency& dependency) {
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
    const YamlNode window = node["within_window"];
    YamlErrors::KeyScope window_scope(errors_, "within_window");
    if (!window.IsMap()) {
      errors_.AddAt(window, "", "'within_window' must be a mapping {seconds: N}");
      return false;
    }
    CheckKeys(window, {"seconds"}, "within_window", errors_);
    const YamlNode seconds = window["seconds"];
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
    const YamlNode node = fields_["config"];
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

  // api_visible: [config, environment]: the values the HTTP API serves instead of "***".
  void ParseApiVisible(Job& job) {
    const YamlNode node = fields_["api_visible"];
    if (!node || node.IsNull()) return;
    std::optional<std::vector<std::string>> names = ReadStringList(node, "api_visible", errors_);
    if (!names) return;
    for (size_t i = 0; i < names->size(); ++i) {
      const std::string& name = (*names)[i];
      if (name == "config") {
        job.api_shows_config = true;
      } else if (name == "environment") {
        job.api_shows_environment = true;
      } else {
        std::string message =
            "unknown api_visible value '" + name + "' (expected config or environment)";
        if (auto guess = GuessName(name, kApiVisibleValues)) {
          message += "; did you mean '" + guess->name + "'?";
        }
        errors_.AddAt(node[i], "api_visible[" + std::to_string(i) + "]", message);
      }
    }
  }

  void ParseTasks(Job& job) {
    const YamlNode tasks = fields_["tasks"];
    if (!tasks) {
      errors_.AddAt(root_, "tasks", where_ + " is missing required key 'tasks'");
      return;
    }
    if (!tasks.IsSequence() || tasks.size() == 0) {
      std::string message = "'tasks' must be a non-empty list of tasks";
      // Dagu's and GitHub's steps keyed by name: say how a list of tasks is written.
      if (tasks.IsMap() && tasks.size() > 0) {
        message += ", not a mapping: write each task as an item, `- id: " +
                   (tasks.begin()->first.IsScalar() ? tasks.begin()->first.Scalar().substr(0, 64)
                                                    : std::string("extract")) +
                   "` followed by its keys";
      }
      errors_.AddAt(tasks, "tasks", message);
      return;
    }
    if (tasks.size() > kMaxTasksPerJob) {
      errors_.AddAt(tasks, "tasks",
                    "a job holds at most " + std::to_string(kMaxTasksPerJob) +
                        " tasks, and this one has " + std::to_string(tasks.size()));
      return;
    }
    // Each task goes into the Dag as soon as it is parsed, and only where it is written is kept
    // beside it (places_[i] is the Dag's task i), so a large job is held once.
    job.dag = Dag(DagId(job.id.str()));  // named after its job, as errors about it say
    job.dag.Reserve(tasks.size());
    places_.reserve(tasks.size());
    size_t index = 0;
    // Ids of tasks refused for an error of their own: a dependency on one is not a second error.
    std::unordered_set<std::string> refused_ids;
    for (const YamlNode& node : tasks) {
      std::optional<ParsedTask> task = tasks_.Parse(node, index++);
      if (!task) {
        if (node.IsMap() && node["id"] && node["id"].IsScalar()) {
          refused_ids.insert(node["id"].Scalar());
        }
        continue;
      }
      if (std::optional<Dag::Index> first = job.dag.IndexOf(task->spec.id)) {
        errors_.AddAt(node["id"], task->place.key + ".id",
                      "duplicate task id '" + task->spec.id.str() + "' in " + where_ +
                          " (first at line " +
                          std::to_string(places_[*first].node["id"].Mark().line + 1) + ")");
        continue;
      }
      places_.push_back(std::move(task->place));
      job.dag.AddTask(std::move(task->spec));
    }
    // Dependencies may name tasks anywhere in the file, so they are checked once all are known.
    std::vector<std::string_view> ids;  // sorted, made at the first unknown name
    std::optional<NameGuesser> guesser;
    size_t id_bytes = 0;
    // A guess reads every task id: past a budget (and past kMaxHintedProblems problems) unknown
    // names get none, so that a generated file naming 13,000 unknown tasks among 13,000 costs a
    // guess for a few hundred of them, not 13,000 (25 s of edit distances).
    size_t guess_budget = kGuessBudgetBytes;
    auto unknown_task = [&](const std::string& name) -> std::string {
      if (!guesser) {
        for (Dag::Index i = 0; i < job.dag.size(); ++i) {
          ids.push_back(job.dag.task(i).id.str());
          id_bytes += ids.back().size();
        }
        std::sort(ids.begin(), ids.end());
        guesser.emplace(ids);
      }
      const size_t cost = id_bytes + ids.size() * name.size();
      if (errors_.size() >= kMaxHintedProblems || cost > guess_budget) return "";
      guess_budget -= cost;
      if (auto guess = guesser->Guess(name)) return " (did you mean '" + guess->name + "'?)";
      return KnownTasks(ids);
    };
    constexpr Dag::Index kNone = UINT32_MAX;
    std::vector<Dag::Index> listed_by(job.dag.size(), kNone);  // task -> last task listing it
    for (Dag::Index v = 0; v < job.dag.size(); ++v) {
      const TaskSpec& spec = job.dag.task(v);
      const TaskPlace& place = places_[v];
      for (size_t i = 0; i < spec.depends_on.size(); ++i) {
        const TaskId& dep = spec.depends_on[i];
        std::optional<Dag::Index> u;
        if (dep != spec.id) u = job.dag.IndexOf(dep);
        if (u && listed_by[*u] != v) {
          listed_by[*u] = v;
          continue;
        }
        const YamlNode at = place.DependencyNode(i);
        const std::string key = place.key + ".depends_on";
        const std::string who = "task '" + spec.id.str() + "'";
        if (dep == spec.id) {
          errors_.AddAt(at, key, who + " depends on itself");
        } else if (!u && refused_ids.contains(dep.str())) {
          continue;
        } else if (!u) {
          errors_.AddAt(
              at, key,
              who + " depends on unknown task '" + dep.str() + "'" + unknown_task(dep.str()));
        } else {
          errors_.AddAt(at, key, who + " lists dependency '" + dep.str() + "' twice");
        }
      }
    }
    for (Dag::Index v = 0; v < job.dag.size(); ++v) {
      CheckTemplateSyntax(job.dag, v, unknown_task);
    }
  }

  // A template must parse and may only read outputs of tasks that exist; whether they are
  // upstream is checked once the graph is known to be acyclic (CheckTemplateAncestry).
  template <typename UnknownTask>
  void CheckTemplateSyntax(const Dag& dag, Dag::Index v, UnknownTask& unknown_task) {
    const TaskSpec& spec = dag.task(v);
    const TaskPlace& place = places_[v];
    const std::string& params = spec.params_json;
    if (!HasTemplates(params)) return;
    std::string who = "task '" + spec.id.str() + "'";
    if (Status syntax = CheckTemplates(params); !syntax.ok()) {
      // At the value that holds the template, quoted as written rather than as the plugin's JSON.
      std::string path;
      const YamlNode at = FindScalar(
          place.node, [](const std::string& text) { return !CheckTemplates(text).ok(); }, path, 0);
      if (at) {
        errors_.AddAt(at, place.key + path, who + ": " + CheckTemplates(at.Scalar()).message());
      } else {
        errors_.AddAt(place.node, place.key, who + ": " + syntax.message());
      }
      return;
    }
    for (const std::string& ref : ReferencedTasks(params)) {
      if (dag.IndexOf(TaskId(ref))) continue;
      // At the value that holds the template, where there is one to point at.
      std::string path;
      const YamlNode at = FindScalar(
          place.node,
          [&ref](const std::string& text) {
            const std::vector<std::string> refs = ReferencedTasks(text);
            return std::find(refs.begin(), refs.end(), ref) != refs.end();
          },
          path, 0);
      errors_.AddAt(at ? at : place.node, at ? place.key + path : place.key,
                    who + " reads outputs of unknown task '" + ref + "'" + unknown_task(ref));
    }
  }

  // The first scalar under `node` for which `wanted(text)` holds, its path from `node` (".args[1]")
  // in `path`; a null node when there is none.
  template <typename Wanted>
  static YamlNode FindScalar(const YamlNode& node, const Wanted& wanted, std::string& path,
                             size_t depth) {
    if (depth > kMaxYamlDepth) return YamlNode();
    if (node.IsScalar()) return wanted(node.Scalar()) ? node : YamlNode();
    size_t index = 0;
    for (auto it = node.begin(); it != node.end(); ++it, ++index) {
      const bool map = node.IsMap();
      const YamlNode child = map ? it->second : *it;
      const std::string segment = map ? "." + (it->first.IsScalar() ? it->first.Scalar() : "?")
                                      : "[" + std::to_string(index) + "]";
      if (YamlNode found = FindScalar(child, wanted, path, depth + 1)) {
        path.insert(0, segment);
        return found;
      }
    }
    return YamlNode();
  }

  // The bytes of task ids that "did you mean" may read for one file's unknown task names, in all:
  // a few tens of milliseconds of guessing here, whatever the file.
  static constexpr size_t kGuessBudgetBytes = size_t{1} << 20;

  // " (the job's tasks are a, b, c)" for a job of a few short-named tasks, so the right name
  // is in sight.
  static std::string KnownTasks(const std::vector<std::string_view>& ids) {
    constexpr size_t kListed = 10;
    constexpr size_t kListedBytes = 200;
    if (ids.empty() || ids.size() > kListed) return "";
    size_t bytes = 0;
    for (std::string_view id : ids) bytes += id.size();
    if (bytes > kListedBytes) return "";
    std::string text = " (the job's tasks are ";
    for (size_t i = 0; i < ids.size(); ++i)
      text += std::string(i == 0 ? "" : ", ") + std::string(ids[i]);
    return text + ")";
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
        errors_.Add(places_[i].node.Mark(), places_[i].key,
                    "task '" + spec.id.str() + "' reads outputs of '" + ref +
                        "', which is not upstream of it (add it to depends_on)");
      }
    }
  }

  const YamlNode& root_;
  const MapFields fields_;
  YamlErrors& errors_;
  const LoadContext& context_;
  TaskParser tasks_;
  std::string where_ = "job";
  std::string declared_id_;
  JobMarks marks_;
  std::vector<TaskPlace> places_;  // of the Dag's tasks, by index
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

}  // namespace

JobFileResult ParseJobFile(const YamlDocument& document, const std::string& file,
                           const LoadContext& context) {
  JobFileResult result;
  if (!document.errors.empty()) {
    result.errors = document.errors;
    return result;
  }
  YamlErrors errors(file);
  YamlErrors warnings(file);
  // Duplicate keys come first and keep the job from loading; the rest of the file is still checked.
  for (const Diagnostic& problem : document.problems) errors.Append(problem);
  JobParser parser(document.root, errors, warnings, context);
  std::optional<Job> job = parser.Parse();
  AppendSorted(errors, result.errors);
  for (size_t i = 0; i < warnings.size(); ++i) {
    result.schema_warnings.emplace_back(parser.warning_types()[i], warnings.diagnostics()[i]);
  }
  if (!parser.declared_id().empty()) {
    result.declaration = Declaration{parser.declared_id(), file, parser.marks().id, std::nullopt};
  }
  if (job) {
    job->source_file = file;
    result.job = std::move(job);
    result.marks = parser.marks();
  }
  return result;
}

}  // namespace petit::host::internal
