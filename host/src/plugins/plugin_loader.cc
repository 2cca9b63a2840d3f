#include "plugins/plugin_loader.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include <boost/dll/shared_library.hpp>

#include "petit/host/exit_codes.h"
#include "plugins/host_services.h"

namespace petit::host {

class LoadedPlugin::Library {
 public:
  explicit Library(boost::dll::shared_library library) : library_(std::move(library)) {}
  const boost::dll::shared_library& get() const { return library_; }

 private:
  boost::dll::shared_library library_;
};

namespace {

// Smallest struct_size each struct may have in ABI 1.0: everything up to its last 1.0 field.
// Fields added in later minors are read only when struct_size covers them.
constexpr size_t kAbiInfoPrefixSize =  // the part every major keeps: size, magic, major, minor
    offsetof(petit_abi_info, abi_minor) + sizeof(petit_abi_info::abi_minor);
constexpr size_t kAbiInfoMinSize =
    offsetof(petit_abi_info, plugin_version) + sizeof(petit_abi_info::plugin_version);
constexpr size_t kDescriptorMinSize =
    offsetof(petit_plugin_descriptor, shutdown) + sizeof(petit_plugin_descriptor::shutdown);
constexpr size_t kTaskTypeMinSize =
    offsetof(petit_task_type, destroy) + sizeof(petit_task_type::destroy);

constexpr size_t kMaxNameLength = 128;
constexpr size_t kMaxQuotedLength = 200;  // plugin-provided text quoted in a message
constexpr size_t kInitErrorSize = 1024;
constexpr const char* kSharedLibraryExtension = ".so";

// Text from a plugin, made safe to quote in a one-line message.
std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(std::min(text.size(), kMaxQuotedLength) + 3);
  for (const char c : text) {
    if (out.size() >= kMaxQuotedLength) {
      out += "...";
      break;
    }
    out += std::iscntrl(static_cast<unsigned char>(c)) != 0 ? ' ' : c;
  }
  return out;
}

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
}

// strnlen with a bound, so a name that is not NUL-terminated near its start is not read forever.
std::string_view BoundedCString(const char* s) { return {s, strnlen(s, kMaxNameLength + 1)}; }

std::string Hex32(uint32_t value) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "0x%08x", value);
  return buffer;
}

