// `petit run DIR`: the long-running host. Recovers runs a dead host left running, fires the jobs'
// schedules (core Scheduler, one ExecuteRun thread per run), logs one line per fire, refusal and
// run end to stderr, and on SIGTERM or SIGINT shuts down gracefully: no new fires, active runs
// cancelled (their process groups get SIGTERM, then SIGKILL after the task's grace period) and
// recorded as cancelled, then exit 0. A second signal ends the process at once; the runs it leaves
// running are recovered as interrupted by the next start.
//
// Threads: call from the main thread before any other thread exists (signals are blocked in every
// thread started after this call, and taken by a sigwait thread).
#ifndef PETIT_HOST_DAEMON_RUN_DAEMON_H_
#define PETIT_HOST_DAEMON_RUN_DAEMON_H_

#include <vector>

#include "cli/host_env.h"
#include "petit/core/job.h"

namespace petit::host {

// Runs until SIGTERM/SIGINT; returns the process exit code (kExitOk after a graceful shutdown,
// kExitHostError when the store cannot be opened or read).
int RunDaemon(HostEnv& env, std::vector<Job> jobs);

}  // namespace petit::host

#endif  // PETIT_HOST_DAEMON_RUN_DAEMON_H_
