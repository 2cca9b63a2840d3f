#include "runtime/load_jobs.h"

#include <iostream>
#include <utility>
#include <vector>

namespace petit::host {

LoadedJobs LoadHostJobs(const HostEnv& env, const std::string& dir) {
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

bool ReportLoad(const LoadedJobs& loaded) {
  for (const Diagnostic& warning : loaded.warnings) {
    std::cerr << "warning: " << warning.ToString() << "\n";
  }
  for (const Diagnostic& error : loaded.errors) std::cerr << "error: " << error.ToString() << "\n";
  return loaded.errors.empty();
}

}  // namespace petit::host
