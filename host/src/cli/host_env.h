// HostEnv: what a CLI command needs, assembled once: the global config, loaded plugins and their
// task runners, and (on demand) the state store.
//
// Ownership: HostEnv owns everything it assembles; runners keep their plugin libraries alive.
// Threads: built and used on the main thread; the registry and store are then shared with the
// engine, which documents its own threading.
#ifndef PETIT_HOST_CLI_HOST_ENV_H_
#define PETIT_HOST_CLI_HOST_ENV_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/global_config.h"
#include "petit/core/resources.h"
#include "petit/core/state_store.h"
#include "petit/core/task_runner.h"
#include "plugins/plugin_loader.h"

namespace petit::host {

struct HostOptions {
  std::optional<std::string> config_path;
  std::optional<std::string> jobs_dir;
  std::optional<std::string> storage_uri;
  std::vector<std::string> plugin_dirs;
  std::optional<uint32_t> max_parallel_tasks;
};

class HostEnv {
 public:
  // Reads the config and loads plugins. Plugin refusals are kept in plugin_errors(), not fatal.
  static Result<std::unique_ptr<HostEnv>> Create(const HostOptions& options);

  const GlobalConfig& config() const { return config_; }
  const TaskRunnerRegistry& runners() const { return runners_; }
  const PluginLoadResult& plugins() const { return plugins_; }
  const std::vector<std::string>& plugin_errors() const { return plugin_errors_; }
  std::vector<std::string> TaskTypeNames() const { return runners_.Types(); }
  // The pools of petit.yaml, shared by every run this process starts.
  ResourceManager& resources() const { return *resources_; }

  // Opens the configured store (the --storage URI, petit.yaml's, or the default SQLite file).
  Result<StateStore*> Store();
  const std::string& storage_uri() const { return storage_uri_; }

 private:
  HostEnv() = default;

  GlobalConfig config_;
  PluginLoadResult plugins_;
  TaskRunnerRegistry runners_;
  std::vector<std::string> plugin_errors_;
  std::string storage_uri_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<ResourceManager> resources_;
};

// The first-party plugin directory: <dir of the petit executable>/../lib/petit/plugins.
std::string DefaultPluginDir();

}  // namespace petit::host

#endif  // PETIT_HOST_CLI_HOST_ENV_H_
