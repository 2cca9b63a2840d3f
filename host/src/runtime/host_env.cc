#include "runtime/host_env.h"

#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <filesystem>
#include <set>

#include "petit/core/execute_run.h"
#include "petit/core/suggest.h"
#include "petit/storage/open.h"
#include "plugins/plugin_task_runner.h"
#include "plugins/process_task_runner.h"
#include "runtime/process_registry.h"
#include "runtime/signal_canceller.h"

#ifndef PETIT_VERSION
#define PETIT_VERSION "0.0.0"
#endif
#ifndef PETIT_PLUGIN_SUBDIR
#define PETIT_PLUGIN_SUBDIR "lib/petit/plugins"
#endif

namespace petit::host {

std::string DefaultPluginDir() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return PETIT_PLUGIN_SUBDIR;
  return (exe.parent_path().parent_path() / PETIT_PLUGIN_SUBDIR).lexically_normal().string();
}

std::string_view PluginDirSourceName(PluginDirSource source) {
  switch (source) {
    case PluginDirSource::kDefault:
      return "default";
    case PluginDirSource::kConfig:
      return "petit.yaml";
    case PluginDirSource::kEnvironment:
      return "env";
    case PluginDirSource::kFlag:
      return "flag";
  }
  return "default";
}

std::vector<std::string> SplitPluginPath(std::string_view value) {
  std::vector<std::string> dirs;
  while (!value.empty()) {
    const size_t colon = value.find(':');
    const std::string_view dir = value.substr(0, colon);
    if (!dir.empty()) dirs.emplace_back(dir);
    if (colon == std::string_view::npos) break;
    value.remove_prefix(colon + 1);
  }
  return dirs;
}

namespace {

// The search path of LoadPlugins, in load order, each repeated directory marked.
std::vector<PluginSearchDir> SearchPath(const GlobalConfig& config, const HostOptions& options) {
  std::vector<PluginSearchDir> path;
  path.push_back(
      {DefaultPluginDir(), PluginDirSource::kDefault, "beside the petit executable", false});
  for (const std::string& dir : config.plugin_dirs) {
    path.push_back({dir, PluginDirSource::kConfig, config.source_file, false});
  }
  for (const std::string& dir : options.env_plugin_dirs) {
    path.push_back({dir, PluginDirSource::kEnvironment, "PETIT_PLUGIN_PATH", false});
  }
  for (const std::string& dir : options.plugin_dirs) {
    path.push_back({dir, PluginDirSource::kFlag, "--plugin-dir", false});
  }
  std::set<std::string> seen;
  for (PluginSearchDir& entry : path) {
    std::error_code ec;
    const std::filesystem::path canonical = std::filesystem::weakly_canonical(entry.dir, ec);
    entry.repeated = !seen.insert(ec ? entry.dir : canonical.string()).second;
  }
  return path;
}

}  // namespace

Result<std::unique_ptr<HostEnv>> HostEnv::Create(const HostOptions& options) {
  std::unique_ptr<HostEnv> env(new HostEnv());
  Result<GlobalConfig> config = options.without_config
                                    ? Result<GlobalConfig>(GlobalConfig{})
                                    : ResolveGlobalConfig(options.config_path, options.jobs_dir);
  if (!config.ok()) return config.status();
  env->config_ = std::move(config).value();
  if (options.max_parallel_tasks) env->config_.max_parallel_tasks = *options.max_parallel_tasks;

  Result<std::unique_ptr<ResourceManager>> resources =
      ResourceManager::Create(env->config_.resources);
  if (!resources.ok()) {
    std::string where = env->config_.source_file.empty() ? "resources" : env->config_.source_file;
    return resources.status().WithContext(where);
  }
  env->resources_ = std::move(resources).value();

  env->storage_uri_ = options.storage_uri.value_or(env->config_.storage_uri);
  if (env->storage_uri_.empty()) env->storage_uri_ = DefaultStorageUri();
  env->search_path_ = SearchPath(env->config_, options);
  env->plugin_probe_executable_ = options.plugin_probe_executable;
  return env;
}

HostEnv::~HostEnv() {
  if (AbandonedWorkerThreads() == 0) return;
  // Reachable from a static, so leak checkers do not count it.
  static auto* const kept = new std::vector<std::pair<PluginLoadResult, TaskRunnerRegistry>>();
  kept->emplace_back(std::move(plugins_), std::move(runners_));
}

