#include "cli/cli.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/host_env.h"
#include "cli/recovery.h"
#include "cli/signal_canceller.h"
#include "config/diagnostic.h"
#include "config/global_config.h"
#include "config/job_loader.h"
#include "config/yaml_support.h"
#include "daemon/run_daemon.h"
#include "petit/core/execute_run.h"
#include "petit/core/json.h"
#include "petit/core/schedule.h"

#ifndef PETIT_VERSION
#define PETIT_VERSION "0.0.0"
#endif

namespace petit::host {
namespace {

constexpr std::string_view kUsage = R"(usage: petit <command> [options]

commands:
  validate DIR          check every job file under DIR; lists every error in one pass and the
                        next three fire times of each scheduled job (--json, --now)
  trigger DIR JOB       run JOB now, print each task's result; exit 1 if the run fails
  run DIR               run the scheduler: fire the jobs' schedules until SIGTERM/SIGINT
  list DIR              list the jobs under DIR
  plugins               list the task types of the loaded plugins
  runs                  list recent runs (--job JOB, --limit N)
  logs RUN [TASK]       print the captured output of a run, or of one task
  version               print the version

options:
  --config FILE         global config (default: DIR/petit.yaml when present)
  --storage URI         memory:, sqlite:///path/petit.db or postgresql://...
  --plugin-dir DIR      load plugins from DIR too (repeatable)
  --max-parallel N      tasks in flight at once (default: number of CPUs)
  --job JOB             (runs) only this job
  --limit N             (runs) at most N runs, newest first (default 20)
  --quiet               (trigger) print only the final line
  --no-output           (trigger) do not print the tasks' captured output
  --json                (validate) print one JSON document instead of text
  --now TIME            (validate) list fire times after TIME (2026-03-08T00:00:00Z or with an
                        offset, +01:00) instead of after the current time
  -h, --help            print this help
)";

struct Args {
  std::string command;
  std::vector<std::string> positional;
  HostOptions host;
  std::optional<std::string> job_filter;
  size_t limit = 20;
  bool quiet = false;
  bool show_output = true;
  bool json = false;
  std::optional<int64_t> now_us;  // validate --now
};

const std::vector<std::string_view> kCommands = {"validate", "trigger", "list", "plugins", "runs",
                                                 "logs",     "version", "help", "run"};
const std::vector<std::string_view> kOptions = {
    "--config", "--storage",   "--plugin-dir", "--max-parallel", "--job", "--limit",
    "--quiet",  "--no-output", "--json",       "--now",          "--help"};

void PrintError(std::string_view message) { std::cerr << "petit: " << message << "\n"; }

std::optional<uint64_t> ParsePositive(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value == 0) return std::nullopt;
  return value;
}

// "YYYY-MM-DDTHH:MM:SS" followed by "Z" or "+HH:MM" / "-HH:MM", as microseconds since the epoch.
std::optional<int64_t> ParseIsoTime(const std::string& text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  int64_t offset_seconds = 0;
  std::string_view zone = std::string_view(text).substr(19);
  if (zone != "Z") {
    int offset_hours = 0, offset_minutes = 0, zone_consumed = 0;
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') ||
        std::sscanf(text.c_str() + 20, "%2d:%2d%n", &offset_hours, &offset_minutes,
                    &zone_consumed) != 2 ||
        zone_consumed != 5 || offset_hours > 23 || offset_minutes > 59) {
      return std::nullopt;
    }
    offset_seconds = (offset_hours * 3600 + offset_minutes * 60) * (zone[0] == '-' ? -1 : 1);
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const int64_t seconds = static_cast<int64_t>(timegm(&tm));
  if (tm.tm_mday != day) return std::nullopt;  // timegm normalised 2026-02-31 into March
  return (seconds - offset_seconds) * 1000000;
}

