// HostEnv: what this process knows of its host, assembled once per command: the global config and
// its resource pools, and on demand the loaded plugins with their task runners, and the state
// store. A command pays only for what it asks for: `petit runs` reads petit.yaml and opens the
// store but loads no plugin.
//
// Ownership: HostEnv owns everything it assembles; runners keep their plugin libraries alive.
// Threads: built and used on the main thread; the registry, pools and store are then shared with
// the engine, which documents its own threading.
#ifndef PETIT_HOST_RUNTIME_HOST_ENV_H_
#define PETIT_HOST_RUNTIME_HOST_ENV_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/global_config.h"
#include "petit/core/resources.h"
#include "petit/core/state_store.h"
#include "petit/core/task_runner.h"
#include "petit/storage/open.h"
#include "plugins/plugin_loader.h"

namespace petit::host {

// What the command line (or a test) says about the host, over petit.yaml.
struct HostOptions {
  std::optional<std::string> config_path;
  std::optional<std::string> jobs_dir;
  std::optional<std::string> storage_uri;
  std::vector<std::string> plugin_dirs;
  std::optional<uint32_t> max_parallel_tasks;
  // The petit binary that loads each third-party plugin in a child first (PluginProbeOptions);
  // empty = none. Set by the CLI, never by a test that is not running the real petit.
  std::string plugin_probe_executable;
};

class HostEnv {
 public:
  // Reads the config and builds its resource pools; loads no plugin and opens no store.
  static Result<std::unique_ptr<HostEnv>> Create(const HostOptions& options);
  // Keeps the plugins loaded for the rest of the process when a worker thread was abandoned in
  // plugin code (RunOptions::cancel_grace): that thread may still run it.
  ~HostEnv();

  const GlobalConfig& config() const { return config_; }
  // The pools of petit.yaml, shared by every run this process starts.
  ResourceManager& resources() const { return *resources_; }

  // Loads the plugins of the default directory, petit.yaml's and --plugin-dir's, once. A plugin
  // that is refused is kept in plugin_errors(), not fatal.
  void LoadPlugins();
  bool plugins_loaded() const { return plugins_loaded_; }
  // These three require LoadPlugins().
  const TaskRunnerRegistry& runners() const;
  const PluginLoadResult& plugins() const;
  const std::vector<std::string>& plugin_errors() const;
  // petit.yaml settings about plugins that match none (a typo, or a plugin that did not load).
  const std::vector<std::string>& config_warnings() const { return config_warnings_; }
  std::vector<std::string> TaskTypeNames() const { return runners().Types(); }

  // Opens the configured store (the --storage URI, petit.yaml's, or the default SQLite file) on
  // first use.
  Result<StateStore*> Store();
  // The same for a command that only reads the store (runs, logs, cancel): a SQLite file in a
  // directory that does not exist is an error instead of a new, empty store, and the file is not
  // quick_check'ed (storage::OpenOptions).
  Result<StateStore*> StoreForReading();
  const std::string& storage_uri() const { return storage_uri_; }

 private:
  HostEnv() = default;
  Result<StateStore*> OpenStore(const storage::OpenOptions& options);

  GlobalConfig config_;
  std::vector<std::string> extra_plugin_dirs_;  // --plugin-dir, after petit.yaml's
  std::string plugin_probe_executable_;
  bool plugins_loaded_ = false;
  PluginLoadResult plugins_;
  TaskRunnerRegistry runners_;
  std::vector<std::string> plugin_errors_;
  std::vector<std::string> config_warnings_;
  std::string storage_uri_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<ResourceManager> resources_;
};

// The first-party plugin directory: <dir of the petit executable>/../lib/petit/plugins.
std::string DefaultPluginDir();

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_HOST_ENV_H_
