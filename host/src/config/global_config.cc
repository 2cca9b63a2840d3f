#include "config/global_config.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "config/yaml_support.h"

namespace petit::host {
namespace {

constexpr int64_t kMaxParallelTasks = 4096;
constexpr int64_t kMaxPoolSlots = 1000000;

std::string JoinErrors(const YamlErrors& errors) {
  std::string joined;
  for (const std::string& message : errors.messages()) {
    if (!joined.empty()) joined += "\n";
    joined += message;
  }
  return joined;
}

// The original Petit's form: storage: {type: sqlite, path: FILE} or {type: memory}.
std::optional<std::string> ReadStorageMap(const YAML::Node& node, YamlErrors& errors) {
  CheckKeys(node, {"type", "path"}, "storage", errors);
  std::optional<std::string> type;
  if (node["type"]) type = ReadString(node["type"], "type", errors);
  if (!type) {
    if (!node["type"]) errors.AddAt(node, "storage needs a 'type' (sqlite or memory)");
    return std::nullopt;
  }
  if (*type == "memory") return std::string("memory:");
  if (*type == "sqlite") {
    if (!node["path"]) {
      errors.AddAt(node, "storage of type sqlite needs a 'path'");
      return std::nullopt;
    }
    auto path = ReadString(node["path"], "path", errors);
    if (!path) return std::nullopt;
    return "sqlite://" + std::filesystem::absolute(*path).string();
  }
  errors.AddAt(node["type"],
               "unknown storage type '" + *type + "' (use sqlite or memory, or a URI)");
  return std::nullopt;
}

}  // namespace

Result<GlobalConfig> LoadGlobalConfig(const std::string& path) {
  YamlErrors errors(path);
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return NotFound(path + ": cannot read the config file");
  } catch (const YAML::Exception& e) {
    errors.Add(e.mark, e.msg);
    return InvalidArgument(JoinErrors(errors));
  }
  GlobalConfig config;
  config.source_file = path;
  if (root.IsNull()) return config;
  if (!root.IsMap()) {
    errors.AddAt(root, "petit.yaml must be a mapping of settings");
    return InvalidArgument(JoinErrors(errors));
  }
  CheckKeys(root,
            {"storage", "plugin_dirs", "max_parallel_tasks", "output_cap_bytes", "pools",
             "cpu_slots", "memory_mb"},
            "petit.yaml", errors);
  std::filesystem::path base = std::filesystem::absolute(path).parent_path();
  if (const YAML::Node node = root["storage"]) {
    std::optional<std::string> uri =
        node.IsMap() ? ReadStorageMap(node, errors) : ReadString(node, "storage", errors);
    if (uri) config.storage_uri = *uri;
  }
  if (const YAML::Node node = root["plugin_dirs"]) {
    if (auto dirs = ReadStringList(node, "plugin_dirs", errors)) {
      // Relative directories are relative to petit.yaml, not to wherever petit was started.
      for (const std::string& dir : *dirs) config.plugin_dirs.push_back((base / dir).string());
    }
  }
  if (const YAML::Node node = root["max_parallel_tasks"]) {
    if (auto n = ReadInt(node, "max_parallel_tasks", 1, kMaxParallelTasks, errors)) {
      config.max_parallel_tasks = static_cast<uint32_t>(*n);
    }
  }
  if (const YAML::Node node = root["output_cap_bytes"]) {
    if (auto n = ReadInt(node, "output_cap_bytes", 1024, int64_t{1} << 40, errors)) {
      config.output_cap_bytes = static_cast<uint64_t>(*n);
    }
  }
  if (const YAML::Node node = root["pools"]) {
    if (!node.IsMap()) {
      errors.AddAt(node, "'pools' must map pool names to slot counts, e.g. {gpu: 2}");
    } else {
      for (auto it = node.begin(); it != node.end(); ++it) {
        const YAML::Node name = it->first;
        Status valid = ValidateName(name.Scalar(), "pool name");
        if (!valid.ok()) errors.AddAt(name, valid.message());
        if (auto n = ReadInt(it->second, "pools." + name.Scalar(), 1, kMaxPoolSlots, errors)) {
          config.resources.pools[name.Scalar()] = static_cast<uint32_t>(*n);
        }
      }
    }
  }
  if (const YAML::Node node = root["cpu_slots"]) {
    if (auto n = ReadInt(node, "cpu_slots", 1, kMaxPoolSlots, errors)) {
      config.resources.cpu_slots = static_cast<uint32_t>(*n);
    }
  }
  if (const YAML::Node node = root["memory_mb"]) {
    if (auto n = ReadInt(node, "memory_mb", 1, int64_t{1} << 40, errors)) {
      config.resources.memory_mb = static_cast<uint64_t>(*n);
    }
  }
  if (!errors.empty()) return InvalidArgument(JoinErrors(errors));
  return config;
}

Result<GlobalConfig> ResolveGlobalConfig(const std::optional<std::string>& explicit_path,
                                         const std::optional<std::string>& jobs_dir) {
  if (explicit_path) return LoadGlobalConfig(*explicit_path);
  if (jobs_dir) {
    std::filesystem::path candidate = std::filesystem::path(*jobs_dir) / "petit.yaml";
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec))
      return LoadGlobalConfig(candidate.string());
  }
  return GlobalConfig{};
}

std::string DefaultStorageUri() {
  if (const char* dir = std::getenv("PETIT_STATE_DIR"); dir != nullptr && *dir != '\0') {
    return std::string("sqlite://") + std::filesystem::absolute(dir).string() + "/petit.db";
  }
  if (geteuid() == 0) return "sqlite:///var/lib/petit/petit.db";
  if (const char* state = std::getenv("XDG_STATE_HOME"); state != nullptr && *state != '\0') {
    return std::string("sqlite://") + state + "/petit/petit.db";
  }
  const char* home = std::getenv("HOME");
  return std::string("sqlite://") + (home != nullptr ? home : ".") + "/.local/state/petit/petit.db";
}

}  // namespace petit::host
