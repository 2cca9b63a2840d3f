// The exit guard: what the host does when an in-process plugin ends the process with exit() or
// quick_exit() (a plugin's _exit() or a crash cannot be caught; process isolation contains those,
// README "Plugins").
//
// Every in-process attempt is recorded in a slot of its thread (RunningAttempt, two atomic stores
// per attempt). Once installed, an atexit and an at_quick_exit handler check whether petit itself
// is ending (MarkOrderlyExit); if not, they write one line to stderr naming every task that was
// running (task, type, attempt, run, job) and end the process with kExitHostError instead of the
// status the plugin chose, so that a service manager (systemd's Restart=on-failure) restarts
// petit rather than taking a plugin's exit(0) for a clean stop.
//
// Threads: RunningAttempt is used on the thread running the attempt; the handlers run on
// whichever thread called exit(); the rest from the main thread.
#ifndef PETIT_HOST_PLUGINS_EXIT_GUARD_H_
#define PETIT_HOST_PLUGINS_EXIT_GUARD_H_

#include "petit/core/task_runner.h"

namespace petit::host {

// Registers the handlers; once per process (later calls do nothing).
void InstallPluginExitGuard();

// Says petit is ending on its own: the handlers let the exit through from now on.
void MarkOrderlyExit();

// Marks `request` as running on this thread for its lifetime. `request` must outlive it.
class RunningAttempt {
 public:
  explicit RunningAttempt(const AttemptRequest& request);
  ~RunningAttempt();
  RunningAttempt(const RunningAttempt&) = delete;
  RunningAttempt& operator=(const RunningAttempt&) = delete;
};

}  // namespace petit::host

#endif  // PETIT_HOST_PLUGINS_EXIT_GUARD_H_
