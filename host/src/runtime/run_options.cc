#include "runtime/run_options.h"

#include <utility>

namespace petit::host {

RunOptions HostRunOptions(HostEnv& env, std::string owner) {
  RunOptions options;
  options.max_parallel_tasks = env.config().max_parallel_tasks;
  options.output_cap_bytes = env.config().output_cap_bytes;
  options.resources = &env.resources();
  // In-process plugins that are not petit's own are given up on after it (README, "Plugins").
  options.cancel_grace = env.config().plugins.cancel_grace;
  options.owner = std::move(owner);
  return options;
}

}  // namespace petit::host