void HostEnv::LoadPlugins() {
  if (plugins_loaded_) return;
  plugins_loaded_ = true;
  // Threads a plugin starts in its init hook inherit this thread's mask.
  const ScopedTerminationSignalsBlocked blocked;
  PluginLoader loader(PETIT_VERSION);
  loader.KeepLibrariesMapped();
  // A shutdown hook gets as long as a task that ignores its cancel, and at least a second.
  loader.SetShutdownLimit(std::max(config_.plugins.cancel_grace, std::chrono::milliseconds(1000)));
  const std::string bundled = DefaultPluginDir();
  loader.SetProbe({.executable = plugin_probe_executable_, .trusted_dir = bundled});
  for (size_t index = 0; index < search_path_.size(); ++index) {
    const PluginSearchDir& entry = search_path_[index];
    if (entry.repeated) continue;
    // The default directory may legitimately not exist; one the user named must.
    loader.LoadDirectory(entry.dir, entry.source == PluginDirSource::kDefault
                                        ? PluginLoader::MissingDirectory::kIgnore
                                        : PluginLoader::MissingDirectory::kError);
    plugin_search_index_.resize(loader.result().plugins.size(), index);
  }
  plugins_ = loader.Release();
  for (const Status& error : plugins_.errors) plugin_errors_.push_back(error.message());
  const PluginsConfig& isolation = config_.plugins;
  std::set<std::string, std::less<>> plugin_names;
  std::set<std::string, std::less<>> type_names;
  for (const auto& plugin : plugins_.plugins) {
    plugin_names.insert(plugin->name());
    for (const PluginTaskType& type : plugin->task_types()) {
      type_names.insert(type.info.name);
      std::shared_ptr<TaskRunner> runner;
      if (isolation.IsolationOf(plugin->name(), type.info.name) == PluginIsolation::kProcess) {
        ProcessIsolationOptions options;
        options.plugin_file = plugin->file();
        options.plugin_name = plugin->name();
        options.type_name = type.info.name;
        options.serial = (type.info.flags & PETIT_TASK_SERIAL) != 0;
        options.memory_limit_mb = isolation.memory_limit_mb;
        options.cancel_grace = isolation.cancel_grace;
        runner = std::make_shared<ProcessTaskRunner>(std::move(options));
      } else {
        const bool first_party =
            std::find(std::begin(kFirstPartyPlugins), std::end(kFirstPartyPlugins),
                      plugin->name()) != std::end(kFirstPartyPlugins);
        runner = std::make_shared<PluginTaskRunner>(plugin, type, first_party);
      }
      Status registered = runners_.Register(type.info.name, std::move(runner));
      if (!registered.ok()) plugin_errors_.push_back(registered.message());
    }
  }
  // A name that matches nothing is most likely a typo; the plugin may also just be missing.
  auto check = [&](const auto& names, const auto& known, const char* key, int line) {
    const std::vector<std::string_view> candidates(known.begin(), known.end());
    for (const auto& [name, mode] : names) {
      if (known.count(name) != 0) continue;
      std::string warning = isolation.source_file + ":" + std::to_string(line) + ": plugins." +
                            key + " names '" + name + "', which no loaded plugin provides";
      if (auto close = ClosestMatch(name, candidates))
        warning += " (did you mean '" + *close + "'?)";
      config_warnings_.push_back(std::move(warning));
    }
  };
  check(isolation.per_plugin, plugin_names, "per_plugin", isolation.per_plugin_line);
  check(isolation.per_type, type_names, "per_type", isolation.per_type_line);
}

const TaskRunnerRegistry& HostEnv::runners() const {
  assert(plugins_loaded_ && "HostEnv::LoadPlugins() first");
  return runners_;
}

const PluginLoadResult& HostEnv::plugins() const {
  assert(plugins_loaded_ && "HostEnv::LoadPlugins() first");
  return plugins_;
}

const PluginSearchDir& HostEnv::SearchDirOf(size_t plugin_index) const {
  assert(plugins_loaded_ && plugin_index < plugin_search_index_.size());
  return search_path_[plugin_search_index_[plugin_index]];
}

const std::vector<std::string>& HostEnv::plugin_errors() const {
  assert(plugins_loaded_ && "HostEnv::LoadPlugins() first");
  return plugin_errors_;
}

Result<StateStore*> HostEnv::Store() { return OpenStore({.quick_check = false}); }

Result<StateStore*> HostEnv::StoreForDaemon() { return OpenStore({.quick_check = true}); }

Result<StateStore*> HostEnv::StoreForReading() {
  // A reader creates nothing, and does not pay for a check of the whole file on each command.
  return OpenStore({.create = false, .quick_check = false});
}

Result<StateStore*> HostEnv::OpenStore(const storage::OpenOptions& options) {
  if (store_) return store_.get();
  Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(storage_uri_, options);
  if (!store.ok()) return store.status();
  store_ = std::move(store).value();
  // Nothing of a memory: store's runs survives this process, so notes of their processes would
  // serve no later start's recovery.
  if (!storage::OutlivesProcess(storage_uri_)) SkipProcessNotes();
  return store_.get();
}

}  // namespace petit::host
