// `petit watch RUN` and `petit trigger DIR JOB --follow`: a live per-task view of one run of a
// running daemon, fed by its event stream (GET /api/v1/events?run=), with the run and its tasks
// read first (GET /api/v1/runs/{id}, /tasks) and again after a gap.
//
// On a terminal the view is a table of tasks whose states and durations update in place (ANSI
// cursor movement, redrawn each second); otherwise one plain line per transition. The last lines
// of each failed task's output are printed (GET .../logs?tail=). A dropped connection is resumed
// with Last-Event-ID for up to `reconnect_patience`. The exit code is `petit trigger`'s
// (petit/host/exit_codes.h): 0 the run succeeded, 1 it failed, was cancelled or interrupted or
// never started, 2 no such run, 3 no daemon answers or the stream was lost.
//
// Threads: WatchRun reads the stream on a thread of its own and prints on the caller's.
#ifndef PETIT_HOST_CLI_WATCH_COMMAND_H_
#define PETIT_HOST_CLI_WATCH_COMMAND_H_

#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>

#include "cli/api_client.h"
#include "cli/sse_client.h"
#include "petit/core/ids.h"

namespace petit::host {

struct WatchOptions {
  DaemonAddress daemon;
  RunId run;
  // The run was just triggered: it may not be in the store yet, so a 404 is not "no such run".
  bool just_triggered = false;
  // Update a table in place (a terminal) rather than print lines.
  bool in_place = false;
  size_t width = 100;  // of the terminal, for the table
  std::chrono::milliseconds reconnect_patience{30000};
  // Silence after which the connection counts as dead (the server pings every 15 s).
  std::chrono::milliseconds idle{45000};
  std::chrono::milliseconds request_timeout{10000};
  // Without events for this long, the run and its tasks are read again (a run another process
  // drives has no events on the daemon's stream).
  std::chrono::milliseconds recheck{15000};
  size_t tail_bytes = 4096;
  size_t tail_lines = 20;
};

int WatchRun(const WatchOptions& options, std::ostream& out, std::ostream& err);

}  // namespace petit::host

#endif  // PETIT_HOST_CLI_WATCH_COMMAND_H_