std::string AbiVersion(uint32_t major, uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

// "plugin 'name' (file)": how every message after the ABI block was read names the library.
std::string PluginLabel(std::string_view name, const std::string& file) {
  return "plugin '" + std::string(name) + "' (" + file + ")";
}

std::string LastDlError(const boost::dll::fs::error_code& ec) {
  // Boost.DLL's non-throwing load keeps dlerror()'s text in the thread's dl state; read it there.
  const char* text = dlerror();
  return text != nullptr ? OneLine(text) : ec.message();
}

Status CheckAbiInfo(const petit_abi_info* info, const std::string& file) {
  if (info == nullptr) {
    return InvalidArgument("not a Petit plugin: " + file +
                           ": " PETIT_PLUGIN_ABI_INFO_SYMBOL "() returned NULL");
  }
  if (info->magic != PETIT_ABI_MAGIC) {
    return InvalidArgument("not a Petit plugin: " + file +
                           ": " PETIT_PLUGIN_ABI_INFO_SYMBOL "() returned magic " +
                           Hex32(info->magic) + ", expected " + Hex32(PETIT_ABI_MAGIC));
  }
  if (info->struct_size < kAbiInfoPrefixSize) {
    return InvalidArgument("plugin " + file + ": petit_abi_info.struct_size is " +
                           std::to_string(info->struct_size) + ", at least " +
                           std::to_string(kAbiInfoPrefixSize) + " expected");
  }
  const bool has_name = info->struct_size >= kAbiInfoMinSize && info->plugin_name != nullptr;
  const std::string name = has_name ? OneLine(BoundedCString(info->plugin_name)) : "(unnamed)";
  if (info->abi_major != PETIT_ABI_MAJOR) {
    return FailedPrecondition(PluginLabel(name, file) + " was built for Petit ABI " +
                              AbiVersion(info->abi_major, info->abi_minor) +
                              "; this host supports ABI " + std::to_string(PETIT_ABI_MAJOR) +
                              ".x (major must be equal)");
  }
  if (info->abi_minor > PETIT_ABI_MINOR) {
    return FailedPrecondition(PluginLabel(name, file) + " was built for Petit ABI " +
                              AbiVersion(info->abi_major, info->abi_minor) +
                              "; this host supports up to ABI " +
                              AbiVersion(PETIT_ABI_MAJOR, PETIT_ABI_MINOR));
  }
  if (info->struct_size < kAbiInfoMinSize) {
    return InvalidArgument("plugin " + file + ": petit_abi_info.struct_size is " +
                           std::to_string(info->struct_size) + ", ABI " +
                           AbiVersion(PETIT_ABI_MAJOR, 0) + " needs at least " +
                           std::to_string(kAbiInfoMinSize));
  }
  if (info->plugin_name == nullptr || !IsValidName(BoundedCString(info->plugin_name))) {
    return InvalidArgument(
        "plugin " + file + " has an invalid plugin_name " +
        (info->plugin_name == nullptr ? std::string("(NULL)") : "'" + name + "'") +
        " (expected 1-128 characters of [a-z0-9_.-])");
  }
  if (info->plugin_version == nullptr) {
    return InvalidArgument(PluginLabel(name, file) + " has a NULL plugin_version");
  }
  return Status::Ok();
}

// Copies and checks one task type; `index` is 0-based, messages count from 1.
Result<PluginTaskType> CopyTaskType(const petit_task_type* source, uint32_t index,
                                    const LoadedPlugin& plugin) {
  const std::string which = "task type #" + std::to_string(index + 1);
  if (source == nullptr) return InvalidArgument(which + " is NULL");
  if (source->struct_size < kTaskTypeMinSize) {
    return InvalidArgument(which + " has struct_size " + std::to_string(source->struct_size) +
                           ", ABI " + AbiVersion(PETIT_ABI_MAJOR, 0) + " needs at least " +
                           std::to_string(kTaskTypeMinSize));
  }
  PluginTaskType type;
  std::memcpy(&type.abi, source, std::min<size_t>(source->struct_size, sizeof type.abi));
  if (type.abi.name == nullptr) return InvalidArgument(which + " has a NULL name");
  const std::string_view name = BoundedCString(type.abi.name);
  if (!IsValidName(name)) {
    return InvalidArgument(which + " has an invalid name '" + OneLine(name) +
                           "' (expected 1-128 characters of [a-z0-9_.-])");
  }
  const std::string quoted = "task type '" + std::string(name) + "'";
  if (type.abi.summary == nullptr) return InvalidArgument(quoted + " has a NULL summary");
  if (type.abi.create == nullptr) return InvalidArgument(quoted + " has no create hook");
  if (type.abi.execute == nullptr) return InvalidArgument(quoted + " has no execute hook");

  type.info.name = std::string(name);
  type.info.summary = type.abi.summary;
  if (type.abi.params_schema_json != nullptr) {
    type.info.params_schema_json = type.abi.params_schema_json;
  }
  type.info.flags = type.abi.flags;
  type.info.plugin_name = plugin.name();
  type.info.plugin_version = plugin.version();
  type.info.plugin_file = plugin.file();
  return type;
}

constexpr uint32_t kMaxTaskTypesPerPlugin = 1000;

Result<std::vector<PluginTaskType>> CopyTaskTypes(const petit_plugin_descriptor& descriptor,
                                                  const LoadedPlugin& plugin) {
  if (descriptor.struct_size < kDescriptorMinSize) {
    return InvalidArgument("struct_size is " + std::to_string(descriptor.struct_size) + ", ABI " +
                           AbiVersion(PETIT_ABI_MAJOR, 0) + " needs at least " +
                           std::to_string(kDescriptorMinSize));
  }
  if (descriptor.task_type_count == 0) return std::vector<PluginTaskType>{};
  // Checked before anything is read or reserved: a count that is a bug (or a lie) must not make
  // the host allocate for it, nor check names against each other for ever.
  if (descriptor.task_type_count > kMaxTaskTypesPerPlugin) {
    return InvalidArgument("declares " + std::to_string(descriptor.task_type_count) +
                           " task types; a plugin may declare at most " +
                           std::to_string(kMaxTaskTypesPerPlugin));
  }
  if (descriptor.task_types == nullptr) {
    return InvalidArgument("task_types is NULL but task_type_count is " +
                           std::to_string(descriptor.task_type_count));
  }
  std::vector<PluginTaskType> types;
  types.reserve(descriptor.task_type_count);
  for (uint32_t i = 0; i < descriptor.task_type_count; ++i) {
    Result<PluginTaskType> type = CopyTaskType(descriptor.task_types[i], i, plugin);
    if (!type.ok()) return type.status();
    const bool repeated = std::any_of(types.begin(), types.end(), [&](const PluginTaskType& t) {
      return t.info.name == type->info.name;
    });
    if (repeated) return InvalidArgument("declares task type '" + type->info.name + "' twice");
    types.push_back(std::move(type).value());
  }
  return types;
}

}  // namespace

