// RunProcess: spawns one child in a process group of its own and supervises it to the end:
// streams its stdout and stderr, enforces a timeout, honours cancellation from another thread, and
// on either terminates the whole group (SIGTERM, then SIGKILL after a grace period), and with it
// every descendant that left the group (setsid) but still carries the invocation's marker, and
// everything in the attempt's cgroup when it has one (task_cgroup.h).
//
// The child gets stdin from /dev/null, default signal dispositions for the signals a host commonly
// ignores or blocks, an empty signal mask, and an RLIMIT_RTPRIO of 0 (without privilege it cannot
// make itself real-time, as the host's scheduler thread may be). Every descriptor the parent
// opens is close-on-exec, so children spawned concurrently by other threads never inherit another
// task's pipes.
//
// The child gets SIGTERM when the host dies (PR_SET_PDEATHSIG), so it need not wait for the next
// start's recovery to be stopped; its own descendants are left to that recovery. The signal is
// tied to the thread that spawned the child, not the process: RunProcess holds that thread until
// the child is reaped, so only the host's death sends it.
//
// Threads: RunProcess blocks the calling thread and starts none. CancelSignal::Raise may be called
// from any thread, at any time. Several RunProcess calls may run at once on different threads.
#ifndef PETIT_PLUGINS_COMMAND_SUBPROCESS_H_
#define PETIT_PLUGINS_COMMAND_SUBPROCESS_H_

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "petit/plugin.hpp"
#include "task_cgroup.h"

namespace petit::command {

// Wakes a RunProcess loop from another thread (an eventfd, so the loop sleeps in poll()).
// OWNERSHIP: holds an eventfd of a process-wide pool (one is made only when none is free), given
// back zeroed on destruction; no Raise may run then. THREADS: Raise and raised are thread-safe.
class CancelSignal {
 public:
  CancelSignal() noexcept;
  ~CancelSignal();
  CancelSignal(const CancelSignal&) = delete;
  CancelSignal& operator=(const CancelSignal&) = delete;

  // -1 when the eventfd could not be created; creation_errno() says why.
  int fd() const noexcept { return fd_; }
  int creation_errno() const noexcept { return creation_errno_; }

  // Idempotent; never blocks.
  void Raise() noexcept;
  bool raised() const noexcept { return raised_.load(std::memory_order_acquire); }

 private:
  int fd_ = -1;
  int creation_errno_ = 0;
  std::atomic<bool> raised_{false};
};

// Receives output as it arrives, on the RunProcess thread, in chunks of at most kChunkBytes.
class OutputSink {
 public:
  virtual void Write(int32_t stream, std::string_view data) = 0;  // stream: PETIT_STREAM_*
  // Once, right after the spawn: the child, which leads its own process group, and its start
  // time (field 22 of /proc/<pid>/stat; 0 if unknown).
  virtual void Started(pid_t /*pid*/, uint64_t /*start_ticks*/) {}

 protected:
  ~OutputSink() = default;
};

inline constexpr size_t kChunkBytes = 64 * 1024;

struct Invocation {
  const char* path = nullptr;         // the executable (already resolved against PATH)
  char* const* argv = nullptr;        // NULL-terminated
  char* const* envp = nullptr;        // NULL-terminated
  const char* working_dir = nullptr;  // nullptr: the caller's
  std::string_view display_name;      // how messages name the program
  // One "NAME=value" entry of envp that no other process carries (the attempt's $PETIT_OUTPUT).
  // Descendants inherit it, so on timeout or cancel the ones that left the process group
  // (setsid, daemonizing) are found by it in /proc/<pid>/environ and signalled with the group.
  // Empty: the group only. A descendant that drops the entry from its environment escapes.
  std::string_view marker;
  // The attempt's cgroup, which the child joins before exec and which every signal to the group
  // also reaches, so nothing the child starts can leave; nullptr or disabled: none.
  const TaskCgroup* cgroup = nullptr;
};

struct Limits {
  std::chrono::milliseconds timeout{0};  // 0: none
  std::chrono::milliseconds kill_grace{5000};
  // Once the child has exited, how long to keep reading pipes a background descendant may still
  // hold open. Bounded so such a descendant cannot hold the task forever.
  std::chrono::milliseconds drain_after_exit{1000};
};

enum class StopReason : uint8_t { kNone, kTimeout, kCancel };

struct ProcessOutcome {
  bool exited = false;  // true: exit_code is valid; false: term_signal is
  int exit_code = 0;
  int term_signal = 0;
  bool core_dumped = false;
  StopReason stopped = StopReason::kNone;  // why the group was terminated, if it was
  bool sigkill_sent = false;               // the grace period ran out
  bool output_abandoned = false;           // pipes were still open drain_after_exit after exit
  bool status_lost = false;  // someone else reaped the child (a host ignoring SIGCHLD)
};

// Spawn failures are errors: "command not found: foo" (kError), "permission denied: ./x",
// resource exhaustion (kTransient). Everything after a successful spawn is an outcome.
sdk::Result<ProcessOutcome> RunProcess(const Invocation& invocation, const Limits& limits,
                                       const CancelSignal& cancel, OutputSink& sink);

// Processes of this user, other than this one, whose environment holds `marker` and which started
// at or after `not_before` (clock ticks since boot, as field 22 of /proc/<pid>/stat); zombies
// (whose environment reads empty) are never listed.
std::vector<pid_t> FindMarkedProcesses(std::string_view marker, uint64_t not_before);

// Field 22 of /proc/<pid>/stat; nullopt when the process is gone.
std::optional<uint64_t> ProcessStartTicks(pid_t pid);

// "SIGKILL" for 9; "SIG42" for a signal without a name here.
std::string SignalName(int signal_number);

// strerror, thread-safe.
std::string ErrnoText(int error_number);

}  // namespace petit::command

#endif  // PETIT_PLUGINS_COMMAND_SUBPROCESS_H_
