// The RunOptions every run this host starts shares: limits and pools from petit.yaml, and the
// owner recorded on each run for recovery (runtime/recovery.h). `petit trigger` and the daemon
// both start from here, so a run behaves alike whoever started it.
//
// Threads: call from one thread; the options point into `env`, which must outlive every run.
#ifndef PETIT_HOST_RUNTIME_RUN_OPTIONS_H_
#define PETIT_HOST_RUNTIME_RUN_OPTIONS_H_

#include <chrono>
#include <string>

#include "petit/core/execute_run.h"
#include "runtime/host_env.h"

namespace petit::host {

RunOptions HostRunOptions(HostEnv& env, std::string owner);

// The one line a host logs when its store stops answering or is back (StoreHealth's listener);
// `limit` is the run's store_outage_limit.
std::string DescribeStoreHealth(const StoreHealthChange& change, std::chrono::milliseconds limit);

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_RUN_OPTIONS_H_