LoadedPlugin::LoadedPlugin(std::unique_ptr<Library> library, std::string name, std::string version,
                           std::string file)
    : library_(std::move(library)),
      name_(std::move(name)),
      version_(std::move(version)),
      file_(std::move(file)) {}

LoadedPlugin::~LoadedPlugin() {
  // shutdown is zero unless init accepted, so a refused plugin is never shut down.
  if (descriptor_.shutdown != nullptr) {
    // What petit printed so far goes out first: a hook that crashes must not take it along.
    std::cout.flush();
    std::mutex mu;
    std::condition_variable returned_cv;
    bool returned = false;
    std::thread watchdog;
    try {
      watchdog = std::thread([&] {
        std::unique_lock lock(mu);
        if (returned_cv.wait_for(lock, shutdown_limit_, [&] { return returned; })) return;
        const std::string line = "petit: plugin '" + name_ + "' (" + file_ +
                                 ") did not return from its shutdown hook "
                                 "within " +
                                 std::to_string(shutdown_limit_.count()) +
                                 " ms; exiting with status " + std::to_string(kExitHostError) +
                                 " without waiting for it\n";
        (void)!::write(STDERR_FILENO, line.data(), line.size());
        ::_exit(kExitHostError);
      });
    } catch (const std::system_error&) {
      // No thread to spare (a destructor must not throw): the hook runs without its watchdog.
    }
    descriptor_.shutdown(descriptor_.plugin_state);
    {
      std::lock_guard lock(mu);
      returned = true;
    }
    returned_cv.notify_one();
    if (watchdog.joinable()) watchdog.join();
  }
  task_types_.clear();
  library_.reset();  // unloads: nothing from the library may be touched after this line
}

const PluginTaskType* LoadedPlugin::FindTaskType(std::string_view name) const {
  for (const PluginTaskType& type : task_types_) {
    if (type.info.name == name) return &type;
  }
  return nullptr;
}

std::vector<TaskTypeInfo> PluginLoadResult::TaskTypes() const {
  std::vector<TaskTypeInfo> types;
  for (const auto& plugin : plugins) {
    for (const PluginTaskType& type : plugin->task_types()) types.push_back(type.info);
  }
  return types;
}

PluginLoader::PluginLoader(std::string host_version) : host_version_(std::move(host_version)) {}

PluginLoader::~PluginLoader() = default;

void PluginLoader::SetProbe(PluginProbeOptions probe) {
  probe_ = std::move(probe);
  std::error_code ec;
  trusted_dir_.clear();
  if (!probe_.trusted_dir.empty()) {
    trusted_dir_ = std::filesystem::weakly_canonical(probe_.trusted_dir, ec);
    if (ec) trusted_dir_ = probe_.trusted_dir.lexically_normal();
  }
}

bool PluginLoader::NeedsProbe(const std::filesystem::path& file) const {
  if (probe_.executable.empty()) return false;
  if (trusted_dir_.empty()) return true;
  // Resolved, so a link in the trusted directory to a library elsewhere is probed.
  std::error_code ec;
  const std::filesystem::path canonical = std::filesystem::weakly_canonical(file, ec);
  return ec || canonical.parent_path() != trusted_dir_;
}

PluginLoadResult PluginLoader::Release() { return std::exchange(result_, PluginLoadResult{}); }

void PluginLoader::LoadDirectory(const std::filesystem::path& dir, MissingDirectory missing) {
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(dir, ec);
  if (!std::filesystem::exists(status)) {
    if (missing == MissingDirectory::kError) {
      result_.errors.push_back(NotFound("plugin directory " + dir.string() + " does not exist"));
    }
    return;
  }
  if (!std::filesystem::is_directory(status)) {
    result_.errors.push_back(
        InvalidArgument("plugin directory " + dir.string() + " is not a directory"));
    return;
  }

  std::vector<std::filesystem::path> files;
  std::filesystem::directory_iterator it(dir, ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::filesystem::path& path = it->path();
    std::error_code type_ec;
    if (path.extension() == kSharedLibraryExtension && it->is_regular_file(type_ec)) {
      files.push_back(path);
    }
  }
  if (ec) {
    result_.errors.push_back(
        Unavailable("cannot list plugin directory " + dir.string() + ": " + ec.message()));
    return;
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
    return a.filename().native() < b.filename().native();
  });
  for (const auto& file : files) LoadFile(file);
}

