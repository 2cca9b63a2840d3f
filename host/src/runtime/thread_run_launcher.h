// ThreadRunLauncher: the host's RunLauncher. Each run is one ExecuteRun call on a thread of its
// own, which becomes the run's coordinator; RunHandle::Cancel() cancels it through its
// RunCanceller (the command plugin then sends its process group SIGTERM, then SIGKILL).
//
// Run threads are kept for the next runs: a thread whose run ended waits for another for up to
// kIdleThreadLifetime, then exits (and is joined by a later launch, after its admission). There is
// no bound on how many run at once (a run may wait for hours), only on how long a spare thread
// lives: at 1,000 runs a second a new thread and its stack per run cost more than the run itself,
// and joining the ended ones delayed the next tick's fires. The spare thread that went idle last
// takes the next run, so that after a burst the threads it needed beyond the usual stay idle and
// go (a condition variable woke any of them, which kept every one busy now and then and alive);
// a thread idle for kStackReleaseDelay gives back the stack pages it no longer uses
// (thread_stack.h): RSS grew by about 40 KiB per spare thread a burst left behind.
//
// Launch admits a new run in the store first (StateStore::AdmitRun, with the job's
// max_active_runs and the request's occurrence), before any thread starts, so the scheduler hears
// of a refusal as a launch failure with the store's reason (kFailedPrecondition): another process
// holds the job's run slots, or another host has already created the occurrence's run. A run
// that continues (a retry, or a run a dead host left) is reopened through admission
// (StateStore::AdmitReopen) the same way.
//
// A run thread has the niceness of the thread that made the launcher (the daemon's), and so do the
// workers it starts and their tasks: a thread Start needs while called from a thread of another
// niceness (an API thread runs five above the daemon) is made by the launcher's creator thread.
//
// Ownership: borrows the task runners, the store and whatever `options` points to (resources,
// event bus, clock), which must outlive it. Each run shares its Job with the scheduler.
// Threads: Launch may be called from any thread. The destructor waits for the runs it started and
// joins every run thread, so end the runs first (Scheduler::Stop does): it does not cancel them.
#ifndef PETIT_HOST_RUNTIME_THREAD_RUN_LAUNCHER_H_
#define PETIT_HOST_RUNTIME_THREAD_RUN_LAUNCHER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "petit/core/execute_run.h"
#include "petit/core/mutex.h"
#include "petit/core/scheduler.h"
#include "petit/core/state_store.h"
#include "petit/core/task_runner.h"
#include "petit/core/thread_annotations.h"

namespace petit::host {

class ThreadRunLauncher final : public RunLauncher {
 public:
  // How long a run thread with nothing to run waits for another run before it exits.
  static constexpr std::chrono::seconds kIdleThreadLifetime{30};
  // A thread idle this long gives back its unused stack pages. Long enough that threads reused
  // every few seconds (jobs firing together on a short schedule) do not pay for it each time.
  static constexpr std::chrono::seconds kStackReleaseDelay{5};
  // At most this often, a run thread that has ended a run gives the allocator's free pages back
  // to the kernel (glibc's malloc_trim). Runs allocate in the arena of whichever thread runs them
  // (glibc keeps up to 8 per core), and the free pages each arena keeps stayed resident: RSS crept
  // up by tens of KiB per arena over 100,000 runs without this.
  static constexpr std::chrono::seconds kTrimInterval{10};

  // Called on the run's thread once ExecuteRun has returned, before the scheduler hears of it.
  using EndReporter = std::function<void(const RunRequest&, const Result<RunRecord>&)>;

  // How long spare threads wait; tests shorten them.
  struct SpareThreads {
    std::chrono::milliseconds stack_release_delay = kStackReleaseDelay;
    std::chrono::milliseconds lifetime = kIdleThreadLifetime;
  };

  // `options` is what every run shares; trigger and canceller are set per run.
  ThreadRunLauncher(const TaskRunnerRegistry& runners, StateStore& store, RunOptions options,
                    EndReporter report_end);
  ThreadRunLauncher(const TaskRunnerRegistry& runners, StateStore& store, RunOptions options,
                    EndReporter report_end, SpareThreads spare);
  ~ThreadRunLauncher() override;

  ThreadRunLauncher(const ThreadRunLauncher&) = delete;
  ThreadRunLauncher& operator=(const ThreadRunLauncher&) = delete;

  Result<std::unique_ptr<RunHandle>> Launch(const RunRequest& request,
                                            RunEndCallback on_end) override EXCLUDES(mu_);
  // The new runs among `requests` are admitted in one StateStore::AdmitRuns call.
  std::vector<Result<std::unique_ptr<RunHandle>>> LaunchBatch(
      std::span<const RunRequest> requests, std::vector<RunEndCallback> on_ends) override
      EXCLUDES(mu_);
  // With `store` this launcher's store: the new runs' admissions and `jobs` in one commit
  // (StateStore::AdmitRunsAndSaveJobs); else as the default does.
  BatchLaunch LaunchBatchSavingJobs(std::span<const RunRequest> requests,
                                    std::vector<RunEndCallback> on_ends,
                                    std::span<const JobRecord> jobs, StateStore& store) override
      EXCLUDES(mu_);

