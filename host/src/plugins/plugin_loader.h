// PluginLoader: finds plugin libraries, checks their ABI block, runs the init handshake and keeps
// each accepted library loaded for as long as anything built from it exists.
//
// Every refusal is a one-line Status naming the file and the values involved; the loader records
// it and goes on with the next library, so one broken plugin never stops the host. Checks, in
// order: with a probe set, a library that does not ship with petit loads cleanly in a child first
// (plugin_probe.h), so one that crashes, exits or hangs while loading is refused instead of taking
// the host with it; the library loads (RTLD_NOW | RTLD_LOCAL, never RTLD_GLOBAL); it exports
// petit_plugin_abi_info; the block has the magic, a sufficient struct_size and an equal ABI major
// and a minor no newer than the host's; its plugin name is valid and not loaded already; it exports
// petit_plugin_init; init accepts; the descriptor and each task type are well formed. A task type
// whose name another library already provides is skipped alone; the rest of its library stays.
//
// Ownership: a LoadedPlugin owns its library (through a pimpl holding the Boost.DLL
// shared_library). It is shared: the load result holds it, and so does every runner built from it
// (PluginTaskRunner), so the library outlives every object that could call into it. When the last
// owner lets go, the plugin's shutdown hook runs once (for at most the shutdown limit) and then
// the library is unloaded, unless the loader keeps libraries mapped (the host does).
// Threads: a PluginLoader is used by one thread at a time. A LoadedPlugin is immutable after
// loading and may be read from any thread.
#ifndef PETIT_HOST_PLUGINS_PLUGIN_LOADER_H_
#define PETIT_HOST_PLUGINS_PLUGIN_LOADER_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "petit/core/status.h"
#include "petit/plugin.h"
#include "plugins/plugin_probe.h"

namespace petit::host {

// How long a plugin's shutdown hook may run before petit gives up on it and exits.
inline constexpr std::chrono::milliseconds kPluginShutdownLimit{10000};

// What `petit plugins` lists about one task type.
struct TaskTypeInfo {
  std::string name;
  std::string summary;
  std::optional<std::string> params_schema_json;
  uint32_t flags = 0;  // PETIT_TASK_*
  std::string plugin_name;
  std::string plugin_version;
  std::string plugin_file;
};

// One task type as the host keeps it: a description plus the host's own zero-filled copy of the
// plugin's petit_task_type. The hooks in `abi` are valid while the owning LoadedPlugin lives.
struct PluginTaskType {
  TaskTypeInfo info;
  petit_task_type abi{};
};

class LoadedPlugin {
 public:
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;
  // Calls the plugin's shutdown hook (if any), then unloads the library (unless the loader kept
  // it mapped: PluginLoader::KeepLibrariesMapped). A hook that has not returned after the
  // shutdown limit (PluginLoader::SetShutdownLimit) ends the process with kExitHostError and one
  // line naming the plugin.
  ~LoadedPlugin();

  const std::string& name() const { return name_; }
  const std::string& version() const { return version_; }
  const std::string& file() const { return file_; }
  // In the order the descriptor declared them, without the ones skipped as duplicates.
  const std::vector<PluginTaskType>& task_types() const { return task_types_; }
  const PluginTaskType* FindTaskType(std::string_view name) const;

 private:
  friend class PluginLoader;
  class Library;  // the Boost.DLL handle; defined in plugin_loader.cc

  LoadedPlugin(std::unique_ptr<Library> library, std::string name, std::string version,
               std::string file);

  std::unique_ptr<Library> library_;
  std::string name_;
  std::string version_;
  std::string file_;
  petit_plugin_descriptor descriptor_{};  // host copy; zero until init accepted
  std::vector<PluginTaskType> task_types_;
  std::chrono::milliseconds shutdown_limit_ = kPluginShutdownLimit;
};

struct PluginLoadResult {
  std::vector<std::shared_ptr<const LoadedPlugin>> plugins;  // in load order
  // One per refused library or skipped task type, each a single line naming the file.
  std::vector<Status> errors;

  // Every task type of every loaded plugin, in load order.
  std::vector<TaskTypeInfo> TaskTypes() const;
};

// Where and how long libraries are loaded in a child before the host loads them.
struct PluginProbeOptions {
  // A petit binary of the host's version (the CLI's own); empty = no probe. Never a test binary's
  // /proc/self/exe: it would start copies of the test.
  std::string executable;
  std::chrono::milliseconds time_limit = kPluginProbeTimeLimit;
  // Libraries directly in this directory ship with petit and load without a probe (nothing to pay
  // for petit's own plugins). Empty = every library is probed.
  std::filesystem::path trusted_dir;
};

class PluginLoader {
 public:
  // `host_version` is passed to every plugin's init (petit_init_args.host_version).
  explicit PluginLoader(std::string host_version);
  ~PluginLoader();

  PluginLoader(const PluginLoader&) = delete;
  PluginLoader& operator=(const PluginLoader&) = delete;

  enum class MissingDirectory : uint8_t {
    kIgnore,  // a default location that may legitimately not exist
    kError,   // a directory the user configured
  };

  // Applies to the libraries loaded after it.
  void SetProbe(PluginProbeOptions probe);
  // How long a plugin's shutdown hook may take (default kPluginShutdownLimit); applies to the
  // libraries loaded after it.
  void SetShutdownLimit(std::chrono::milliseconds limit) { shutdown_limit_ = limit; }
  // The libraries loaded after it, refused or not, stay mapped until the process ends
  // (RTLD_NODELETE): their constructors or init may have started threads that still run their
  // code once the last handle is closed, which unmapping would turn into a crash. For a process
  // that loads its plugins once, as petit does.
  void KeepLibrariesMapped() { keep_mapped_ = true; }

  // Loads every regular file named *.so in `dir` (not recursively), sorted by file name so the
  // winner of a duplicate task type name is the same on every run.
  void LoadDirectory(const std::filesystem::path& dir, MissingDirectory missing);

  // Loads one library.
  void LoadFile(const std::filesystem::path& file);

  // What has been loaded and refused so far, across every call. Copy it to keep the plugins
  // beyond the loader's life.
  const PluginLoadResult& result() const { return result_; }

  // Hands over what result() holds and leaves it empty. Plugin and task type names handed over
  // stay taken: loading the same library again through this loader is still refused.
  PluginLoadResult Release();

 private:
  // Returns the plugin, or the one-line reason it was refused.
  Result<std::shared_ptr<LoadedPlugin>> Load(const std::filesystem::path& file);
  void AddTaskTypes(LoadedPlugin& plugin);

  bool NeedsProbe(const std::filesystem::path& file) const;

  std::string host_version_;
  PluginProbeOptions probe_;
  std::chrono::milliseconds shutdown_limit_ = kPluginShutdownLimit;
  bool keep_mapped_ = false;
  std::filesystem::path trusted_dir_;  // probe_.trusted_dir, canonical
  PluginLoadResult result_;
  std::map<std::string, std::string, std::less<>> type_owner_;    // task type -> file
  std::map<std::string, std::string, std::less<>> plugin_owner_;  // plugin name -> file
};

}  // namespace petit::host

#endif  // PETIT_HOST_PLUGINS_PLUGIN_LOADER_H_
