#include "config/global_config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <utility>

#include "config/yaml_document.h"
#include "config/yaml_support.h"
#include "petit/core/schedule.h"
#include "petit/core/task_spec.h"
#include "petit/storage/open.h"

namespace petit::host {
namespace {

constexpr int64_t kMaxParallelTasks = 4096;
constexpr int64_t kMaxShutdownGraceSecs = 24 * 3600;
constexpr int64_t kMaxStoreOutageLimitSecs = 7 * 24 * 3600;
constexpr int64_t kMaxPoolSlots = 1000000;
constexpr int64_t kMaxPort = 65535;

const std::vector<std::string_view> kLoopbackBinds = {"127.0.0.1", "localhost", "::1", "[::1]"};

template <typename Enum>
using Choices = std::vector<std::pair<std::string_view, Enum>>;

const Choices<LogLevel> kLogLevels = [] {
  Choices<LogLevel> choices;
  for (const auto& [value, name] : LogLevelNames()) choices.emplace_back(name, value);
  return choices;
}();
const Choices<LogFormat> kLogFormats = {{"text", LogFormat::kText}, {"json", LogFormat::kJson}};
const Choices<PluginIsolation> kIsolations = {{"in_process", PluginIsolation::kInProcess},
                                              {"process", PluginIsolation::kProcess}};
constexpr int64_t kMaxMemoryLimitMb = int64_t{1} << 30;
constexpr int64_t kMaxCancelGraceMs = int64_t{24} * 3600 * 1000;

template <typename Enum>
std::optional<Enum> ReadChoice(const YamlNode& node, std::string_view key,
                               const Choices<Enum>& choices, YamlErrors& errors) {
  std::optional<std::string> text = ReadString(node, key, errors);
  if (!text) return std::nullopt;
  std::vector<std::string_view> names;
  std::string expected;
  for (const auto& [name, value] : choices) {
    if (name == *text) return value;
    if (!names.empty()) expected += names.size() + 1 == choices.size() ? " or " : ", ";
    names.push_back(name);
    expected += name;
  }
  std::string message = "'" + std::string(key) + "' must be " + expected + ", not '" + *text + "'";
  if (auto guess = GuessName(*text, names)) message += " (did you mean '" + guess->name + "'?)";
  errors.AddAt(node, key, message);
  return std::nullopt;
}

Result<GlobalConfig> Fail(const YamlErrors& errors, std::vector<Diagnostic>* problems) {
  if (problems != nullptr) {
    problems->insert(problems->end(), errors.diagnostics().begin(), errors.diagnostics().end());
  }
  return InvalidArgument(errors.Joined());
}

constexpr int64_t kMaxApiThreads = 1024;
constexpr int64_t kMaxApiConnections = 100000;
constexpr int64_t kMinApiBodyBytes = 1024;
constexpr int64_t kMaxApiBodyBytes = int64_t{1} << 30;
constexpr int64_t kMaxApiTimeoutSecs = 3600;

// The operator token from the environment, which wins over petit.yaml's (a secret kept out of
// files): as set now, else as RunCli took it out of the environment; empty when neither.
std::string EnvApiToken() {
  const char* token = std::getenv("PETIT_API_TOKEN");
  return token != nullptr ? token : ApiTokenFromEnvironment();
}

std::optional<std::string> ReadToken(const YamlNode& node, std::string_view key,
                                     YamlErrors& errors) {
  std::optional<std::string> text = ReadString(node, key, errors);
  if (!text) return std::nullopt;
  if (text->empty()) {
    errors.AddAt(node, key,
                 "'" + std::string(key) + "' must not be empty; leave it out for no token");
    return std::nullopt;
  }
  if (text->find_first_of(" \t\r\n") != std::string::npos) {
    errors.AddAt(node, key, "'" + std::string(key) + "' must not contain spaces");
    return std::nullopt;
  }
  return text;
}

// "https://ops.example.com" or "http://localhost:3000": what a browser sends as Origin.
bool IsOrigin(std::string_view origin) {
  size_t host = 0;
  if (origin.starts_with("http://")) {
    host = 7;
  } else if (origin.starts_with("https://")) {
    host = 8;
  } else {
    return false;
  }
  if (origin.size() == host) return false;
  return origin.find_first_of("/?#* \t", host) == std::string_view::npos;
}

void ReadCorsOrigins(const YamlNode& node, ApiConfig& api, YamlErrors& errors) {
  std::optional<std::vector<std::string>> origins = ReadStringList(node, "cors_origins", errors);
  if (!origins) return;
  for (const std::string& origin : *origins) {
    if (!IsOrigin(origin)) {
      errors.AddAt(node, "cors_origins",
                   "'cors_origins' lists origins like https://ops.example.com (scheme and host, "
                   "no path, no '*'), not '" +
                       origin + "'");
      continue;
    }
    api.cors_origins.push_back(origin);
  }
}

void ReadPathPrefix(const YamlNode& node, ApiConfig& api, YamlErrors& errors) {
  std::optional<std::string> text = ReadString(node, "path_prefix", errors);
  if (!text) return;
  std::string prefix = *text;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  if (prefix == "/") prefix.clear();
  const bool valid = prefix.empty() || (prefix.front() == '/' &&
                                        prefix.find_first_of("?#%* \t") == std::string::npos &&
                                        prefix.find("//") == std::string::npos);
  if (!valid) {
    errors.AddAt(node, "path_prefix",
                 "'path_prefix' must be a path like /petit, not '" + *text + "'");
    return;
  }
  api.path_prefix = prefix;
}

template <typename Int>
void ReadApiInt(const MapFields& fields, std::string_view key, int64_t min, int64_t max, Int& out,
                YamlErrors& errors) {
  if (const YamlNode node = fields[std::string(key)]) {
    if (auto n = ReadInt(node, key, min, max, errors)) out = static_cast<Int>(*n);
  }
}

void ReadApi(const YamlNode& node, ApiConfig& api, YamlErrors& errors) {
  YamlErrors::KeyScope scope(errors, "api");
  if (!node.IsMap()) {
    errors.AddAt(node, "", "'api' must be a mapping {enabled, bind, port, token, ...}");
    return;
  }
  CheckKeys(node, KeysOf(KeyLevel::kApi), "api", errors, KeyLevel::kApi);
  MapFields fields(node);
  if (const YamlNode enabled = fields["enabled"]) {
    api.enabled = ReadBool(enabled, "enabled", errors).value_or(api.enabled);
  }
  if (const YamlNode bind = fields["bind"]) {
    if (auto text = ReadString(bind, "bind", errors)) {
      if (text->empty() || text->find_first_of(" \t/") != std::string::npos) {
        errors.AddAt(bind, "bind", "'bind' must be an address or a host name, not '" + *text + "'");
      } else {
        api.bind = *text;
      }
    }
  }
  if (const YamlNode port = fields["port"]) {
    if (auto n = ReadInt(port, "port", 0, kMaxPort, errors)) api.port = static_cast<uint16_t>(*n);
  }
  if (const YamlNode token = fields["token"]) {
    if (auto text = ReadToken(token, "token", errors)) api.token = *text;
  }
  if (const YamlNode token = fields["read_only_token"]) {
    if (auto text = ReadToken(token, "read_only_token", errors)) api.read_only_token = *text;
  }
  if (const YamlNode origins = fields["cors_origins"]) ReadCorsOrigins(origins, api, errors);
  if (const YamlNode prefix = fields["path_prefix"]) ReadPathPrefix(prefix, api, errors);
  ReadApiInt(fields, "max_threads", 1, kMaxApiThreads, api.max_threads, errors);
  ReadApiInt(fields, "max_connections", 1, kMaxApiConnections, api.max_connections, errors);
  ReadApiInt(fields, "max_body_bytes", kMinApiBodyBytes, kMaxApiBodyBytes, api.max_body_bytes,
             errors);
  ReadApiInt(fields, "max_streams", 0, kMaxApiThreads, api.max_streams, errors);
  if (const YamlNode timeout = fields["timeout"]) {
    if (auto n = ReadInt(timeout, "timeout", 1, kMaxApiTimeoutSecs, errors)) {
      api.timeout = std::chrono::seconds(*n);
    }
  }
  if (api.max_streams >= api.max_threads) {
    // A stream holds a thread for its whole life: requests need at least one left.
    const YamlNode at = fields["max_streams"] ? fields["max_streams"] : fields["max_threads"];
    errors.AddAt(at ? at : node, "max_streams",
                 "'max_streams' (" + std::to_string(api.max_streams) +
                     ") must be below 'max_threads' (" + std::to_string(api.max_threads) +
                     "): each stream holds a thread");
  }
  if (!api.read_only_token.empty() && api.token.empty() && EnvApiToken().empty()) {
    errors.AddAt(
        fields["read_only_token"], "read_only_token",
        "a 'read_only_token' needs a 'token' (or PETIT_API_TOKEN) for operators beside it");
  }
  if (api.enabled && !IsLoopbackBind(api.bind) && api.token.empty() && EnvApiToken().empty()) {
    const YamlNode bind = fields["bind"];
    errors.AddAt(bind ? bind : node, "bind",
                 "the API may listen on '" + api.bind +
                     "' only with a 'token' (or PETIT_API_TOKEN): anyone who reaches it could "
                     "trigger jobs (or bind to 127.0.0.1)");
  }
}

void ReadLogging(const YamlNode& node, LoggingConfig& logging, YamlErrors& errors) {
  YamlErrors::KeyScope scope(errors, "logging");
  if (!node.IsMap()) {
    errors.AddAt(node, "", "'logging' must be a mapping {level, format}");
    return;
  }
  CheckKeys(node, KeysOf(KeyLevel::kLogging), "logging", errors, KeyLevel::kLogging);
  MapFields fields(node);
  if (const YamlNode level = fields["level"]) {
    if (auto value = ReadChoice(level, "level", kLogLevels, errors)) logging.level = *value;
  }
  if (const YamlNode format = fields["format"]) {
    if (auto value = ReadChoice(format, "format", kLogFormats, errors)) logging.format = *value;
  }
}

// per_plugin / per_type: names to isolation modes.
void ReadIsolationMap(const YamlNode& node, std::string_view key,
                      std::map<std::string, PluginIsolation, std::less<>>& out,
                      YamlErrors& errors) {
  if (!node.IsMap()) {
    errors.AddAt(node, key,
                 "'" + std::string(key) +
                     "' must map names to in_process or process, e.g. "
                     "{my_plugin: process}");
    return;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string name = it->first.Scalar();
    const std::string path = std::string(key) + "." + name;
    Status valid = ValidateName(name, std::string(key) == "per_type" ? "task type" : "plugin name");
    if (!valid.ok()) errors.AddAt(it->first, path, valid.message());
    if (auto mode = ReadChoice(it->second, path, kIsolations, errors)) out[name] = *mode;
  }
}

void ReadPlugins(const YamlNode& node, PluginsConfig& plugins, YamlErrors& errors) {
  YamlErrors::KeyScope scope(errors, "plugins");
  if (!node.IsMap()) {
    errors.AddAt(node, "",
                 "'plugins' must be a mapping {isolation, per_plugin, per_type, memory_limit_mb, "
                 "cancel_grace_ms}");
    return;
  }
  CheckKeys(node, KeysOf(KeyLevel::kPlugins), "plugins", errors, KeyLevel::kPlugins);
  MapFields fields(node);
  if (const YamlNode isolation = fields["isolation"]) {
    if (auto mode = ReadChoice(isolation, "isolation", kIsolations, errors)) {
      plugins.isolation = *mode;
    }
  }
  if (const YamlNode map = fields["per_plugin"]) {
    ReadIsolationMap(map, "per_plugin", plugins.per_plugin, errors);
    plugins.per_plugin_line = map.Mark().line + 1;
  }
  if (const YamlNode map = fields["per_type"]) {
    ReadIsolationMap(map, "per_type", plugins.per_type, errors);
    plugins.per_type_line = map.Mark().line + 1;
  }
  if (const YamlNode limit = fields["memory_limit_mb"]) {
    if (auto n = ReadInt(limit, "memory_limit_mb", 0, kMaxMemoryLimitMb, errors)) {
      plugins.memory_limit_mb = static_cast<uint64_t>(*n);
    }
  }
  if (const YamlNode grace = fields["cancel_grace_ms"]) {
    if (auto n = ReadInt(grace, "cancel_grace_ms", 0, kMaxCancelGraceMs, errors)) {
      plugins.cancel_grace = std::chrono::milliseconds(*n);
    }
  }
}

void ReadTimezone(const MapFields& fields, GlobalConfig& config, YamlErrors& errors) {
  const YamlNode zone = fields["timezone"];
  const YamlNode original = fields["default_timezone"];
  if (zone && original) {
    errors.AddAt(original, "default_timezone",
                 "'default_timezone' is the original's name for 'timezone'; give one");
    return;
  }
  const YamlNode node = zone ? zone : original;
  if (!node) return;
  const char* key = zone ? "timezone" : "default_timezone";
  std::optional<std::string> name = ReadString(node, key, errors);
  if (!name) return;
  // Schedule owns the zone lookup; a schedule that always parses isolates the zone's own errors.
  Result<Schedule> check = Schedule::Parse("@daily", *name);
  if (!check.ok()) {
    errors.AddAt(node, key, check.status().message());
    return;
  }
  config.timezone = check->time_zone();
}

bool IsBlank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// The original Petit's form: storage: {type: sqlite, path: FILE} or {type: memory}.
std::optional<std::string> ReadStorageMap(const YamlNode& node, YamlErrors& errors) {
  YamlErrors::KeyScope scope(errors, "storage");
  CheckKeys(node, KeysOf(KeyLevel::kStorage), "storage", errors, KeyLevel::kStorage);
  std::optional<std::string> type;
  if (node["type"]) type = ReadString(node["type"], "type", errors);
  if (!type) {
    if (!node["type"]) errors.AddAt(node, "type", "storage needs a 'type' (sqlite or memory)");
    return std::nullopt;
  }
  if (*type == "memory") return std::string("memory:");
  if (*type == "sqlite") {
    if (!node["path"]) {
      errors.AddAt(node, "path", "storage of type sqlite needs a 'path'");
      return std::nullopt;
    }
    auto path = ReadString(node["path"], "path", errors);
    if (!path) return std::nullopt;
    if (IsBlank(*path)) {
      errors.AddAt(node["path"], "path", "storage 'path' is empty: name the SQLite file");
      return std::nullopt;
    }
    return "sqlite://" + std::filesystem::absolute(*path).string();
  }
  errors.AddAt(node["type"], "type",
               "unknown storage type '" + *type + "' (use sqlite or memory, or a URI)");
  return std::nullopt;
}

}  // namespace

Result<GlobalConfig> LoadGlobalConfig(const std::string& path, std::vector<Diagnostic>* problems) {
  YamlErrors errors(path);
  internal::YamlDocument document = internal::ReadYamlDocument(path);
  if (document.unreadable) {
    // ReadYamlDocument's one error says why: "cannot read the file: <reason>".
    constexpr std::string_view kPrefix = "cannot read the file: ";
    std::string why = document.errors.empty() ? std::string("cannot read the file")
                                              : document.errors.front().message;
    if (why.starts_with(kPrefix)) why.erase(0, kPrefix.size());
    if (problems != nullptr) {
      problems->push_back({path, 0, 0, "", "cannot read the config file (" + why + ")"});
    }
    return NotFound(path + ": cannot read the config file (" + why + ")");
  }
  if (!document.errors.empty()) {
    if (problems != nullptr) {
      problems->insert(problems->end(), document.errors.begin(), document.errors.end());
    }
    return InvalidArgument(document.errors.front().ToString());
  }
  for (const Diagnostic& problem : document.problems) errors.Append(problem);
  const YamlNode root = document.root;
  GlobalConfig config;
  config.source_file = path;
  if (root.IsNull()) return config;
  if (!root.IsMap()) {
    errors.AddAt(root, "", "petit.yaml must be a mapping of settings");
    return Fail(errors, problems);
  }
  CheckKeys(root, KeysOf(KeyLevel::kGlobal), "petit.yaml", errors, KeyLevel::kGlobal);
  MapFields fields(root);
  std::filesystem::path base = std::filesystem::absolute(path).parent_path();
  if (const YamlNode node = fields["storage"]) {
    std::optional<std::string> uri =
        node.IsMap() ? ReadStorageMap(node, errors) : ReadString(node, "storage", errors);
    if (uri && IsBlank(*uri)) {
      // Empty would mean "the default store" further on: a typo must not switch stores silently.
      errors.AddAt(node, "storage",
                   "'storage' is empty: give a URI (memory:, sqlite:PATH, postgresql://...) or "
                   "remove the key for the default SQLite file");
      uri.reset();
    } else if (uri && !node.IsMap()) {
      // Refused here, where the line is known, rather than when the store is opened.
      if (Status valid = storage::CheckStorageUri(*uri); !valid.ok()) {
        errors.AddAt(node, "storage", "'storage': " + valid.message());
        uri.reset();
      }
    }
    if (uri) config.storage_uri = *uri;
  }
  if (const YamlNode node = fields["plugin_dirs"]) {
    if (auto dirs = ReadStringList(node, "plugin_dirs", errors)) {
      // Relative directories are relative to petit.yaml, not to wherever petit was started.
      for (const std::string& dir : *dirs) config.plugin_dirs.push_back((base / dir).string());
    }
  }
  if (const YamlNode node = fields["max_parallel_tasks"]) {
    if (auto n = ReadInt(node, "max_parallel_tasks", 1, kMaxParallelTasks, errors)) {
      config.max_parallel_tasks = static_cast<uint32_t>(*n);
    }
  }
  if (const YamlNode node = fields["output_cap_bytes"]) {
    if (auto n = ReadInt(node, "output_cap_bytes", int64_t{kMinOutputCapBytes},
                         int64_t{kMaxOutputCapBytes}, errors)) {
      config.output_cap_bytes = static_cast<uint64_t>(*n);
    }
  }
  if (const YamlNode node = fields["pools"]) {
    if (!node.IsMap()) {
      errors.AddAt(node, "pools", "'pools' must map pool names to slot counts, e.g. {gpu: 2}");
    } else {
      for (auto it = node.begin(); it != node.end(); ++it) {
        const YamlNode name = it->first;
        Status valid = ValidateName(name.Scalar(), "pool name");
        if (!valid.ok()) errors.AddAt(name, "pools." + name.Scalar(), valid.message());
        if (auto n = ReadInt(it->second, "pools." + name.Scalar(), 1, kMaxPoolSlots, errors)) {
          config.resources.pools[name.Scalar()] = static_cast<uint32_t>(*n);
        }
      }
    }
  }
  if (const YamlNode node = fields["cpu_slots"]) {
    if (auto n = ReadInt(node, "cpu_slots", 1, kMaxPoolSlots, errors)) {
      config.resources.cpu_slots = static_cast<uint32_t>(*n);
    }
  }
  if (const YamlNode node = fields["shutdown_grace"]) {
    if (auto n = ReadInt(node, "shutdown_grace", 0, kMaxShutdownGraceSecs, errors)) {
      config.shutdown_grace = std::chrono::seconds(*n);
    }
  }
  if (const YamlNode node = fields["store_outage_limit"]) {
    if (auto n = ReadInt(node, "store_outage_limit", 0, kMaxStoreOutageLimitSecs, errors)) {
      config.store_outage_limit = std::chrono::seconds(*n);
    }
  }
  if (const YamlNode node = fields["max_tasks"]) {
    if (auto n = ReadInt(node, "max_tasks", 1, kMaxPoolSlots, errors)) {
      config.resources.max_tasks = static_cast<uint32_t>(*n);
    }
  }
  if (const YamlNode node = fields["memory_mb"]) {
    if (auto n = ReadInt(node, "memory_mb", 1, int64_t{1} << 40, errors)) {
      config.resources.memory_mb = static_cast<uint64_t>(*n);
    }
  }
  ReadTimezone(fields, config, errors);
  if (const YamlNode node = fields["plugins"]) ReadPlugins(node, config.plugins, errors);
  config.plugins.source_file = path;
  if (const YamlNode node = fields["api"]) ReadApi(node, config.api, errors);
  if (const YamlNode node = fields["logging"]) ReadLogging(node, config.logging, errors);
  if (!errors.empty()) return Fail(errors, problems);
  if (std::string token = EnvApiToken(); !token.empty()) config.api.token = std::move(token);
  return config;
}

Result<GlobalConfig> ResolveGlobalConfig(const std::optional<std::string>& explicit_path,
                                         const std::optional<std::string>& jobs_dir,
                                         std::vector<Diagnostic>* problems) {
  if (explicit_path) return LoadGlobalConfig(*explicit_path, problems);
  if (jobs_dir) {
    std::filesystem::path candidate = std::filesystem::path(*jobs_dir) / "petit.yaml";
    // Anything by that name is the config, and one that cannot be read (a directory, a FIFO, a
    // dangling symlink) is an error rather than a silent run on the defaults.
    struct stat st;
    if (::lstat(candidate.c_str(), &st) == 0) return LoadGlobalConfig(candidate.string(), problems);
  }
  GlobalConfig defaults;
  defaults.api.token = EnvApiToken();
  return defaults;
}

PluginIsolation PluginsConfig::IsolationOf(std::string_view plugin, std::string_view type) const {
  if (const auto it = per_type.find(type); it != per_type.end()) return it->second;
  if (const auto it = per_plugin.find(plugin); it != per_plugin.end()) return it->second;
  for (const std::string_view first_party : kFirstPartyPlugins) {
    if (plugin == first_party) return PluginIsolation::kInProcess;
  }
  return isolation;
}

std::string_view PluginIsolationName(PluginIsolation isolation) {
  for (const auto& [name, value] : kIsolations) {
    if (value == isolation) return name;
  }
  return "unknown";
}

bool IsLoopbackBind(std::string_view bind) {
  return std::find(kLoopbackBinds.begin(), kLoopbackBinds.end(), bind) != kLoopbackBinds.end();
}

const std::string& ApiTokenFromEnvironment() {
  static const std::string token = [] {
    const char* value = std::getenv("PETIT_API_TOKEN");
    std::string taken = value != nullptr ? value : "";
    // Tasks inherit the host's environment: they must not inherit the operator's token.
    unsetenv("PETIT_API_TOKEN");
    return taken;
  }();
  return token;
}

std::string_view LogFormatName(LogFormat format) {
  for (const auto& [name, value] : kLogFormats) {
    if (value == format) return name;
  }
  return "unknown";
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