// Returns the parsed arguments, or the one-line reason they are wrong.
Result<Args> ParseArgs(int argc, char** argv) {
  Args args;
  std::vector<std::string_view> words(argv + 1, argv + argc);
  for (size_t i = 0; i < words.size(); ++i) {
    std::string_view word = words[i];
    if (word == "-h" || word == "--help") {
      args.command = "help";
      continue;
    }
    if (word.size() < 2 || word.substr(0, 2) != "--") {
      if (args.command.empty()) {
        args.command = std::string(word);
      } else {
        args.positional.emplace_back(word);
      }
      continue;
    }
    std::string name(word);
    std::optional<std::string> inline_value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    auto value = [&]() -> Result<std::string> {
      if (inline_value) return *inline_value;
      if (i + 1 >= words.size()) return InvalidArgument("option " + name + " needs a value");
      return std::string(words[++i]);
    };
    if (name == "--quiet") {
      args.quiet = true;
    } else if (name == "--no-output") {
      args.show_output = false;
    } else if (name == "--json") {
      args.json = true;
    } else if (name == "--now") {
      Result<std::string> v = value();
      if (!v.ok()) return v.status();
      std::optional<int64_t> now = ParseIsoTime(*v);
      if (!now) {
        return InvalidArgument("--now needs a time like 2026-03-08T00:00:00Z, not '" + *v + "'");
      }
      args.now_us = *now;
    } else if (name == "--config" || name == "--storage" || name == "--plugin-dir" ||
               name == "--job" || name == "--max-parallel" || name == "--limit") {
      Result<std::string> v = value();
      if (!v.ok()) return v.status();
      if (name == "--config") args.host.config_path = *v;
      if (name == "--storage") args.host.storage_uri = *v;
      if (name == "--plugin-dir") args.host.plugin_dirs.push_back(*v);
      if (name == "--job") args.job_filter = *v;
      if (name == "--max-parallel" || name == "--limit") {
        std::optional<uint64_t> n = ParsePositive(*v);
        if (!n) return InvalidArgument(name + " needs a positive integer, not '" + *v + "'");
        if (name == "--limit") args.limit = *n;
        if (name == "--max-parallel") args.host.max_parallel_tasks = static_cast<uint32_t>(*n);
      }
    } else {
      std::string message = "unknown option '" + name + "'";
      if (auto close = ClosestMatch(name, kOptions)) message += " (did you mean '" + *close + "'?)";
      return InvalidArgument(message);
    }
  }
  if (args.command.empty()) args.command = "help";
  bool takes_dir = args.command == "validate" || args.command == "trigger" ||
                   args.command == "list" || args.command == "run";
  if (takes_dir && !args.positional.empty()) args.host.jobs_dir = args.positional[0];
  if (std::find(kCommands.begin(), kCommands.end(), args.command) == kCommands.end()) {
    std::string message = "unknown command '" + args.command + "'";
    if (auto close = ClosestMatch(args.command, kCommands)) {
      message += " (did you mean '" + *close + "'?)";
    }
    return InvalidArgument(message + "; see `petit --help`");
  }
  return args;
}

