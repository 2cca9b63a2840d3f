// GlobalConfig: the host-wide settings of petit.yaml, with defaults for everything.
//
// Lookup: `--config FILE` when given; otherwise `petit.yaml` in the jobs directory when present;
// otherwise defaults. Unknown keys are errors, like in job files.
#ifndef PETIT_HOST_CONFIG_GLOBAL_CONFIG_H_
#define PETIT_HOST_CONFIG_GLOBAL_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "petit/core/resources.h"
#include "petit/core/status.h"

namespace petit::host {

struct GlobalConfig {
  std::string storage_uri;                // empty = the default SQLite file (DefaultStorageUri)
  std::vector<std::string> plugin_dirs;   // empty = the plugin directory beside the executable
  uint32_t max_parallel_tasks = 0;        // 0 = number of hardware threads
  uint64_t output_cap_bytes = 16u << 20;  // per stream per attempt
  ResourceCapacity resources;             // pools, cpu_slots and memory_mb tasks may ask for
  std::string source_file;                // where it came from; empty for defaults
};

// Parses `path`; every problem is listed, one per line, as "<file>:<line>:<col>: ...".
Result<GlobalConfig> LoadGlobalConfig(const std::string& path);

// `--config` if given, else <jobs_dir>/petit.yaml if it exists, else defaults.
Result<GlobalConfig> ResolveGlobalConfig(const std::optional<std::string>& explicit_path,
                                         const std::optional<std::string>& jobs_dir);

// sqlite:// URI of the default state file: $PETIT_STATE_DIR/petit.db, else /var/lib/petit/petit.db
// for root, else $XDG_STATE_HOME/petit/petit.db (~/.local/state/petit/petit.db).
std::string DefaultStorageUri();

}  // namespace petit::host

#endif  // PETIT_HOST_CONFIG_GLOBAL_CONFIG_H_