  // Run threads alive (running a run or spare) and how many of them are spare.
  struct ThreadCounts {
    size_t threads = 0;
    size_t idle = 0;
  };
  ThreadCounts thread_counts() const EXCLUDES(mu_);
  // Waits until `idle` threads are spare and `threads` alive, or `timeout` passes; false then.
  bool WaitForThreads(ThreadCounts counts, std::chrono::milliseconds timeout) EXCLUDES(mu_);

 private:
  // A spare thread, on its own stack while it waits; Start hands it a run through `work`.
  struct SpareThread {
    explicit SpareThread(Mutex& mu) : woken(mu) {}
    CondVar woken;
    std::function<void()> work;  // guarded by mu_ (set by Start)
  };

  // The record of the new run `request` asks for, created in the store by admission; a refusal
  // or a store failure as an error.
  Result<RunRecord> Admit(const RunRequest& request);
  // The same for a run that continues: the record as reopened.
  Result<RunRecord> AdmitReopen(const RunRequest& request);
  // What Admit asks the store for.
  RunRecord NewRun(const RunRequest& request) const;
  // LaunchBatch, the new runs admitted together with `jobs` saved.
  BatchLaunch LaunchWithJobs(std::span<const RunRequest> requests,
                             std::vector<RunEndCallback> on_ends, std::span<const JobRecord> jobs)
      EXCLUDES(mu_);
  // Joins the threads that exited (idle for kIdleThreadLifetime).
  void JoinFinished() EXCLUDES(mu_);
  // Runs `request`, admitted as `admitted`, on a spare thread or a new one.
  Result<std::unique_ptr<RunHandle>> Start(const RunRequest& request, RunEndCallback on_end,
                                           std::shared_ptr<const RunRecord> admitted) EXCLUDES(mu_);
  // A run thread: runs `work`, then each run Start hands it while spare; exits once spare for
  // spare_.lifetime, or stopping.
  void ThreadLoop(uint64_t key, std::function<void()> work) EXCLUDES(mu_);
  // Waits, spare, until Start hands `self` a run (true), or spare_.lifetime passes or the
  // launcher stops (false; `self` is then no longer in spare_).
  bool WaitAsSpare(SpareThread& self) REQUIRES(mu_);

  // Threads that exited, taken out of threads_ to be joined without mu_ held.
  std::vector<std::thread> TakeFinished() REQUIRES(mu_);
  // malloc_trim, unless another thread did within kTrimInterval.
  void TrimIfDue() EXCLUDES(mu_);

  // A run thread that Start asks creator_ to make, on Start's stack until `done`.
  struct ThreadToCreate {
    std::function<void()> body;
    bool done = false;  // guarded by mu_
    std::string error;  // why the thread could not start; empty when it did
  };
  // Makes a run thread that runs `body`; why it could not, or "".
  std::string CreateThread(std::function<void()> body) REQUIRES(mu_);
  // creator_: makes the threads in to_create_ until the destructor stops it.
  void CreatorLoop() EXCLUDES(mu_);

  const TaskRunnerRegistry& runners_;
  StateStore& store_;
  const RunOptions options_;
  const EndReporter report_end_;

  const SpareThreads spare_times_;
  // The niceness of the thread that made the launcher (the daemon's), which every run thread
  // has, and so the workers it starts and their tasks. A thread inherits its creator's: one made
  // by the scheduler thread while it runs SCHED_FIFO begins at 0 (SCHED_RESET_ON_FORK,
  // runtime/thread_priority.h) and raises itself to nice_; one an API thread (five above) would
  // make is made by creator_ instead, since without privilege a thread cannot lower its own.
  const int nice_;

  mutable Mutex mu_;
  // The spare threads, the one that went idle last at the back: it takes the next run.
  std::vector<SpareThread*> spare_ GUARDED_BY(mu_);
  CondVar counts_changed_{mu_};  // a thread became spare or exited (WaitForThreads)
  bool stopping_ GUARDED_BY(mu_) = false;
  std::deque<ThreadToCreate*> to_create_ GUARDED_BY(mu_);
  CondVar creator_wake_{mu_};  // to_create_ has one, or creator_stopping_
  CondVar created_{mu_};       // one in to_create_ is done
  bool creator_stopping_ GUARDED_BY(mu_) = false;
  uint64_t next_thread_ GUARDED_BY(mu_) = 0;
  std::map<uint64_t, std::thread> threads_ GUARDED_BY(mu_);
  std::vector<uint64_t> finished_ GUARDED_BY(mu_);  // keys of threads_ that exited
  // steady_clock nanoseconds of the latest TrimIfDue that trimmed; any thread, compare-exchanged.
  std::atomic<int64_t> last_trim_ns_{0};
  // Declared last: it starts in the constructor and uses the members above.
  std::thread creator_;
};

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_THREAD_RUN_LAUNCHER_H_