void PluginLoader::LoadFile(const std::filesystem::path& file) {
  Result<std::shared_ptr<LoadedPlugin>> plugin = Load(file);
  if (!plugin.ok()) {
    result_.errors.push_back(plugin.status());
    return;
  }
  AddTaskTypes(**plugin);
  plugin_owner_.emplace((*plugin)->name(), (*plugin)->file());
  result_.plugins.push_back(std::move(plugin).value());
}

Result<std::shared_ptr<LoadedPlugin>> PluginLoader::Load(const std::filesystem::path& path) {
  // An absolute path keeps dlopen from searching the system library path for a bare name.
  std::error_code abs_ec;
  const std::filesystem::path absolute = std::filesystem::absolute(path, abs_ec);
  const std::string file = abs_ec ? path.string() : absolute.string();
  if (NeedsProbe(file))
    PETIT_RETURN_IF_ERROR(ProbePlugin(probe_.executable, file, probe_.time_limit));

  boost::dll::fs::error_code ec;
  dlerror();  // clear stale state so the text read on failure is this load's
  boost::dll::shared_library library(
      boost::dll::fs::path(file),
      boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec || !library.is_loaded()) {
    return Unavailable("cannot load plugin " + file + ": " + LastDlError(ec));
  }
  if (keep_mapped_) (void)::dlopen(file.c_str(), RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);

  if (!library.has(PETIT_PLUGIN_ABI_INFO_SYMBOL)) {
    return InvalidArgument("not a Petit plugin: " + file +
                           " does not export " PETIT_PLUGIN_ABI_INFO_SYMBOL);
  }
  const auto abi_info = &library.get<const petit_abi_info*()>(PETIT_PLUGIN_ABI_INFO_SYMBOL);
  const petit_abi_info* info = abi_info();
  PETIT_RETURN_IF_ERROR(CheckAbiInfo(info, file));

  std::string name(BoundedCString(info->plugin_name));
  if (const auto it = plugin_owner_.find(name); it != plugin_owner_.end()) {
    return AlreadyExists(PluginLabel(name, file) + " is already loaded from " + it->second);
  }
  if (!library.has(PETIT_PLUGIN_INIT_SYMBOL)) {
    return InvalidArgument(PluginLabel(name, file) + " does not export " PETIT_PLUGIN_INIT_SYMBOL);
  }
  const auto init =
      &library.get<std::remove_pointer_t<petit_plugin_init_fn>>(PETIT_PLUGIN_INIT_SYMBOL);

  // From here the LoadedPlugin owns the library, so every early return below unloads it, after
  // shutdown once init has accepted.
  std::shared_ptr<LoadedPlugin> plugin(
      new LoadedPlugin(std::make_unique<LoadedPlugin::Library>(std::move(library)), name,
                       info->plugin_version, file));
  plugin->shutdown_limit_ = shutdown_limit_;

  petit_init_args args{};
  args.struct_size = sizeof args;
  args.host_abi_major = PETIT_ABI_MAJOR;
  args.host_abi_minor = PETIT_ABI_MINOR;
  args.host = &HostServices();
  args.host_version = {host_version_.data(), host_version_.size()};

  petit_plugin_descriptor descriptor{};
  descriptor.struct_size = sizeof descriptor;
  char error[kInitErrorSize] = {};
  const int32_t rc = init(&args, &descriptor, error, sizeof error);
  error[sizeof error - 1] = '\0';
  if (rc != PETIT_OK) {
    const std::string reason = error[0] != '\0' ? OneLine(error) : "no reason given";
    return FailedPrecondition(PluginLabel(name, file) + " refused to load: " + reason);
  }
  std::memcpy(&plugin->descriptor_, &descriptor,
              std::min<size_t>(descriptor.struct_size, sizeof descriptor));

  Result<std::vector<PluginTaskType>> types = CopyTaskTypes(plugin->descriptor_, *plugin);
  if (!types.ok()) {
    return InvalidArgument(PluginLabel(name, file) +
                           " has an invalid descriptor: " + types.status().message());
  }
  plugin->task_types_ = std::move(types).value();
  return plugin;
}

void PluginLoader::AddTaskTypes(LoadedPlugin& plugin) {
  std::vector<PluginTaskType> kept;
  kept.reserve(plugin.task_types_.size());
  for (PluginTaskType& type : plugin.task_types_) {
    const auto [owner, inserted] = type_owner_.emplace(type.info.name, plugin.file());
    if (!inserted) {
      result_.errors.push_back(AlreadyExists("task type '" + type.info.name + "' from " +
                                             plugin.file() + " is already provided by " +
                                             owner->second));
      continue;
    }
    kept.push_back(std::move(type));
  }
  plugin.task_types_ = std::move(kept);
}

}  // namespace petit::host