std::string FormatTime(int64_t micros) {
  if (micros == 0) return "-";
  std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string FormatDuration(int64_t micros) {
  char buffer[32];
  if (micros < 1000) {
    std::snprintf(buffer, sizeof buffer, "%lld us", static_cast<long long>(micros));
  } else if (micros < 1000000) {
    std::snprintf(buffer, sizeof buffer, "%.1f ms", static_cast<double>(micros) / 1e3);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.2f s", static_cast<double>(micros) / 1e6);
  }
  return buffer;
}

// Loads the jobs and checks what only this host knows: task types, their parameter schemas and
// resource pools.
LoadedJobs LoadJobs(const HostEnv& env, const std::string& dir) {
  JobLoaderOptions options;
  options.known_types = env.TaskTypeNames();
  options.default_time_zone = env.config().timezone;
  for (const auto& plugin : env.plugins().plugins) {
    for (const PluginTaskType& type : plugin->task_types()) {
      if (type.info.params_schema_json) {
        options.params_schemas.emplace(type.info.name, *type.info.params_schema_json);
      }
    }
  }
  LoadedJobs loaded = LoadJobDirectory(dir, options);
  std::vector<Job> usable;
  for (Job& job : loaded.jobs) {
    bool fits = true;
    for (Dag::Index i = 0; i < job.dag.size(); ++i) {
      const TaskSpec& spec = job.dag.task(i);
      if (spec.resources.empty()) continue;
      Status status = env.resources().Check(spec.resources);
      if (status.ok()) continue;
      fits = false;
      loaded.errors.push_back(
          {job.source_file, 0, 0, "tasks." + spec.id.str() + ".resources",
           "task '" + spec.id.str() + "': " + status.message() + " (pools come from petit.yaml)"});
    }
    if (fits) usable.push_back(std::move(job));
  }
  loaded.jobs = std::move(usable);
  return loaded;
}

// Prints warnings, then errors; returns true when there were no errors.
bool ReportLoad(const LoadedJobs& loaded) {
  for (const Diagnostic& warning : loaded.warnings) {
    std::cerr << "warning: " << warning.ToString() << "\n";
  }
  for (const Diagnostic& error : loaded.errors) std::cerr << "error: " << error.ToString() << "\n";
  return loaded.errors.empty();
}

constexpr size_t kNextFireTimes = 3;

void AppendDiagnosticsJson(std::string& json, const std::vector<Diagnostic>& diagnostics) {
  json += "[";
  for (size_t i = 0; i < diagnostics.size(); ++i) {
    const Diagnostic& d = diagnostics[i];
    if (i != 0) json += ",";
    json += "{\"file\":" + JsonString(d.file) + ",\"line\":" + std::to_string(d.line) +
            ",\"column\":" + std::to_string(d.column) + ",\"key\":" + JsonString(d.key) +
            ",\"message\":" + JsonString(d.message) + "}";
  }
  json += "]";
}

// One JSON document: {"valid", "jobs": [{id, file, tasks, enabled, schedule, timezone, next}],
// "errors": [...], "warnings": [...]}; `next` holds the local times of the next fires.
std::string ValidationJson(const LoadedJobs& loaded, int64_t now_us) {
  std::string json = "{\"valid\":";
  json += loaded.errors.empty() ? "true" : "false";
  json += ",\"files\":" + std::to_string(loaded.files) + ",\"jobs\":[";
  for (size_t i = 0; i < loaded.jobs.size(); ++i) {
    const Job& job = loaded.jobs[i];
    if (i != 0) json += ",";
    json += "{\"id\":" + JsonString(job.id.str()) + ",\"file\":" + JsonString(job.source_file) +
            ",\"tasks\":" + std::to_string(job.dag.size()) +
            ",\"enabled\":" + (job.enabled ? "true" : "false") + ",\"schedule\":";
    if (!job.schedule) {
      json += "null,\"timezone\":null,\"next\":[]}";
      continue;
    }
    json += JsonString(job.schedule->expression()) +
            ",\"timezone\":" + JsonString(job.schedule->time_zone()) + ",\"next\":[";
    std::vector<int64_t> next = job.schedule->NextN(now_us, kNextFireTimes);
    for (size_t t = 0; t < next.size(); ++t) {
      if (t != 0) json += ",";
      json += JsonString(job.schedule->FormatLocal(next[t]));
    }
    json += "]}";
  }
  json += "],\"errors\":";
  AppendDiagnosticsJson(json, loaded.errors);
  json += ",\"warnings\":";
  AppendDiagnosticsJson(json, loaded.warnings);
  json += "}\n";
  return json;
}

int64_t ValidationTime(const Args& args) {
  if (args.now_us) return *args.now_us;
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int CmdValidate(const Args& args, HostEnv& env) {
  LoadedJobs loaded = LoadJobs(env, args.positional[0]);
  const int64_t now_us = ValidationTime(args);
  if (args.json) {
    std::cout << ValidationJson(loaded, now_us);
    return loaded.errors.empty() ? kExitOk : kExitUsage;
  }
  bool ok = ReportLoad(loaded);
  for (const Job& job : loaded.jobs) {
    std::cout << "ok  " << job.id.str() << " (" << job.dag.size() << " tasks"
              << (job.enabled ? "" : ", disabled") << ")  " << job.source_file << "\n";
    if (!job.schedule) continue;
    std::cout << "    schedule '" << job.schedule->expression() << "' in "
              << job.schedule->time_zone() << ", next:";
    for (int64_t t : job.schedule->NextN(now_us, kNextFireTimes)) {
      std::cout << "  " << job.schedule->FormatLocal(t);
    }
    std::cout << "\n";
  }
  std::cout << loaded.files << " files, " << loaded.jobs.size() << " valid jobs, "
            << loaded.errors.size() << " errors\n";
  return ok ? kExitOk : kExitUsage;
}

// `petit validate` when petit.yaml itself is wrong: its problems, in the form asked for.
int ReportValidateConfigFailure(const Args& args, const Status& status) {
  LoadedJobs report;
  const bool config_ok =
      ResolveGlobalConfig(args.host.config_path, args.host.jobs_dir, &report.errors).ok();
  if (config_ok || report.errors.empty()) {
    // Not a problem of petit.yaml's text: the host refused a setting (resource pools).
    std::string file = args.host.config_path.value_or("petit.yaml");
    if (!args.host.config_path && args.host.jobs_dir) file = *args.host.jobs_dir + "/petit.yaml";
    report.errors.push_back({file, 0, 0, "", status.message()});
  }
  if (args.json) {
    std::cout << ValidationJson(report, ValidationTime(args));
  } else {
    ReportLoad(report);
  }
  return kExitUsage;
}

int CmdList(const Args& args, HostEnv& env) {
  LoadedJobs loaded = LoadJobs(env, args.positional[0]);
  bool ok = ReportLoad(loaded);
  for (const Job& job : loaded.jobs) {
    std::string schedule = "-";
    if (job.schedule)
      schedule = job.schedule->expression() + " (" + job.schedule->time_zone() + ")";
    std::cout << job.id.str() << "\t" << job.dag.size() << " tasks\t"
              << (job.enabled ? "enabled" : "disabled") << "\t" << schedule << "\t" << job.name
              << "\n";
  }
  return ok ? kExitOk : kExitUsage;
}

int CmdPlugins(const Args& /*args*/, HostEnv& env) {
  for (const auto& plugin : env.plugins().plugins) {
    std::cout << plugin->name() << " " << plugin->version() << "  " << plugin->file() << "\n";
    for (const PluginTaskType& type : plugin->task_types()) {
      std::cout << "  " << type.info.name << "  " << type.info.summary << "\n";
      if (type.info.params_schema_json) {
        std::string schema = *type.info.params_schema_json;
        for (size_t at = schema.find('\n'); at != std::string::npos;
             at = schema.find('\n', at + 1)) {
          schema.insert(at + 1, "      ");
        }
        std::cout << "    params: " << schema << "\n";
      }
    }
  }
  if (env.plugins().plugins.empty()) {
    PrintError("no plugins loaded (looked in " + DefaultPluginDir() + ")");
    return kExitHostError;
  }
  return kExitOk;
}

// Prints each task as it finishes, with its captured output unless asked not to.
// Calls `each` with every chunk `query` selects, in order, reading a page of a few chunks at a
// time, so output of any size costs a few chunks of memory.
Status ForEachLogChunk(StateStore& store, const RunId& run, LogQuery query,
                       const std::function<void(const LogChunk&)>& each) {
  query.limit = 16;
  for (;;) {
    Result<std::vector<LogChunk>> chunks = store.ReadLogs(run, query);
    if (!chunks.ok()) return chunks.status();
    for (const LogChunk& chunk : *chunks) each(chunk);
    if (chunks->size() < query.limit) return Status::Ok();
    const LogChunk& last = chunks->back();
    query.after = LogQuery::Position{last.task, last.attempt, last.seq};
  }
}

class TriggerPrinter final : public RunObserver {
 public:
  TriggerPrinter(StateStore& store, bool quiet, bool show_output)
      : store_(store), quiet_(quiet), show_output_(show_output) {}

  void set_run(const RunId& run) { run_ = run; }

  void OnTaskFinished(const TaskSpec& task, const AttemptRecord& attempt) override {
    ++counts_[attempt.state];
    if (quiet_) return;
    const char* mark = attempt.state == TaskState::kSucceeded ? "ok  "
                       : attempt.state == TaskState::kFailed  ? "FAIL"
                                                              : "--  ";
    std::string line =
        std::string(mark) + " " + task.id.str() + "  " + std::string(TaskStateName(attempt.state));
    if (attempt.attempt > 1) line += " (attempt " + std::to_string(attempt.attempt) + ")";
    if (attempt.started_us != 0 && attempt.ended_us >= attempt.started_us) {
      line += "  " + FormatDuration(attempt.ended_us - attempt.started_us);
    }
    if (!attempt.error.empty()) line += "  " + attempt.error;
    std::cout << line << "\n";
    if (show_output_ && attempt.attempt > 0) PrintOutput(task.id, attempt.attempt);
    std::cout.flush();
  }

  void OnTaskRetrying(const TaskSpec& task, const AttemptRecord& failed,
                      int64_t retry_at_us) override {
    if (quiet_) return;
    std::cout << "retry " << task.id.str() << "  attempt " << failed.attempt
              << " failed: " << failed.error << "; next attempt at " << FormatTime(retry_at_us)
              << "\n";
  }

  size_t count(TaskState state) const {
    auto it = counts_.find(state);
    return it == counts_.end() ? 0 : it->second;
  }

 private:
  // Prints the attempt's captured output, each line indented.
  void PrintOutput(const TaskId& task, uint32_t attempt) {
    LogQuery query;
    query.task = task;
    query.attempt = attempt;
    bool at_line_start = true;
    Status read = ForEachLogChunk(store_, run_, query, [&](const LogChunk& chunk) {
      for (char c : chunk.data) {
        if (at_line_start) std::cout << "     | ";
        std::cout << c;
        at_line_start = c == '\n';
      }
    });
    if (!at_line_start) std::cout << "\n";
    if (!read.ok()) {
      PrintError("cannot read the output of " + task.str() + ": " + read.message());
    }
  }

  StateStore& store_;
  RunId run_;
  const bool quiet_;
  const bool show_output_;
  std::map<TaskState, size_t> counts_;
};

int CmdTrigger(const Args& args, HostEnv& env) {
  LoadedJobs loaded = LoadJobs(env, args.positional[0]);
  const std::string& job_id = args.positional[1];
  const Job* job = nullptr;
  for (const Job& candidate : loaded.jobs) {
    if (candidate.id.str() == job_id) job = &candidate;
  }
  if (job == nullptr) {
    ReportLoad(loaded);
    std::vector<std::string_view> ids;
    for (const Job& candidate : loaded.jobs) ids.push_back(candidate.id.str());
    std::string message = "no valid job '" + job_id + "' in " + args.positional[0];
    if (auto close = ClosestMatch(job_id, ids)) message += " (did you mean '" + *close + "'?)";
    PrintError(message);
    return kExitUsage;
  }
  for (const Diagnostic& warning : loaded.warnings) {
    if (warning.file == job->source_file) std::cerr << "warning: " << warning.ToString() << "\n";
  }
  Result<StateStore*> store = env.Store();
  if (!store.ok()) {
    PrintError(store.status().message());
    return kExitHostError;
  }
  Result<std::string> owner = RecoverOnStartup(**store, std::cerr);
  if (!owner.ok()) {
    PrintError(owner.status().message());
    return kExitHostError;
  }
  // max_concurrency holds across processes too (a `petit run` daemon, another trigger): after
  // recovery every incomplete run of the job belongs to a live process or another host. Two
  // triggers racing each other can both pass; the scheduler of `petit run` admits exactly.
  if (job->max_active_runs > 0) {
    Result<std::vector<RunRecord>> incomplete = (*store)->ListIncompleteRuns();
    if (!incomplete.ok()) {
      PrintError(incomplete.status().message());
      return kExitHostError;
    }
    std::vector<std::string> active;
    for (const RunRecord& other : *incomplete) {
      if (other.job == job->id) active.push_back(other.id.str());
    }
    if (active.size() >= job->max_active_runs) {
      PrintError("job '" + job->id.str() + "' already has " + std::to_string(active.size()) +
                 " active run(s) (max_concurrency " + std::to_string(job->max_active_runs) +
                 "), newest " + active.back() + ": nothing started");
      return kExitRunFailed;
    }
  }

  TriggerPrinter printer(**store, args.quiet, args.show_output);
  RunCanceller canceller;
  RunOptions run_options;
  run_options.max_parallel_tasks = env.config().max_parallel_tasks;
  run_options.output_cap_bytes = env.config().output_cap_bytes;
  run_options.trigger = "manual";
  run_options.owner = *owner;
  run_options.observer = &printer;
  run_options.canceller = &canceller;
  run_options.resources = &env.resources();
  RunId run_id = RunId::Generate();
  printer.set_run(run_id);
  if (!args.quiet) std::cout << "run " << run_id.str() << "  job " << job->id.str() << "\n";

  Result<RunRecord> run = [&] {
    // First SIGINT/SIGTERM cancels the run gracefully; a second one ends the process at once.
    SignalCanceller signals(canceller);
    return ExecuteRun(*job, run_id, env.runners(), **store, run_options);
  }();

  if (!run.ok()) {
    PrintError("run " + run_id.str() + ": " + run.status().message());
    return run.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitHostError;
  }
  std::cout << "run " << run->id.str() << " " << RunStatusName(run->status) << " in "
            << FormatDuration(run->ended_us - run->started_us) << ": "
            << printer.count(TaskState::kSucceeded) << " succeeded, "
            << printer.count(TaskState::kFailed) << " failed, "
            << printer.count(TaskState::kSkipped) + printer.count(TaskState::kUpstreamFailed)
            << " not run, " << printer.count(TaskState::kCancelled) << " cancelled\n";
  return run->status == RunStatus::kSucceeded ? kExitOk : kExitRunFailed;
}

int CmdRuns(const Args& args, HostEnv& env) {
  Result<StateStore*> store = env.Store();
  if (!store.ok()) {
    PrintError(store.status().message());
    return kExitHostError;
  }
  Result<std::vector<RunRecord>> runs =
      (*store)->ListRuns(JobId(args.job_filter.value_or("")), args.limit);
  if (!runs.ok()) {
    PrintError(runs.status().message());
    return kExitHostError;
  }
  std::cout << "RUN                                   JOB                 STATUS       STARTED"
               "               DURATION\n";
  for (const RunRecord& run : *runs) {
    char line[256];
    std::string duration = run.ended_us != 0 ? FormatDuration(run.ended_us - run.started_us) : "-";
    std::snprintf(line, sizeof line, "%-37s %-19s %-12s %-21s %s", run.id.str().c_str(),
                  run.job.str().c_str(), std::string(RunStatusName(run.status)).c_str(),
                  FormatTime(run.started_us).c_str(), duration.c_str());
    std::cout << line << "\n";
  }
  return kExitOk;
}

int CmdLogs(const Args& args, HostEnv& env) {
  Result<RunId> run_id = RunId::Parse(args.positional[0]);
  if (!run_id.ok()) {
    PrintError(run_id.status().message());
    return kExitUsage;
  }
  Result<StateStore*> store = env.Store();
  if (!store.ok()) {
    PrintError(store.status().message());
    return kExitHostError;
  }
  Result<std::optional<RunRecord>> run = (*store)->GetRun(*run_id);
  if (!run.ok() || !run->has_value()) {
    PrintError(run.ok() ? "no run " + run_id->str() + " in " + env.storage_uri()
                        : run.status().message());
    return run.ok() ? kExitUsage : kExitHostError;
  }
  LogQuery query;
  query.task = TaskId(args.positional.size() > 1 ? args.positional[1] : "");
  std::string current;
  bool ends_with_newline = true;
  Status read = ForEachLogChunk(**store, *run_id, query, [&](const LogChunk& chunk) {
    std::string header = "== " + chunk.task.str() + " (attempt " + std::to_string(chunk.attempt) +
                         ", " + (chunk.stream == OutputStream::kStdout ? "stdout" : "stderr") +
                         ") ==";
    if (header != current) {
      if (!ends_with_newline) std::cout << "\n";
      std::cout << header << "\n";
      current = header;
    }
    std::cout << chunk.data;
    if (!chunk.data.empty()) ends_with_newline = chunk.data.back() == '\n';
  });
  if (!ends_with_newline) std::cout << "\n";
  if (!read.ok()) {
    PrintError(read.message());
    return kExitHostError;
  }
  return kExitOk;
}

// `petit run DIR`: the daemon lives in daemon/; an invalid job file stops it from starting.
int CmdRun(const Args& args, HostEnv& env) {
  LoadedJobs loaded = LoadJobs(env, args.positional[0]);
  if (!ReportLoad(loaded)) {
    PrintError("not starting: fix the job files above (`petit validate " + args.positional[0] +
               "` lists them)");
    return kExitUsage;
  }
  return RunDaemon(env, std::move(loaded.jobs));
}

struct Command {
  std::string_view name;
  size_t min_args;
  size_t max_args;
  std::string_view usage;
  bool report_plugin_errors;  // commands that run or check jobs say which plugins did not load
  int (*handler)(const Args&, HostEnv&);
};

constexpr Command kCommandTable[] = {
    {"validate", 1, 1, "validate DIR", true, CmdValidate},
    {"trigger", 2, 2, "trigger DIR JOB", true, CmdTrigger},
    {"list", 1, 1, "list DIR", true, CmdList},
    {"plugins", 0, 0, "plugins", true, CmdPlugins},
    {"runs", 0, 0, "runs [--job JOB] [--limit N]", false, CmdRuns},
    {"logs", 1, 2, "logs RUN [TASK]", false, CmdLogs},
    {"run", 1, 1, "run DIR", true, CmdRun},
};

}  // namespace

int RunCli(int argc, char** argv) {
  Result<Args> args = ParseArgs(argc, argv);
  if (!args.ok()) {
    PrintError(args.status().message());
    return kExitUsage;
  }
  const std::string& name = args->command;
  if (name == "help") {
    std::cout << kUsage;
    return kExitOk;
  }
  if (name == "version") {
    std::cout << "petit " << PETIT_VERSION << " (plugin ABI " << PETIT_ABI_MAJOR << "."
              << PETIT_ABI_MINOR << ")\n";
    return kExitOk;
  }
  const Command* command = nullptr;
  for (const Command& candidate : kCommandTable) {
    if (candidate.name == name) command = &candidate;
  }
  if (args->positional.size() < command->min_args || args->positional.size() > command->max_args) {
    PrintError("usage: petit " + std::string(command->usage));
    return kExitUsage;
  }
  Result<std::unique_ptr<HostEnv>> env = HostEnv::Create(args->host);
  if (!env.ok() && command->handler == CmdValidate) {
    return ReportValidateConfigFailure(*args, env.status());
  }
  if (!env.ok()) {
    PrintError(env.status().message());
    return kExitUsage;
  }
  if (command->report_plugin_errors) {
    for (const std::string& error : (*env)->plugin_errors()) {
      PrintError("warning: plugin not loaded: " + error);
    }
  }
  return command->handler(*args, **env);
}

}  // namespace petit::host
