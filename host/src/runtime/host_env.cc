#include "runtime/host_env.h"

#include <unistd.h>

#include <cassert>
#include <filesystem>
#include <set>

#include "petit/storage/open.h"
#include "plugins/plugin_task_runner.h"

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

Result<std::unique_ptr<HostEnv>> HostEnv::Create(const HostOptions& options) {
  std::unique_ptr<HostEnv> env(new HostEnv());
  Result<GlobalConfig> config = ResolveGlobalConfig(options.config_path, options.jobs_dir);
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
  env->extra_plugin_dirs_ = options.plugin_dirs;
  return env;
}

void HostEnv::LoadPlugins() {
  if (plugins_loaded_) return;
  plugins_loaded_ = true;
  PluginLoader loader(PETIT_VERSION);
  std::set<std::string> seen;
  auto load = [&](const std::string& dir, PluginLoader::MissingDirectory missing) {
    std::error_code ec;
    std::filesystem::path canonical = std::filesystem::weakly_canonical(dir, ec);
    if (!seen.insert(ec ? dir : canonical.string()).second) return;
    loader.LoadDirectory(dir, missing);
  };
  load(DefaultPluginDir(), PluginLoader::MissingDirectory::kIgnore);
  for (const std::string& dir : config_.plugin_dirs) {
    load(dir, PluginLoader::MissingDirectory::kError);
  }
  for (const std::string& dir : extra_plugin_dirs_) {
    load(dir, PluginLoader::MissingDirectory::kError);
  }
  plugins_ = loader.Release();
  for (const Status& error : plugins_.errors) plugin_errors_.push_back(error.message());
  for (const auto& plugin : plugins_.plugins) {
    for (const PluginTaskType& type : plugin->task_types()) {
      Status registered =
          runners_.Register(type.info.name, std::make_shared<PluginTaskRunner>(plugin, type));
      if (!registered.ok()) plugin_errors_.push_back(registered.message());
    }
  }
}

const TaskRunnerRegistry& HostEnv::runners() const {
  assert(plugins_loaded_ && "HostEnv::LoadPlugins() first");
  return runners_;
}

const PluginLoadResult& HostEnv::plugins() const {
  assert(plugins_loaded_ && "HostEnv::LoadPlugins() first");
  return plugins_;
}

const std::vector<std::string>& HostEnv::plugin_errors() const {
  assert(plugins_loaded_ && "HostEnv::LoadPlugins() first");
  return plugin_errors_;
}

Result<StateStore*> HostEnv::Store() { return OpenStore({}); }

Result<StateStore*> HostEnv::StoreForReading() {
  // A reader creates nothing, and does not pay for a check of the whole file on each command.
  return OpenStore({.create_directories = false, .quick_check = false});
}

Result<StateStore*> HostEnv::OpenStore(const storage::OpenOptions& options) {
  if (store_) return store_.get();
  Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(storage_uri_, options);
  if (!store.ok()) return store.status();
  store_ = std::move(store).value();
  return store_.get();
}

}  // namespace petit::host
