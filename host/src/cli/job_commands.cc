#include <chrono>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/api_loader.h"
#include "cli/commands.h"
#include "config/global_config.h"
#include "config/json_document.h"
#include "config/yaml_document.h"
#include "config/yaml_support.h"
#include "petit/core/json.h"
#include "petit/core/schedule.h"
#include "petit/host/exit_codes.h"
#include "plugins/exit_guard.h"
#include "runtime/daemon.h"
#include "runtime/daemon_log.h"
#include "runtime/load_jobs.h"

namespace petit::host {
namespace {

constexpr size_t kNextFireTimes = 3;

void AppendDiagnosticsJson(std::string& json, const std::vector<Diagnostic>& diagnostics) {
  json += "[";
  for (size_t i = 0; i < diagnostics.size(); ++i) {
    const Diagnostic& d = diagnostics[i];
    if (i != 0) json += ",";
    json += "{\"file\":" + JsonUtf8String(d.file) + ",\"line\":" + std::to_string(d.line) +
            ",\"column\":" + std::to_string(d.column) + ",\"key\":" + JsonUtf8String(d.key) +
            ",\"message\":" + JsonUtf8String(d.message) + "}";
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
    json += "{\"id\":" + JsonUtf8String(job.id.str()) +
            ",\"file\":" + JsonUtf8String(job.source_file) +
            ",\"tasks\":" + std::to_string(job.dag.size()) +
            ",\"enabled\":" + (job.enabled ? "true" : "false") + ",\"schedule\":";
    if (!job.schedule) {
      json += "null,\"timezone\":null,\"next\":[]}";
      continue;
    }
    json += JsonUtf8String(job.schedule->expression()) +
            ",\"timezone\":" + JsonUtf8String(job.schedule->time_zone()) + ",\"next\":[";
    std::vector<int64_t> next = job.schedule->NextN(now_us, kNextFireTimes);
    for (size_t t = 0; t < next.size(); ++t) {
      if (t != 0) json += ",";
      json += JsonUtf8String(job.schedule->FormatLocal(next[t]));
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

std::string JsonTextOrNull(const std::string& text) {
  return text.empty() ? "null" : JsonUtf8String(text);
}

// `petit list --json`: an array of the valid jobs, shaped like the API's job summary.
std::string JobsJson(const std::vector<Job>& jobs, int64_t now_us) {
  std::string json = "[";
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Job& job = jobs[i];
    if (i != 0) json += ",";
    json += "\n{\"id\":" + JsonUtf8String(job.id.str()) + ",\"name\":" + JsonUtf8String(job.name) +
            ",\"description\":" + JsonTextOrNull(job.description) +
            ",\"file\":" + JsonUtf8String(job.source_file) +
            ",\"enabled\":" + (job.enabled ? "true" : "false") +
            ",\"task_count\":" + std::to_string(job.dag.size()) +
            ",\"max_active_runs\":" + std::to_string(job.max_active_runs) + ",\"schedule\":";
    if (job.schedule) {
      json += JsonUtf8String(job.schedule->expression()) +
              ",\"timezone\":" + JsonUtf8String(job.schedule->time_zone()) + ",\"next_fire_at\":";
      std::vector<int64_t> next = job.schedule->NextN(now_us, 1);
      json += job.enabled && !next.empty() ? std::to_string(next.front() / 1000) : "null";
    } else {
      json += "null,\"timezone\":null,\"next_fire_at\":null";
    }
    json += ",\"depends_on\":[";
    for (size_t d = 0; d < job.depends_on.size(); ++d) {
      if (d != 0) json += ",";
      json += JsonUtf8String(job.depends_on[d].job.str());
    }
    json += "]}";
  }
  json += jobs.empty() ? "]\n" : "\n]\n";
  return json;
}

// A plugin's parameter schema as JSON whatever the plugin wrote (YAML is a superset of JSON);
// null when it declares none or it cannot be read.
std::string SchemaJson(const std::optional<std::string>& schema) {
  if (!schema) return "null";
  std::optional<internal::YamlDocument> document = internal::ParseStrictJson(*schema);
  if (!document) document = internal::ParseYamlDocument(*schema, "parameter schema");
  return document->errors.empty() ? YamlToJson(document->root) : "null";
}

// `petit plugins --json`: an array of the loaded plugins with their task types.
std::string PluginsJson(const HostEnv& env) {
  std::string json = "[";
  bool first_plugin = true;
  for (size_t index = 0; index < env.plugins().plugins.size(); ++index) {
    const auto& plugin = env.plugins().plugins[index];
    const PluginSearchDir& dir = env.SearchDirOf(index);
    json += first_plugin ? "\n" : ",\n";
    first_plugin = false;
    json += "{\"name\":" + JsonUtf8String(plugin->name()) +
            ",\"version\":" + JsonUtf8String(plugin->version()) +
            ",\"file\":" + JsonUtf8String(plugin->file()) + ",\"dir\":" + JsonUtf8String(dir.dir) +
            ",\"dir_source\":" + JsonUtf8String(PluginDirSourceName(dir.source)) +
            ",\"task_types\":[";
    bool first_type = true;
    for (const PluginTaskType& type : plugin->task_types()) {
      json += first_type ? "" : ",";
      first_type = false;
      json += "{\"name\":" + JsonUtf8String(type.info.name) +
              ",\"summary\":" + JsonTextOrNull(type.info.summary) + ",\"isolation\":" +
              JsonUtf8String(PluginIsolationName(
                  env.config().plugins.IsolationOf(plugin->name(), type.info.name))) +
              ",\"params_schema\":" + SchemaJson(type.info.params_schema_json) + "}";
    }
    json += "]}";
  }
  json += first_plugin ? "]\n" : "\n]\n";
  return json;
}

// The search path, one directory a line, each with where it came from.
void PrintSearchPath(const HostEnv& env) {
  std::cout << "plugin search path, in load order (the first plugin to provide a task type "
               "keeps it):\n";
  for (const PluginSearchDir& entry : env.plugin_search_path()) {
    std::cout << "  " << entry.dir << "  (" << PluginDirSourceName(entry.source);
    if (!entry.origin.empty()) std::cout << ": " << entry.origin;
    std::error_code ec;
    const std::filesystem::file_status status = std::filesystem::status(entry.dir, ec);
    if (entry.repeated) {
      std::cout << "; searched above already";
    } else if (!std::filesystem::exists(status)) {
      std::cout << "; does not exist";
    } else if (!std::filesystem::is_directory(status)) {
      std::cout << "; not a directory";
    }
    std::cout << ")\n";
  }
}

// Every directory searched, for the message that no plugin was found.
std::string SearchedDirs(const HostEnv& env) {
  std::string dirs;
  for (const PluginSearchDir& entry : env.plugin_search_path()) {
    if (entry.repeated) continue;
    dirs += (dirs.empty() ? "" : ", ") + entry.dir;
  }
  return dirs;
}

}  // namespace

int CmdValidate(const Args& args, std::unique_ptr<HostEnv> env) {
  LoadedJobs loaded = LoadHostJobs(*env, args.operands[0]);
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
  // The job files' own errors too, checked with petit.yaml's defaults, so that one pass still
  // lists every error; types only a plugin of petit.yaml's plugin_dirs defines may read unknown.
  HostOptions defaults = args.host;
  defaults.without_config = true;
  if (Result<std::unique_ptr<HostEnv>> env = HostEnv::Create(defaults); env.ok()) {
    InstallPluginExitGuard();
    (*env)->LoadPlugins();
    LoadedJobs jobs = LoadHostJobs(**env, args.operands[0]);
    report.files = jobs.files;
    report.errors.insert(report.errors.end(), jobs.errors.begin(), jobs.errors.end());
    report.warnings = std::move(jobs.warnings);
    report.warnings.push_back({report.errors.front().file, 0, 0, "",
                               "job files checked with petit.yaml's defaults, since it is invalid: "
                               "task types of plugins in its plugin_dirs read as unknown"});
  }
  if (args.json) {
    std::cout << ValidationJson(report, ValidationTime(args));
  } else {
    ReportLoad(report);
    std::cout << report.files << " files, 0 valid jobs, " << report.errors.size() << " errors\n";
  }
  return kExitUsage;
}

int CmdList(const Args& args, std::unique_ptr<HostEnv> env) {
  LoadedJobs loaded = LoadHostJobs(*env, args.operands[0]);
  bool ok = ReportLoad(loaded);
  if (args.json) {
    std::cout << JobsJson(loaded.jobs, ValidationTime(args));
    return ok ? kExitOk : kExitUsage;
  }
  for (const Job& job : loaded.jobs) {
    std::string schedule = "-";
    if (job.schedule) {
      schedule = job.schedule->expression() + " (" + job.schedule->time_zone() + ")";
    }
    std::cout << job.id.str() << "\t" << job.dag.size() << " tasks\t"
              << (job.enabled ? "enabled" : "disabled") << "\t" << schedule << "\t" << job.name
              << "\n";
  }
  return ok ? kExitOk : kExitUsage;
}

int CmdPlugins(const Args& args, std::unique_ptr<HostEnv> env) {
  if (args.json) {
    std::cout << PluginsJson(*env);
    if (env->plugins().plugins.empty()) {
      PrintError("no plugins loaded (looked in " + SearchedDirs(*env) + ")");
      return kExitHostError;
    }
    return kExitOk;
  }
  PrintSearchPath(*env);
  for (const auto& plugin : env->plugins().plugins) {
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
  if (env->plugins().plugins.empty()) {
    PrintError("no plugins loaded (looked in " + SearchedDirs(*env) + ")");
    return kExitHostError;
  }
  return kExitOk;
}

// An invalid job file stops the daemon from starting: it would silently not run those jobs.
int CmdRun(const Args& args, std::unique_ptr<HostEnv> env) {
  LoadedJobs loaded = LoadHostJobs(*env, args.operands[0]);
  if (env->config().logging.format == LogFormat::kJson) {
    // The daemon's log starts here: a reader of json lines gets these as json lines too.
    DaemonLog log(env->config().logging);
    for (const Diagnostic& warning : loaded.warnings) log.Warn(warning.ToString());
    for (const Diagnostic& error : loaded.errors) log.Error(error.ToString());
    if (!loaded.errors.empty()) {
      log.Error("not starting: fix the job files above (`petit validate " + args.operands[0] +
                "` lists them)");
      return kExitUsage;
    }
  } else if (!ReportLoad(loaded)) {
    PrintError("not starting: fix the job files above (`petit validate " + args.operands[0] +
               "` lists them)");
    return kExitUsage;
  }
  HostOptions reload = args.host;  // a reload (SIGHUP) reads the same directory and petit.yaml
  reload.jobs_dir = args.operands[0];
  std::unique_ptr<ApiCompanion> api;
  if (env->config().api.enabled) api = std::make_unique<ApiCompanion>(env->config().api, reload);
  return ServeUntilSignalled(std::move(env), std::move(loaded.jobs), reload, api.get());
}

}  // namespace petit::host
