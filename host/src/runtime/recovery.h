// Startup recovery (DESIGN §4): runs left queued or running by a host process that is gone become
// interrupted, or are taken over by a daemon that resumes them, so nothing is silently left
// running.
//
// Every run records its owner, the host process that drives it, as
// "<hostname>/<pid>/<process start time>" (the start time is field 22 of /proc/<pid>/stat, in
// clock ticks since boot; with the pid it names one process even after the pid is reused). Only
// this host's processes can be checked, so runs of other hosts are left to those hosts.
//
// Before its runs are marked, what a dead owner left running is terminated: the command plugin
// gives every process it starts PETIT_RUN_ID=<run>, which each descendant inherits (a setsid one
// too), so a process of this user with a dead owner's run id in /proc/<pid>/environ that started
// after that owner did is one of its leftovers. A reused pid cannot match: its process started
// later but carries another environment. Members of the process groups the dead owner noted for
// those runs (process_registry.h) are leftovers too, and, where the command plugin could give
// attempts cgroups of their own (task_cgroups.h), every process in the dead owner's attempt
// cgroups, whatever it did to its process group or environment; those cgroups are removed.
//
// Threads: every function may be called from any thread; none keeps state.
#ifndef PETIT_HOST_RUNTIME_RECOVERY_H_
#define PETIT_HOST_RUNTIME_RECOVERY_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "petit/core/state_store.h"
#include "petit/core/status.h"

namespace petit::host {

// The owner string of process `pid` of this host; kNotFound when no such process exists.
Result<std::string> ProcessOwner(int64_t pid);
// ProcessOwner of this process.
Result<std::string> CurrentProcessOwner();

enum class OwnerState : uint8_t {
  kAlive,    // names a live process of this host
  kDead,     // recorded no owner, or names a process of this host that exited (a zombie too)
             // or whose pid now belongs to a process started at another time
  kUnknown,  // names another host's process, or is not an owner string: left alone
};

// What `owner` is, seen from the process whose owner string is `this_owner` (which says what
// "this host" is).
OwnerState CheckOwner(std::string_view owner, std::string_view this_owner);

// How often a running daemon looks for runs of this host whose owner died
// (Daemon::SweepDeadOwners), so that no command waits for a restart to see them interrupted.
inline constexpr std::chrono::seconds kDeadOwnerSweepInterval{15};

// "interrupted run R of job J: <why>": how recovery reports a run it marked interrupted.
std::string DescribeInterrupted(const RunRecord& run);

// How long leftovers get between SIGTERM and SIGKILL.
inline constexpr std::chrono::milliseconds kLeftoverGrace{5000};

// A process a dead owner left running, as TerminateLeftovers found it.
struct Leftover {
  int64_t pid = 0;
  std::string run_id;  // empty: found in a dead host's cgroup, its environment naming no run
};

// Terminates the leftovers (see above) of the runs `dead_runs`, each with its dead owner: SIGTERM
// to all, up to `grace` for them to exit, then SIGKILL to what is left. Returns what was found.
// Scans /proc once, however many runs there are.
std::vector<Leftover> TerminateLeftovers(const std::vector<RunRecord>& dead_runs,
                                         std::chrono::milliseconds grace);

// The command line (argv) of the live process of this host that `owner` names; read, then checked
// to still belong to that process, so a reused pid never lends its command line.
// kFailedPrecondition when `owner` names no live process of this host.
Result<std::vector<std::string>> OwnerCommandLine(std::string_view owner);

// Sends `signal_number` to the live process of this host that `owner` names, and never to a
// process that merely reuses its pid: through a pidfd opened before the owner string is checked
// against the pid's start time (plain kill() after the check where pidfds are missing).
// kFailedPrecondition when `owner` names no live process of this host.
Status SignalOwner(std::string_view owner, int signal_number);

// Which runs of dead owners the caller resumes (a daemon: those of the jobs it defines).
using ResumeFilter = std::function<bool(const RunRecord&)>;

// What recovery did with the runs of dead owners, each as now stored.
struct RecoveredRuns {
  std::vector<RunRecord> interrupted;  // ended kInterrupted
  // Still kRunning, now owned by this process, their lost attempts interrupted, one more retry
  // counted (StateStore::TakeOverRun); `error` holds the reason, which the store does not keep.
  std::vector<RunRecord> taken_over;
};

// Handles every incomplete run whose owner is kDead, after terminating their leftovers (one line
// per process to `log`, if given), with the reason "the host process <owner> died" and `now_us`
// as the time: a run `resume` accepts is taken over by `this_owner` in one store step, so that
// its caller resumes it and no death between recovery and resumption strands it; any other run
// is marked interrupted. Then repairs attempts left queued or running in runs that ended (a host
// that lost its store mid-run): they become interrupted, one line per run to `log`. A run that
// another process recovers or finishes meanwhile is skipped. Fails only when the store does.
// `repair_stranded` false skips the repair: a live daemon's own runs may have ended in the store
// while the end of an attempt still waits to be written (a store outage's write-behind).
Result<RecoveredRuns> RecoverDeadRuns(StateStore& store, const std::string& this_owner,
                                      int64_t now_us, const ResumeFilter& resume,
                                      std::ostream* log = nullptr, bool repair_stranded = true);

// RecoverDeadRuns resuming nothing: the runs it marked interrupted.
Result<std::vector<RunRecord>> RecoverInterruptedRuns(StateStore& store,
                                                      const std::string& this_owner, int64_t now_us,
                                                      std::ostream* log = nullptr);

// What a command that starts runs does first: recovers (printing one line per interrupted run to
// `err`) and returns this process's owner string, for the runs it is about to create.
Result<std::string> RecoverOnStartup(StateStore& store, std::ostream& err);

// RecoverOnStartup, taking over the runs `resume` accepts (RecoverDeadRuns; one line per run to
// `err` all the same), which a daemon then continues (each task as its retry policy allows,
// core/retry_plan.h's PlanRecovery).
struct Recovery {
  std::string owner;                   // this process's owner string
  std::vector<RunRecord> interrupted;  // as now stored
  std::vector<RunRecord> taken_over;   // as RecoveredRuns::taken_over
};
Result<Recovery> RecoverHost(StateStore& store, std::ostream& err,
                             const ResumeFilter& resume = nullptr);

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_RECOVERY_H_
