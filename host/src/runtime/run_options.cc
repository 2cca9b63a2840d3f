#include "runtime/run_options.h"

#include <utility>

#include "runtime/time_format.h"

namespace petit::host {

RunOptions HostRunOptions(HostEnv& env, std::string owner) {
  RunOptions options;
  options.max_parallel_tasks = env.config().max_parallel_tasks;
  options.output_cap_bytes = env.config().output_cap_bytes;
  options.store_outage.limit = env.config().store_outage_limit;
  options.resources = &env.resources();
  // In-process plugins that are not petit's own are given up on after it (README, "Plugins").
  options.cancel_grace = env.config().plugins.cancel_grace;
  options.owner = std::move(owner);
  return options;
}

// One line per change of the store's health.
std::string DescribeStoreHealth(const StoreHealthChange& change, std::chrono::milliseconds limit) {
  if (!change.available) {
    return "state store unavailable: " + change.error.message() +
           "; runs keep their tasks going and retry their writes for up to " +
           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(limit).count()) +
           " s (store_outage_limit)";
  }
  return "state store available again after " + FormatDuration(change.down_for_us) + "; " +
         std::to_string(change.pending_writes) + " pending write" +
         (change.pending_writes == 1 ? "" : "s") + " being written in order";
}

}  // namespace petit::host
