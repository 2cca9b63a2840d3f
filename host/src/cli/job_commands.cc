#include <chrono>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "api/api_service.h"
#include "cli/commands.h"
#include "config/global_config.h"
#include "petit/core/json.h"
#include "petit/core/schedule.h"
#include "petit/host/exit_codes.h"
#include "runtime/daemon.h"
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
  if (args.json) {
    std::cout << ValidationJson(report, ValidationTime(args));
  } else {
    ReportLoad(report);
  }
  return kExitUsage;
}

int CmdList(const Args& args, std::unique_ptr<HostEnv> env) {
  LoadedJobs loaded = LoadHostJobs(*env, args.operands[0]);
  bool ok = ReportLoad(loaded);
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

int CmdPlugins(const Args& /*args*/, std::unique_ptr<HostEnv> env) {
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
    PrintError("no plugins loaded (looked in " + DefaultPluginDir() + ")");
    return kExitHostError;
  }
  return kExitOk;
}

// An invalid job file stops the daemon from starting: it would silently not run those jobs.
int CmdRun(const Args& args, std::unique_ptr<HostEnv> env) {
  LoadedJobs loaded = LoadHostJobs(*env, args.operands[0]);
  if (!ReportLoad(loaded)) {
    PrintError("not starting: fix the job files above (`petit validate " + args.operands[0] +
               "` lists them)");
    return kExitUsage;
  }
  HostOptions reload = args.host;  // a reload (SIGHUP) reads the same directory and petit.yaml
  reload.jobs_dir = args.operands[0];
  std::unique_ptr<ApiService> api;
  if (env->config().api.enabled) api = std::make_unique<ApiService>(env->config().api, reload);
  return ServeUntilSignalled(std::move(env), std::move(loaded.jobs), reload, api.get());
}

}  // namespace petit::host
