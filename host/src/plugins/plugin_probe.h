// Plugin probe: loads a third-party plugin library in a child `petit __plugin-probe FILE PARENT`
// before the host loads it itself, so a library that crashes, exits or hangs while it is loaded
// (in a static constructor or in petit_plugin_init) ends the child, never the host.
//
// The child runs the host's own PluginLoader checks on that one file and writes one line to a pipe
// on fd 3: a fixed marker when the library loaded, or the loader's refusal. Only that marker, from
// a child that then exited with status 0, counts as success: a plugin that calls exit(0) while it
// loads writes no marker. The child is spawned like a plugin worker (process_task_runner.h): its
// own process group, dies with its parent (PR_SET_PDEATHSIG), stdin /dev/null, no descriptor
// inherited but stdout, stderr and the pipe, no right to real-time priorities (ForbidRealtime);
// past the time limit its whole group is killed.
//
// Threads: ProbePlugin may be called from any thread; each call has its own child.
#ifndef PETIT_HOST_PLUGINS_PLUGIN_PROBE_H_
#define PETIT_HOST_PLUGINS_PLUGIN_PROBE_H_

#include <chrono>
#include <string>
#include <string_view>

#include "petit/core/status.h"

namespace petit::host {

inline constexpr std::string_view kProbeCommand = "__plugin-probe";
// How long a library may take to load in the probe before it is killed and refused.
inline constexpr std::chrono::milliseconds kPluginProbeTimeLimit{10000};

// Starts `executable __plugin-probe FILE` (executable: a petit binary of the host's version) and
// waits for it at most `time_limit`. Ok when the child loaded `file` cleanly; otherwise the
// one-line reason, either the loader's own refusal or one of
//   plugin FILE crashed while loading: SIGSEGV
//   plugin FILE exited with status N while loading
//   plugin FILE did not finish loading within 10 s
Status ProbePlugin(const std::string& executable, const std::string& file,
                   std::chrono::milliseconds time_limit);

// The child's side; argv[1] is kProbeCommand. Returns the process exit code (it normally _exit()s).
int RunPluginProbe(int argc, char** argv);

}  // namespace petit::host

#endif  // PETIT_HOST_PLUGINS_PLUGIN_PROBE_H_
