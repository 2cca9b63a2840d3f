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
// Nothing else changes: the runs' and the tasks' threads keep the default priority. Threads and
// processes inherit their creator's policy and slice, and the scheduler thread starts run threads
// (which start the workers that spawn tasks), so every change here sets SCHED_RESET_ON_FORK: what
// the scheduler thread starts begins with the default policy and slice. Before it did, the run
// threads, the workers and the tasks all ran with the 0.1 ms slice, ahead of the API's threads.
//
// Threads: changes the calling thread only.
#ifndef PETIT_HOST_RUNTIME_THREAD_PRIORITY_H_
#define PETIT_HOST_RUNTIME_THREAD_PRIORITY_H_

#include <cstdint>
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

// The calling thread's niceness (Linux keeps one per thread), or 0 when it cannot be read.
int ThreadNiceness();

// Raises the calling thread's niceness to `nice` if it is lower. Any thread may raise its own;
// lowering it needs privilege, so a thread that must run at a lower one is made by a thread that
// has it (ThreadRunLauncher's creator thread).
void RaiseThreadNiceness(int nice);

// The calling thread's time slice as the kernel reports it (sched_getattr's sched_runtime): the
// default slice, or the 0.1 ms one RaiseThreadPriority and ScopedNormalPriority set.
uint64_t ThreadSliceNs();

// Lowers this process's RLIMIT_RTPRIO, soft and hard, to 0: without privilege nothing in it can
// become real-time from then on. For the processes that run a plugin's code (the worker, the
// probe), which would otherwise inherit the right the scheduler thread uses (LimitRTPRIO=1 in the
// packaged unit) and could hold a processor from it. Lowering a limit needs no privilege.
void ForbidRealtime();

// While it lives, a SCHED_FIFO calling thread runs as SCHED_OTHER with the 0.1 ms slice; any other
// thread is left alone. The scheduler thread is real-time while it decides what fires and stamps
// the runs, not while it writes them: a tick's store commit (tens of milliseconds for a thousand
// runs) at real-time priority held a processor from the API and the runs (the API's p99 was
// 87 ms against 13 to 18 without it, bench/api_bench.py).
class ScopedNormalPriority {
 public:
  ScopedNormalPriority();
  ~ScopedNormalPriority();
  ScopedNormalPriority(const ScopedNormalPriority&) = delete;
  ScopedNormalPriority& operator=(const ScopedNormalPriority&) = delete;

 private:
  int realtime_priority_ = 0;  // the SCHED_FIFO priority to restore; 0: nothing was changed
};

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_THREAD_PRIORITY_H_
