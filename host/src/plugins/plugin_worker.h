// The worker side of plugin process isolation: `petit __plugin-worker FILE TYPE PARENT_PID
// LIMIT_MB`, exec'd by ProcessTaskRunner (process_task_runner.h) with its end of a socket pair
// on fd 3 (worker_protocol.h).
//
// It dies with its parent (PR_SET_PDEATHSIG, then a check that the parent is still the one that
// started it), caps its own data segment at LIMIT_MB above what it uses before loading the plugin
// (RLIMIT_DATA; 0 = no cap) and its RLIMIT_RTPRIO at 0 (without privilege the plugin cannot make
// itself real-time, as the host's scheduler thread may be), loads FILE with the host's own
// PluginLoader, runs the one attempt it receives through the same PluginTaskRunner as in-process
// isolation, with an AttemptControl that streams everything to the host, delivers the host's
// cancel to the plugin, sends the result and exits. Whatever the plugin does to this process (a
// crash, exit(), a leak, a hang) is the host's to report; the worker itself never decides the
// attempt failed for a reason of its own except when the plugin cannot be loaded (a kFatal frame).
//
// Threads: the attempt runs on the main thread; one more thread reads the host's frames.
#ifndef PETIT_HOST_PLUGINS_PLUGIN_WORKER_H_
#define PETIT_HOST_PLUGINS_PLUGIN_WORKER_H_

namespace petit::host {

// argv[1] is kWorkerCommand. Returns the process exit code (it normally _exit()s instead).
int RunPluginWorker(int argc, char** argv);

}  // namespace petit::host

#endif  // PETIT_HOST_PLUGINS_PLUGIN_WORKER_H_
