// The host-services table every plugin receives at init (petit_init_args.host), and the sink for
// log lines a plugin writes outside an attempt (ctx == NULL: during init, shutdown, or from a
// thread of its own).
//
// Ownership: the table is a process-wide constant with static storage; plugins borrow it and it
// outlives every library. Threads: every function in the table is thread-safe, as plugin.h
// promises; SetPluginLogSink may be called from any thread at any time.
#ifndef PETIT_HOST_PLUGINS_HOST_SERVICES_H_
#define PETIT_HOST_PLUGINS_HOST_SERVICES_H_

#include <string_view>

#include "petit/core/task_runner.h"
#include "petit/plugin.h"

namespace petit::host {

// The table handed to every plugin. Each function that takes a petit_exec_ctx forwards to the
// AttemptControl of that attempt (see exec_ctx.h).
const petit_host_services& HostServices();

// Receives log lines written with ctx == NULL. It must be thread-safe and must not call back
// into a plugin. The default writes "petit: plugin: <level>: <message>" to stderr.
using PluginLogSink = void (*)(LogLevel level, std::string_view message);

// Replaces the sink; nullptr restores the default. Returns the previous sink (never nullptr), so a
// test can restore it.
PluginLogSink SetPluginLogSink(PluginLogSink sink);

}  // namespace petit::host

#endif  // PETIT_HOST_PLUGINS_HOST_SERVICES_H_
