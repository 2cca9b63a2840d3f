#include "config/key_hints.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>

#include "config/legacy_task_forms.h"
#include "petit/core/suggest.h"

namespace petit::host {
namespace {

using internal::LegacyForm;
using internal::LegacyFormKeys;

const std::vector<std::string_view> kJobKeys = {
    "id",      "name",     "description",     "schedule",           "enabled",
    "config",  "tasks",    "max_concurrency", "max_active_runs",    "depends_on",
    "overlap", "catch_up", "catch_up_limit",  "max_parallel_tasks", "api_visible"};
const std::vector<std::string_view> kScheduleKeys = {"cron", "timezone"};
const std::vector<std::string_view> kJobDependencyKeys = {"job", "job_id", "condition"};
const std::vector<std::string_view> kTaskKeys = {
    "id",    "name",         "type",     "depends_on", "condition",
    "retry", "timeout_secs", "priority", "resources",  "output_cap_bytes"};
const std::vector<std::string_view> kRetryKeys = {
    "max_attempts",   "delay_secs", "condition", "backoff_multiplier",
    "max_delay_secs", "jitter",     "exit_codes"};
const std::vector<std::string_view> kGlobalKeys = {
    "storage",   "plugin_dirs", "max_parallel_tasks", "output_cap_bytes", "pools",
    "cpu_slots", "memory_mb",   "timezone",           "default_timezone", "api",
    "logging",   "max_tasks",   "shutdown_grace",     "plugins",          "store_outage_limit"};
const std::vector<std::string_view> kApiKeys = {
    "enabled",         "bind",           "port",        "token",
    "read_only_token", "cors_origins",   "path_prefix", "max_threads",
    "max_connections", "max_body_bytes", "timeout",     "max_streams"};
const std::vector<std::string_view> kPluginsKeys = {"isolation", "per_plugin", "per_type",
                                                    "memory_limit_mb", "cancel_grace_ms"};
const std::vector<std::string_view> kLoggingKeys = {"level", "format"};
const std::vector<std::string_view> kStorageKeys = {"type", "path"};

// Another level a key may belong to, seen from the level being checked. `under`: a key of this
// level that holds that level's keys (`retry`), written as `retry: {<key>: ...}`; otherwise
// `belongs` says where they go.
struct Elsewhere {
  KeyLevel level;
  std::string_view under;
  std::string_view belongs;
};

std::vector<Elsewhere> ElsewhereOf(KeyLevel level) {
  switch (level) {
    case KeyLevel::kJob:
      return {{KeyLevel::kTask, "", "to each task, under 'tasks'"},
              {KeyLevel::kSchedule, "schedule", ""},
              {KeyLevel::kRetry, "", "to the 'retry' of each task, under 'tasks'"},
              {KeyLevel::kGlobal, "", "in petit.yaml, not in a job file"}};
    case KeyLevel::kTask:
      return {{KeyLevel::kRetry, "retry", ""},
              {KeyLevel::kJob, "", "to the job, not to a task"},
              {KeyLevel::kSchedule, "", "to the job's 'schedule', not to a task"}};
    case KeyLevel::kRetry:
      return {{KeyLevel::kTask, "", "to the task, beside 'retry'"},
              {KeyLevel::kJob, "", "to the job, not to a task's retry"}};
    case KeyLevel::kSchedule:
      return {{KeyLevel::kJob, "", "to the job, beside 'schedule'"}};
    case KeyLevel::kJobDependency:
      return {};
    case KeyLevel::kGlobal:
      return {{KeyLevel::kApi, "api", ""},
              {KeyLevel::kPlugins, "plugins", ""},
              {KeyLevel::kLogging, "logging", ""},
              {KeyLevel::kStorage, "storage", ""},
              {KeyLevel::kJob, "", "in a job file, not in petit.yaml"},
              {KeyLevel::kTask, "", "to a task in a job file, not to petit.yaml"}};
    case KeyLevel::kApi:
    case KeyLevel::kPlugins:
    case KeyLevel::kLogging:
    case KeyLevel::kStorage:
      return {{KeyLevel::kGlobal, "", "at the top level of petit.yaml"}};
  }
  return {};
}

// What people used to other formats write, and the key Petit has for it. The same word may
// stand for keys of several levels; the one of the level being checked wins, then the first
// one reachable from it. `note` is said as well.
struct Alias {
  std::string_view word;
  KeyLevel level;
  std::string_view key;
  std::string_view note = "";
};

constexpr std::array kAliases = {
    // Retries: Airflow (retries, retry_delay, retry_exponential_backoff, max_retry_delay),
    // Dagu (retryPolicy: {limit, intervalSec}), Argo (retryStrategy: {limit, backoff}).
    Alias{"retries", KeyLevel::kRetry, "max_attempts", "it counts retries after the first run"},
    Alias{"max_retries", KeyLevel::kRetry, "max_attempts", "it counts retries after the first run"},
    Alias{"retry_count", KeyLevel::kRetry, "max_attempts"},
    Alias{"retry_limit", KeyLevel::kRetry, "max_attempts"},
    Alias{"num_retries", KeyLevel::kRetry, "max_attempts"},
    Alias{"attempts", KeyLevel::kRetry, "max_attempts"},
    Alias{"max_tries", KeyLevel::kRetry, "max_attempts"},
    Alias{"limit", KeyLevel::kRetry, "max_attempts"},
    Alias{"retry_policy", KeyLevel::kTask, "retry"},
    Alias{"retry_strategy", KeyLevel::kTask, "retry"},
    Alias{"retry_delay", KeyLevel::kRetry, "delay_secs"},
    Alias{"retry_interval", KeyLevel::kRetry, "delay_secs"},
    Alias{"retry_wait", KeyLevel::kRetry, "delay_secs"},
    Alias{"interval", KeyLevel::kRetry, "delay_secs"},
    Alias{"wait", KeyLevel::kRetry, "delay_secs"},
    Alias{"backoff", KeyLevel::kRetry, "backoff_multiplier"},
    Alias{"retry_exponential_backoff", KeyLevel::kRetry, "backoff_multiplier"},
    Alias{"exponential_backoff", KeyLevel::kRetry, "backoff_multiplier"},
    Alias{"factor", KeyLevel::kRetry, "backoff_multiplier"},
    Alias{"max_retry_delay", KeyLevel::kRetry, "max_delay_secs"},
    Alias{"max_interval", KeyLevel::kRetry, "max_delay_secs"},
    Alias{"max_backoff", KeyLevel::kRetry, "max_delay_secs"},
    Alias{"retry_on", KeyLevel::kRetry, "condition"},
    Alias{"retry_when", KeyLevel::kRetry, "condition"},
    Alias{"exit_status", KeyLevel::kRetry, "exit_codes"},
    Alias{"retry_exit_codes", KeyLevel::kRetry, "exit_codes"},
    // Tasks.
    Alias{"execution_timeout", KeyLevel::kTask, "timeout_secs"},
    Alias{"time_limit", KeyLevel::kTask, "timeout_secs"},
    Alias{"max_duration", KeyLevel::kTask, "timeout_secs"},
    Alias{"depends", KeyLevel::kTask, "depends_on"},
    Alias{"depends", KeyLevel::kJob, "depends_on"},
    Alias{"dependencies", KeyLevel::kTask, "depends_on"},
    Alias{"dependencies", KeyLevel::kJob, "depends_on"},
    Alias{"deps", KeyLevel::kTask, "depends_on"},
    Alias{"deps", KeyLevel::kJob, "depends_on"},
    Alias{"upstream", KeyLevel::kTask, "depends_on"},
    Alias{"needs", KeyLevel::kTask, "depends_on"},
    Alias{"after", KeyLevel::kTask, "depends_on"},
    Alias{"requires", KeyLevel::kTask, "depends_on"},
    Alias{"wait_for", KeyLevel::kTask, "depends_on"},
    Alias{"trigger_rule", KeyLevel::kTask, "condition"},
    Alias{"run_if", KeyLevel::kTask, "condition"},
    Alias{"when", KeyLevel::kTask, "condition"},
    Alias{"cmd", KeyLevel::kTask, "command"},
    Alias{"bash_command", KeyLevel::kTask, "command"},
    Alias{"run", KeyLevel::kTask, "command"},
    Alias{"exec", KeyLevel::kTask, "command"},
    Alias{"env", KeyLevel::kTask, "environment"},
    Alias{"env_vars", KeyLevel::kTask, "environment"},
    Alias{"environment_variables", KeyLevel::kTask, "environment"},
    Alias{"cwd", KeyLevel::kTask, "working_dir"},
    Alias{"workdir", KeyLevel::kTask, "working_dir"},
    Alias{"dir", KeyLevel::kTask, "working_dir"},
    Alias{"directory", KeyLevel::kTask, "working_dir"},
    Alias{"operator", KeyLevel::kTask, "type"},
    Alias{"kind", KeyLevel::kTask, "type"},
    Alias{"executor", KeyLevel::kTask, "type"},
    Alias{"task_type", KeyLevel::kTask, "type"},
    Alias{"task_id", KeyLevel::kTask, "id"},
    Alias{"step_id", KeyLevel::kTask, "id"},
    Alias{"with", KeyLevel::kTask, "params"},
    Alias{"inputs", KeyLevel::kTask, "params"},
    Alias{"pool", KeyLevel::kTask, "resources", "write resources: {<pool>: <slots>}"},
    Alias{"queue", KeyLevel::kTask, "resources", "write resources: {<pool>: <slots>}"},
    Alias{"priority_weight", KeyLevel::kTask, "priority"},
    Alias{"weight", KeyLevel::kTask, "priority"},
    Alias{"max_output", KeyLevel::kTask, "output_cap_bytes"},
    Alias{"output_limit", KeyLevel::kTask, "output_cap_bytes"},
    // Jobs: Airflow (schedule_interval, max_active_tasks, catchup, is_paused_upon_creation,
    // dag_id),
    // Dagu (steps, maxActiveRuns, maxActiveSteps), Kubernetes CronJob (concurrencyPolicy).
    Alias{"cron", KeyLevel::kJob, "schedule"},
    Alias{"crontab", KeyLevel::kJob, "schedule"},
    Alias{"schedule_interval", KeyLevel::kJob, "schedule"},
    Alias{"cron_schedule", KeyLevel::kJob, "schedule"},
    Alias{"every", KeyLevel::kJob, "schedule", "write schedule: '@every 10m'"},
    Alias{"trigger", KeyLevel::kJob, "schedule"},
    // Inside `schedule:` the same words name its `cron`.
    Alias{"crontab", KeyLevel::kSchedule, "cron"},
    Alias{"cron_expression", KeyLevel::kSchedule, "cron"},
    Alias{"expression", KeyLevel::kSchedule, "cron"},
    Alias{"schedule_interval", KeyLevel::kSchedule, "cron"},
    Alias{"cron_schedule", KeyLevel::kSchedule, "cron"},
    Alias{"every", KeyLevel::kSchedule, "cron", "write cron: '@every 10m'"},
    Alias{"interval", KeyLevel::kSchedule, "cron", "write cron: '@every 10m'"},
    Alias{"zone", KeyLevel::kSchedule, "timezone"},
    Alias{"tz", KeyLevel::kSchedule, "timezone"},
    Alias{"tz", KeyLevel::kGlobal, "timezone"},
    Alias{"time_zone", KeyLevel::kSchedule, "timezone"},
    Alias{"time_zone", KeyLevel::kGlobal, "timezone"},
    Alias{"steps", KeyLevel::kJob, "tasks"},
    Alias{"nodes", KeyLevel::kJob, "tasks"},
    Alias{"dag_id", KeyLevel::kJob, "id"},
    Alias{"job_id", KeyLevel::kJob, "id"},
    Alias{"job_name", KeyLevel::kJob, "name"},
    Alias{"concurrency", KeyLevel::kJob, "max_active_runs"},
    Alias{"max_active", KeyLevel::kJob, "max_active_runs"},
    Alias{"concurrent_runs", KeyLevel::kJob, "max_active_runs"},
    Alias{"max_active_tasks", KeyLevel::kJob, "max_parallel_tasks"},
    Alias{"max_active_steps", KeyLevel::kJob, "max_parallel_tasks"},
    Alias{"parallelism", KeyLevel::kJob, "max_parallel_tasks"},
    Alias{"parallelism", KeyLevel::kGlobal, "max_parallel_tasks"},
    Alias{"workers", KeyLevel::kGlobal, "max_parallel_tasks"},
    Alias{"concurrency", KeyLevel::kGlobal, "max_parallel_tasks"},
    Alias{"backfill", KeyLevel::kJob, "catch_up"},
    Alias{"overlap_policy", KeyLevel::kJob, "overlap"},
    Alias{"concurrency_policy", KeyLevel::kJob, "overlap"},
    Alias{"disabled", KeyLevel::kJob, "enabled", "write enabled: false"},
    Alias{"paused", KeyLevel::kJob, "enabled", "write enabled: false"},
    Alias{"is_paused_upon_creation", KeyLevel::kJob, "enabled", "write enabled: false"},
    Alias{"variables", KeyLevel::kJob, "config"},
    Alias{"vars", KeyLevel::kJob, "config"},
    // petit.yaml.
    Alias{"store", KeyLevel::kGlobal, "storage"},
    Alias{"database", KeyLevel::kGlobal, "storage"},
    Alias{"database_url", KeyLevel::kGlobal, "storage"},
    Alias{"db", KeyLevel::kGlobal, "storage"},
    Alias{"plugin_path", KeyLevel::kGlobal, "plugin_dirs"},
    Alias{"plugins_dir", KeyLevel::kGlobal, "plugin_dirs"},
    Alias{"log_level", KeyLevel::kLogging, "level"},
    Alias{"log_format", KeyLevel::kLogging, "format"},
    Alias{"log", KeyLevel::kGlobal, "logging"},
    Alias{"host", KeyLevel::kApi, "bind"},
    Alias{"listen", KeyLevel::kApi, "bind"},
    Alias{"address", KeyLevel::kApi, "bind"},
    Alias{"shutdown_timeout", KeyLevel::kGlobal, "shutdown_grace"},
};

// Keys of durations whose names state no unit, and the unit they are in.
struct UnitKey {
  std::string_view key;
  std::string_view unit;
};
constexpr std::array kUnitKeys = {
    UnitKey{"shutdown_grace", "seconds"}, UnitKey{"store_outage_limit", "seconds"},
    UnitKey{"timeout", "seconds"},  // api.timeout
    UnitKey{"seconds", "seconds"},  // within_window
};

// The key whose value holds the keys of `level` (`retry` for kRetry): never a sensible hint
// for a key written inside it.
std::string_view HolderOf(KeyLevel level) {
  switch (level) {
    case KeyLevel::kSchedule:
      return "schedule";
    case KeyLevel::kRetry:
      return "retry";
    case KeyLevel::kJobDependency:
      return "depends_on";
    case KeyLevel::kApi:
      return "api";
    case KeyLevel::kPlugins:
      return "plugins";
    case KeyLevel::kLogging:
      return "logging";
    case KeyLevel::kStorage:
      return "storage";
    case KeyLevel::kJob:
    case KeyLevel::kTask:
    case KeyLevel::kGlobal:
      return "";
  }
  return "";
}

bool Contains(const std::vector<std::string_view>& keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

const std::vector<std::string_view>& KeysForHints(KeyLevel level) {
  return level == KeyLevel::kTask ? AnyTaskKeys() : KeysOf(level);
}

constexpr size_t kLevels = static_cast<size_t>(KeyLevel::kStorage) + 1;

// The keys of each level split into words once: a file of thousands of unknown keys costs a
// pass over a few dozen keys for each, not the splitting of them all.
const NameGuesser& GuesserOf(KeyLevel level) {
  static const std::vector<NameGuesser> guessers = [] {
    std::vector<NameGuesser> made;
    for (size_t i = 0; i < kLevels; ++i) made.emplace_back(KeysForHints(static_cast<KeyLevel>(i)));
    return made;
  }();
  return guessers[static_cast<size_t>(level)];
}

// Lowercase without separators: "maxRetries", "max-retries" and "max_retries" are one word.
std::string Folded(std::string_view word) {
  std::string out;
  for (char c : word) {
    if (c == '_' || c == '-' || c == ' ' || c == '.') continue;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

// `key` without its unit suffix ("retryDelaySeconds" -> "retryDelay", "delay_ms" -> "delay").
std::string_view WithoutUnit(std::string_view key) {
  if (UnitOfName(key).empty()) return key;
  size_t cut = key.find_last_of("_-. ");
  if (cut == std::string_view::npos) {
    cut = key.size();
    while (cut > 0 && !(key[cut - 1] >= 'A' && key[cut - 1] <= 'Z')) --cut;
    if (cut > 0) --cut;
  }
  return key.substr(0, cut);
}

// " it is in seconds", when the guess states a unit the key did not.
std::string UnitNote(std::string_view key, std::string_view guess) {
  const std::string_view unit = UnitOfKey(guess);
  const std::string_view wrote = UnitOfName(key);
  if (unit.empty() || unit == wrote) return "";
  std::string note = "it is in " + std::string(unit);
  if (!wrote.empty()) note += ", not " + std::string(wrote);
  return note;
}

// The hint for `guess`, a key of `place` (nullptr: of the level being checked).
std::string HintText(std::string_view key, std::string_view guess, const Elsewhere* place,
                     std::string_view note) {
  std::string notes;
  auto add = [&notes](std::string_view text) {
    if (text.empty()) return;
    notes += notes.empty() ? "? " : "; ";
    notes += text;
  };
  std::string text;
  if (place == nullptr || !place->under.empty()) {
    const std::string written =
        place == nullptr ? std::string(guess)
                         : std::string(place->under) + ": {" + std::string(guess) + ": ...}";
    add(UnitNote(key, guess));
    add(note);
    return " (did you mean '" + written + "'" + (notes.empty() ? "?" : notes) + ")";
  }
  const std::string belongs = "belongs " + std::string(place->belongs);
  if (guess == key) {
    std::string out = " ('" + std::string(key) + "' " + belongs;
    if (!note.empty()) out += "; " + std::string(note);
    return out + ")";
  }
  add("it " + belongs);
  add(UnitNote(key, guess));
  add(note);
  return " (did you mean '" + std::string(guess) + "'" + notes + ")";
}

std::optional<double> ParseNumber(std::string_view text) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

struct UnitScale {
  std::string_view suffix;
  double scale;
};
// Durations in seconds, sizes in bytes.
constexpr std::array kTimeUnits = {
    UnitScale{"ms", 0.001},   UnitScale{"msec", 0.001}, UnitScale{"s", 1},
    UnitScale{"sec", 1},      UnitScale{"secs", 1},     UnitScale{"second", 1},
    UnitScale{"seconds", 1},  UnitScale{"m", 60},       UnitScale{"min", 60},
    UnitScale{"mins", 60},    UnitScale{"minute", 60},  UnitScale{"minutes", 60},
    UnitScale{"h", 3600},     UnitScale{"hr", 3600},    UnitScale{"hour", 3600},
    UnitScale{"hours", 3600}, UnitScale{"d", 86400},    UnitScale{"day", 86400},
    UnitScale{"days", 86400},
};
constexpr std::array kSizeUnits = {
    UnitScale{"b", 1},           UnitScale{"k", 1024},
    UnitScale{"kb", 1024},       UnitScale{"kib", 1024},
    UnitScale{"m", 1048576},     UnitScale{"mb", 1048576},
    UnitScale{"mib", 1048576},   UnitScale{"g", 1073741824},
    UnitScale{"gb", 1073741824}, UnitScale{"gib", 1073741824},
};

// "1h30m", "90s", "5 min", "2GB": the quantity in seconds or bytes, or nullopt.
template <size_t N>
std::optional<double> ParseQuantity(std::string_view text, const std::array<UnitScale, N>& units) {
  double total = 0;
  size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const size_t number_start = i;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    std::optional<double> number = ParseNumber(text.substr(number_start, i - number_start));
    if (!number) return std::nullopt;
    while (i < text.size() && text[i] == ' ') ++i;
    const size_t unit_start = i;
    while (i < text.size() &&
           ((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= 'A' && text[i] <= 'Z'))) {
      ++i;
    }
    std::string unit(text.substr(unit_start, i - unit_start));
    for (char& c : unit) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    const auto it = std::find_if(units.begin(), units.end(),
                                 [&unit](const UnitScale& u) { return u.suffix == unit; });
    if (it == units.end()) return std::nullopt;
    total += *number * it->scale;
    any = true;
  }
  if (!any) return std::nullopt;
  return total;
}

std::string FormatQuantity(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.15g", value);
  return buffer;
}

}  // namespace

const std::vector<std::string_view>& KeysOf(KeyLevel level) {
  switch (level) {
    case KeyLevel::kJob:
      return kJobKeys;
    case KeyLevel::kSchedule:
      return kScheduleKeys;
    case KeyLevel::kJobDependency:
      return kJobDependencyKeys;
    case KeyLevel::kTask:
      return kTaskKeys;
    case KeyLevel::kRetry:
      return kRetryKeys;
    case KeyLevel::kGlobal:
      return kGlobalKeys;
    case KeyLevel::kApi:
      return kApiKeys;
    case KeyLevel::kPlugins:
      return kPluginsKeys;
    case KeyLevel::kLogging:
      return kLoggingKeys;
    case KeyLevel::kStorage:
      return kStorageKeys;
  }
  return kJobKeys;
}

const std::vector<std::string_view>& AnyTaskKeys() {
  static const std::vector<std::string_view> keys = [] {
    std::vector<std::string_view> all = kTaskKeys;
    for (LegacyForm form : {LegacyForm::kCommand, LegacyForm::kPython, LegacyForm::kCustom}) {
      for (std::string_view key : LegacyFormKeys(form)) {
        if (!Contains(all, key)) all.push_back(key);
      }
    }
    for (std::string_view key : {"params", "environment"}) {
      if (!Contains(all, key)) all.push_back(key);
    }
    return all;
  }();
  return keys;
}

std::string UnknownKeyHint(std::string_view key, const std::vector<std::string_view>& allowed,
                           KeyLevel level) {
  return KeyHinter(allowed, level).Hint(key);
}

KeyHinter::KeyHinter(const std::vector<std::string_view>& allowed, KeyLevel level)
    : allowed_(allowed), level_(level), here_(allowed) {}

std::string KeyHinter::Hint(std::string_view key) const {
  const std::vector<std::string_view>& allowed = allowed_;
  const KeyLevel level = level_;
  if (key.empty() || key.size() > kMaxSuggestedWordBytes) return "";
  const std::vector<Elsewhere> elsewhere = ElsewhereOf(level);
  // A key of another form of task: the task's type decides which keys it takes.
  if (level == KeyLevel::kTask && Contains(AnyTaskKeys(), key)) {
    std::string types;
    for (const auto& [form, name] :
         {std::pair(LegacyForm::kCommand, "command"), std::pair(LegacyForm::kPython, "python"),
          std::pair(LegacyForm::kCustom, "custom")}) {
      if (!Contains(LegacyFormKeys(form), key)) continue;
      types += std::string(types.empty() ? "" : " or ") + name;
    }
    if (types.empty()) {
      // 'params' (or another key of plugin types) in a task of the original's forms.
      return " (this task's type takes its parameters as keys of the task itself, as in "
             "'command: echo'; '" +
             std::string(key) + "' belongs to task types that take them under 'params')";
    }
    return " ('" + std::string(key) + "' is a key of tasks of type " + types +
           "; other task types take their parameters under 'params')";
  }
  // What other formats call it: at this level first, then the first level reachable from here.
  static const std::vector<std::string> kFoldedAliases = [] {
    std::vector<std::string> folded;
    for (const Alias& alias : kAliases) folded.push_back(Folded(alias.word));
    return folded;
  }();
  // With its unit or without: Dagu's intervalSec and a retry_delay_secs are aliases too.
  const std::string folded = Folded(key);
  const std::string stem = Folded(WithoutUnit(key));
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < kAliases.size(); ++i) {
      const Alias& alias = kAliases[i];
      if (folded != kFoldedAliases[i] && stem != kFoldedAliases[i]) continue;
      if (pass == 0 && alias.level == level && Contains(allowed, alias.key)) {
        return HintText(key, alias.key, nullptr, alias.note);
      }
      if (pass == 1 && alias.key != HolderOf(level)) {
        for (const Elsewhere& place : elsewhere) {
          if (place.level == alias.level) return HintText(key, alias.key, &place, alias.note);
        }
      }
    }
  }
  // The key meant here, in another case, unit or number.
  std::optional<NameGuess> here = here_.Guess(key);
  if (here && here->kind <= GuessKind::kUnit) return HintText(key, here->name, nullptr, "");
  // The same key, or a close one, at another level; a guess here wins ties.
  const Elsewhere* best_place = nullptr;
  std::optional<NameGuess> best = here;
  for (const Elsewhere& place : elsewhere) {
    std::optional<NameGuess> there = GuesserOf(place.level).Guess(key);
    if (there && there->name == HolderOf(level)) continue;
    if (there && (!best || Closer(*there, *best))) {
      best = std::move(there);
      best_place = &place;
    }
  }
  if (!best) return "";
  return HintText(key, best->name, best_place, "");
}

std::string_view UnitOfKey(std::string_view key) {
  const size_t dot = key.rfind('.');
  if (dot != std::string_view::npos) key = key.substr(dot + 1);
  const size_t bracket = key.find('[');
  if (bracket != std::string_view::npos) key = key.substr(0, bracket);
  for (const UnitKey& known : kUnitKeys) {
    if (known.key == key) return known.unit;
  }
  return UnitOfName(key);
}

std::string NumberHint(std::string_view key, std::string_view text, bool integer,
                       std::string_view example) {
  const std::string_view unit = UnitOfKey(key);
  std::optional<double> value;
  double per_unit = 1;
  if (unit == "seconds" || unit == "milliseconds") {
    value = ParseQuantity(text, kTimeUnits);
    per_unit = unit == "seconds" ? 1 : 0.001;
  } else if (unit == "megabytes" || unit == "bytes") {
    value = ParseQuantity(text, kSizeUnits);
    per_unit = unit == "bytes" ? 1 : 1048576;
  }
  std::string last(key.substr(key.rfind('.') == std::string_view::npos ? 0 : key.rfind('.') + 1));
  std::string hint = unit.empty() ? "" : " (" + std::string(unit) + ")";
  hint += ", not '" + std::string(text) + "'";
  if (value) {
    const double converted = *value / per_unit;
    if (!integer || converted == std::floor(converted)) {
      return hint + ": write " + last + ": " + FormatQuantity(converted);
    }
  }
  if (!example.empty()) hint += " (e.g. " + last + ": " + std::string(example) + ")";
  return hint;
}

}  // namespace petit::host
