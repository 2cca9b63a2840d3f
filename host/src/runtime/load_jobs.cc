#include "runtime/load_jobs.h"

#include <algorithm>
#include <iostream>
#include <utility>
#include <vector>

#include "petit/core/resources.h"

namespace petit::host {

LoadedJobs LoadHostJobs(const HostEnv& env, const std::string& dir) {
  return LoadHostJobs(env, dir, env.config().timezone);
}

LoadedJobs LoadHostJobs(const HostEnv& env, const std::string& dir,
                        const std::string& default_time_zone) {
  JobLoaderOptions options;
  options.known_types = env.TaskTypeNames();
  options.default_time_zone = default_time_zone;
  options.check_resources = [&env](const ResourceRequirements& requirements) {
    return env.resources().Check(requirements);
  };
  for (const auto& plugin : env.plugins().plugins) {
    for (const PluginTaskType& type : plugin->task_types()) {
      if (type.info.params_schema_json) {
        options.params_schemas.emplace(type.info.name, *type.info.params_schema_json);
      }
    }
  }
  return LoadJobDirectory(dir, options);
}

bool ReportLoad(const LoadedJobs& loaded) {
  for (const Diagnostic& warning : loaded.warnings) {
    std::cerr << "warning: " << warning.ToString() << "\n";
  }
  for (const Diagnostic& error : loaded.errors) std::cerr << "error: " << error.ToString() << "\n";
  return loaded.errors.empty();
}

bool DeclaredTwice(const LoadedJobs& loaded, std::string_view id) {
  return std::binary_search(loaded.duplicate_ids.begin(), loaded.duplicate_ids.end(), id);
}

std::string DeclaredTwiceMessage(std::string_view id, std::string_view dir) {
  return "job '" + std::string(id) + "' is declared by more than one file in " + std::string(dir) +
         ", so which one to run is ambiguous: give each its own id (the errors above name the "
         "files)";
}

}  // namespace petit::host
