// GlobalConfig: the host-wide settings of petit.yaml, with defaults for everything.
//
// Lookup: `--config FILE` when given; otherwise `petit.yaml` in the jobs directory when present;
// otherwise defaults. Unknown keys are errors, like in job files.
//
// Keys: storage (a URI, or the original's {type: sqlite|memory, path}), plugin_dirs (relative to
// petit.yaml), max_parallel_tasks (per run), max_tasks (attempts in flight across all runs),
// output_cap_bytes, pools, cpu_slots, memory_mb, shutdown_grace (seconds, default 30),
// plugins: {isolation: in_process|process, per_plugin: {NAME: MODE}, per_type: {TYPE: MODE},
// memory_limit_mb, cancel_grace_ms}, store_outage_limit (seconds, default 300: how long a run
// waits for a state store that stopped answering before it cancels its tasks;
// core/store_outage.h), timezone (IANA name; the zone of job schedules that name none; the
// original's `default_timezone` is accepted for it), api: {enabled, bind, port, token,
// read_only_token, cors_origins, path_prefix, max_threads, max_connections, max_body_bytes,
// timeout, max_streams} (the HTTP API of `petit run`, api/http_server.h), logging:
// {level: debug|info|warn|error, format: text|json}.
//
// The API's operator token is PETIT_API_TOKEN when that is set, else `api.token`. An API bound to
// anything but the loopback (127.0.0.1, localhost, ::1) must have a token, since it can trigger
// jobs: that check is here and only here, so `petit validate` and `petit run` refuse alike.
//
// `logging` is read and checked so that a petit.yaml written for the original Petit loads; the
// daemon logs text lines at info whatever it says.
#ifndef PETIT_HOST_CONFIG_GLOBAL_CONFIG_H_
#define PETIT_HOST_CONFIG_GLOBAL_CONFIG_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.h"
#include "petit/core/log_level.h"
#include "petit/core/resources.h"
#include "petit/core/status.h"
#include "petit/core/store_outage.h"

namespace petit::host {

constexpr uint16_t kDefaultApiPort = 8565;  // the original Petit's

struct ApiConfig {
  bool enabled = true;
  std::string bind = "127.0.0.1";
  uint16_t port = kDefaultApiPort;  // 0 = any free port
  // Bearer tokens; both empty = no authentication (loopback only). A read-only token needs an
  // operator token beside it.
  std::string token;            // the operator's: every route
  std::string read_only_token;  // GET routes only: no trigger, cancel, retry, pause, reload
  // Origins ("https://ops.example.com") whose browsers may call the API; none by default.
  std::vector<std::string> cors_origins;
  // Where a reverse proxy mounts the API ("/petit"); requests are served with and without it.
  // Empty, or "/" followed by segments, without a trailing "/".
  std::string path_prefix;
  uint32_t max_threads = 16;       // threads running requests (plus one reading them)
  uint32_t max_connections = 256;  // open connections; idle ones are closed to make room
  uint64_t max_body_bytes = uint64_t{1} << 20;
  // Reading one request (head and body), waiting on an idle connection, and each write.
  std::chrono::milliseconds timeout{10000};
  uint32_t max_streams = 8;  // event streams and followed logs at once; below max_threads

  bool operator==(const ApiConfig&) const = default;
};

// True for the binds only this machine can reach: 127.0.0.1, localhost, ::1 ([::1]).
bool IsLoopbackBind(std::string_view bind);

enum class LogFormat : uint8_t { kText, kJson };

struct LoggingConfig {
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kText;
};

// How a task type's attempts run (README, "Plugins").
enum class PluginIsolation : uint8_t {
  kInProcess,  // on a worker thread of the host: fastest; a crash or exit() ends the host
  kProcess,    // in a child `petit __plugin-worker` per attempt: whatever it does ends it alone
};

// petit.yaml's `plugins:` mapping. The isolation of a task type is, first match wins: its entry
// in per_type, its plugin's entry in per_plugin, in_process for the plugins shipped with petit
// (kFirstPartyPlugins), `isolation` for every other plugin.
struct PluginsConfig {
  PluginIsolation isolation = PluginIsolation::kProcess;
  std::map<std::string, PluginIsolation, std::less<>> per_plugin;
  std::map<std::string, PluginIsolation, std::less<>> per_type;
  // Data a process-isolated plugin may add to its worker (RLIMIT_DATA), in MiB; 0 = no limit.
  uint64_t memory_limit_mb = 1024;
  // How long an attempt may run on after its cancel or timeout before the host gives up on it:
  // a worker process is killed, an in-process task's thread is abandoned (and replaced).
  std::chrono::milliseconds cancel_grace{10000};
  std::string source_file;  // for messages about names in per_plugin / per_type
  int per_plugin_line = 0;  // 1-based lines of those mappings, 0 when absent
  int per_type_line = 0;

  PluginIsolation IsolationOf(std::string_view plugin, std::string_view type) const;
};

// The plugins that ship with petit, trusted to run in the host unless petit.yaml says otherwise.
inline constexpr std::string_view kFirstPartyPlugins[] = {"builtin", "command"};

std::string_view PluginIsolationName(PluginIsolation isolation);

struct GlobalConfig {
  std::string storage_uri;                // empty = the default SQLite file (DefaultStorageUri)
  std::vector<std::string> plugin_dirs;   // empty = the plugin directory beside the executable
  uint32_t max_parallel_tasks = 0;        // 0 = number of hardware threads
  uint64_t output_cap_bytes = 16u << 20;  // per stream per attempt
  // pools, cpu_slots and memory_mb tasks may ask for; max_tasks, the host-wide task limit
  ResourceCapacity resources;
  std::string timezone = "UTC";  // default zone of job schedules; a valid IANA name
  // How long `petit run` lets running tasks finish after SIGTERM before it cancels them (whole
  // seconds; 0 cancels at once). dist/petit.service's TimeoutStopSec stays above it.
  std::chrono::seconds shutdown_grace{30};
  PluginsConfig plugins;
  std::chrono::seconds store_outage_limit{kDefaultStoreOutageLimit};
  ApiConfig api;
  LoggingConfig logging;
  std::string source_file;  // where it came from; empty for defaults
};

// Parses `path`; every problem is listed, one per line, as "<file>:<line>:<col>: ...". When
// `problems` is given, the same problems are appended to it one by one (for `petit validate`).
Result<GlobalConfig> LoadGlobalConfig(const std::string& path,
                                      std::vector<Diagnostic>* problems = nullptr);

// `--config` if given, else <jobs_dir>/petit.yaml if it exists, else defaults.
Result<GlobalConfig> ResolveGlobalConfig(const std::optional<std::string>& explicit_path,
                                         const std::optional<std::string>& jobs_dir,
                                         std::vector<Diagnostic>* problems = nullptr);

std::string_view LogFormatName(LogFormat format);

// sqlite:// URI of the default state file: $PETIT_STATE_DIR/petit.db, else /var/lib/petit/petit.db
// for root, else $XDG_STATE_HOME/petit/petit.db (~/.local/state/petit/petit.db).
std::string DefaultStorageUri();

}  // namespace petit::host

#endif  // PETIT_HOST_CONFIG_GLOBAL_CONFIG_H_
