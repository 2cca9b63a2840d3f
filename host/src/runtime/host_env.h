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
#include <string_view>
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
  std::vector<std::string> plugin_dirs;      // --plugin-dir
  std::vector<std::string> env_plugin_dirs;  // PETIT_PLUGIN_PATH (SplitPluginPath), read by the CLI
  std::optional<uint32_t> max_parallel_tasks;
  // The petit binary that loads each third-party plugin in a child first (PluginProbeOptions);
  // empty = none. Set by the CLI, never by a test that is not running the real petit.
  std::string plugin_probe_executable;
  // petit.yaml is not read: its defaults stand (`petit validate` checking the job files of a
  // directory whose petit.yaml is invalid).
  bool without_config = false;
};

// Where a directory of the plugin search path came from.
enum class PluginDirSource : uint8_t {
  kDefault,      // beside the petit executable
  kConfig,       // petit.yaml's plugin_dirs
  kEnvironment,  // PETIT_PLUGIN_PATH
  kFlag,         // --plugin-dir
};
// "default", "petit.yaml", "env", "flag": the words `petit plugins` prints, in text and JSON.
std::string_view PluginDirSourceName(PluginDirSource source);

// One directory of the plugin search path.
struct PluginSearchDir {
  std::string dir;  // as named (relative ones stay relative)
  PluginDirSource source = PluginDirSource::kDefault;
  std::string origin;     // what named it: the petit.yaml file, "PETIT_PLUGIN_PATH", "--plugin-dir"
  bool repeated = false;  // the same directory as an earlier entry, so not searched again
};

// PETIT_PLUGIN_PATH's value as directories: split at ':', like PATH; empty entries are dropped.
std::vector<std::string> SplitPluginPath(std::string_view value);

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

  // The directories LoadPlugins searches, in order: the default one, petit.yaml's plugin_dirs,
  // PETIT_PLUGIN_PATH's, then --plugin-dir's. The first plugin to provide a task type keeps it.
  const std::vector<PluginSearchDir>& plugin_search_path() const { return search_path_; }

  // Loads the plugins of every directory of plugin_search_path(), once. A plugin that is refused
  // is kept in plugin_errors(), not fatal.
  void LoadPlugins();
  bool plugins_loaded() const { return plugins_loaded_; }
  // These three require LoadPlugins().
  const TaskRunnerRegistry& runners() const;
  const PluginLoadResult& plugins() const;
  const std::vector<std::string>& plugin_errors() const;
  // The entry of plugin_search_path() that plugins().plugins[index] was loaded from.
  const PluginSearchDir& SearchDirOf(size_t plugin_index) const;
  // petit.yaml settings about plugins that match none (a typo, or a plugin that did not load).
  const std::vector<std::string>& config_warnings() const { return config_warnings_; }
  std::vector<std::string> TaskTypeNames() const { return runners().Types(); }

  // Opens the configured store (the --storage URI, petit.yaml's, or the default SQLite file) on
  // first use. A one-shot command (trigger, retry) does not read a SQLite file whole to check it:
  // that costs about 0.5 s per 100 MB of history on every call, and a damaged page it touches is
  // reported anyway (kDataLoss, "... is damaged").
  Result<StateStore*> Store();
  // The same for `petit run`, which lives with the store: a damaged SQLite file is refused at
  // start (PRAGMA quick_check) rather than found in the middle of the night.
  Result<StateStore*> StoreForDaemon();
  // The same for a command that only reads the store (runs, logs, cancel): a SQLite file in a
  // directory that does not exist is an error instead of a new, empty store, and the file is not
  // quick_check'ed (storage::OpenOptions).
  Result<StateStore*> StoreForReading();
  const std::string& storage_uri() const { return storage_uri_; }

 private:
  HostEnv() = default;
  Result<StateStore*> OpenStore(const storage::OpenOptions& options);

  GlobalConfig config_;
  std::vector<PluginSearchDir> search_path_;
  std::vector<size_t> plugin_search_index_;  // per loaded plugin, its entry in search_path_
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
