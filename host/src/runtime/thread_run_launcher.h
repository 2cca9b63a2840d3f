// ThreadRunLauncher: the host's RunLauncher. Each run is one ExecuteRun call on a thread of its
// own, which becomes the run's coordinator; RunHandle::Cancel() cancels it through its
// RunCanceller (the command plugin then sends its process group SIGTERM, then SIGKILL).
//
// Launch admits a new run in the store first (StateStore::AdmitRun, with the job's
// max_active_runs and the request's occurrence), before any thread starts, so the scheduler hears
// of a refusal as a launch failure with the store's reason (kFailedPrecondition): another process
// holds the job's run slots, or another host has already created the occurrence's run. A run
// that continues (a retry, or a run a dead host left) is reopened through admission
// (StateStore::AdmitReopen) the same way.
//
// Ownership: borrows the task runners, the store and whatever `options` points to (resources,
// event bus, clock), which must outlive it. Each run shares its Job with the scheduler.
// Threads: Launch may be called from any thread. The destructor joins every run thread, so end
// the runs first (Scheduler::Stop does): it does not cancel them.
#ifndef PETIT_HOST_RUNTIME_THREAD_RUN_LAUNCHER_H_
#define PETIT_HOST_RUNTIME_THREAD_RUN_LAUNCHER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
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
  // Called on the run's thread once ExecuteRun has returned, before the scheduler hears of it.
  using EndReporter = std::function<void(const RunRequest&, const Result<RunRecord>&)>;

  // `options` is what every run shares; trigger and canceller are set per run.
  ThreadRunLauncher(const TaskRunnerRegistry& runners, StateStore& store, RunOptions options,
                    EndReporter report_end);
  ~ThreadRunLauncher() override;

  ThreadRunLauncher(const ThreadRunLauncher&) = delete;
  ThreadRunLauncher& operator=(const ThreadRunLauncher&) = delete;

  Result<std::unique_ptr<RunHandle>> Launch(const RunRequest& request,
                                            RunEndCallback on_end) override EXCLUDES(mu_);
  // The new runs among `requests` are admitted in one StateStore::AdmitRuns call.
  std::vector<Result<std::unique_ptr<RunHandle>>> LaunchBatch(
      std::span<const RunRequest> requests, std::vector<RunEndCallback> on_ends) override
      EXCLUDES(mu_);

 private:
  // The record of the new run `request` asks for, created in the store by admission; a refusal
  // or a store failure as an error.
  Result<RunRecord> Admit(const RunRequest& request);
  // The same for a run that continues: the record as reopened.
  Result<RunRecord> AdmitReopen(const RunRequest& request);
  // What Admit asks the store for.
  RunRecord NewRun(const RunRequest& request) const;
  // Joins the threads whose run has ended.
  void JoinFinished() EXCLUDES(mu_);
  // Starts the thread of `request`, admitted as `admitted`.
  Result<std::unique_ptr<RunHandle>> Start(const RunRequest& request, RunEndCallback on_end,
                                           std::shared_ptr<const RunRecord> admitted) EXCLUDES(mu_);

  // Threads whose run has ended, taken out of threads_ to be joined without mu_ held.
  std::vector<std::thread> TakeFinished() REQUIRES(mu_);

  const TaskRunnerRegistry& runners_;
  StateStore& store_;
  const RunOptions options_;
  const EndReporter report_end_;

  Mutex mu_;
  uint64_t next_thread_ GUARDED_BY(mu_) = 0;
  std::map<uint64_t, std::thread> threads_ GUARDED_BY(mu_);
  std::vector<uint64_t> finished_ GUARDED_BY(mu_);  // keys of threads_ that are done
};

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_THREAD_RUN_LAUNCHER_H_
