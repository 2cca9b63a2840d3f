// Scheduling priority of the daemon's scheduler thread.
//
// A fire is late by as long as the scheduler thread waits for a processor once its timer
// expires, and on a busy host (a client hammering the API, a thousand runs a second) that wait,
// not the scheduler's own work, is most of the lateness: measured with 1,000 jobs a second under
// wrk on 2 cores, p99 7.6 ms at the default priority, 2.6 ms as SCHED_FIFO, 4.3 ms with a 0.1 ms
// time slice (bench/api_bench.py). So the thread asks for the most it may have:
//   - SCHED_FIFO at priority 1, where the process may use real-time priorities (root, or an
//     RLIMIT_RTPRIO of at least 1: systemd's LimitRTPRIO=1 without RestrictRealtime=yes). The
//     thread sleeps between passes and a pass is bounded by the jobs due, and the kernel keeps 5%
//     of each processor for other threads however long a real-time one runs (sched_rt_runtime_us).
//   - Otherwise a time slice of 0.1 ms at its niceness (Linux 6.12 and later, any user): the
//     thread's virtual deadline comes first, so it takes the processor when it wakes. Older
//     kernels accept and ignore it.
// Nothing else changes: the runs' and the tasks' threads keep the default priority (children
// inherit their spawning thread's policy, and a task must not run real-time).
//
// Threads: changes the calling thread only.
#ifndef PETIT_HOST_RUNTIME_THREAD_PRIORITY_H_
#define PETIT_HOST_RUNTIME_THREAD_PRIORITY_H_

#include <string>

namespace petit::host {

enum class ThreadPriority {
  kRealtime,    // SCHED_FIFO, priority 1
  kShortSlice,  // SCHED_OTHER with a 0.1 ms slice, niceness kept
  kUnchanged,   // the kernel refused both
};

// Raises the calling thread's priority as above; `allow_realtime` false skips SCHED_FIFO. What
// applied, and in `detail` a line for the log.
ThreadPriority RaiseThreadPriority(bool allow_realtime, std::string& detail);

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_THREAD_PRIORITY_H_
