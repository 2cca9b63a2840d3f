#include "runtime/thread_run_launcher.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <algorithm>
#include <string>
#include <system_error>
#include <utility>

#include "runtime/thread_priority.h"
#include "runtime/thread_stack.h"

namespace petit::host {
namespace {

// What the handle and the run's thread share: the handle may outlive the run, or the reverse.
struct RunControl {
  RunCanceller canceller;
};

class ThreadRunHandle final : public RunHandle {
 public:
  explicit ThreadRunHandle(std::shared_ptr<RunControl> control) : control_(std::move(control)) {}
  void Cancel() override { control_->canceller.Cancel(); }

 private:
  const std::shared_ptr<RunControl> control_;
};

}  // namespace

ThreadRunLauncher::ThreadRunLauncher(const TaskRunnerRegistry& runners, StateStore& store,
                                     RunOptions options, EndReporter report_end)
    : ThreadRunLauncher(runners, store, std::move(options), std::move(report_end), SpareThreads{}) {
}

ThreadRunLauncher::ThreadRunLauncher(const TaskRunnerRegistry& runners, StateStore& store,
                                     RunOptions options, EndReporter report_end, SpareThreads spare)
    : runners_(runners),
      store_(store),
      options_(std::move(options)),
      report_end_(std::move(report_end)),
      spare_times_(spare),
      nice_(ThreadNiceness()),
      creator_([this] { CreatorLoop(); }) {}

ThreadRunLauncher::~ThreadRunLauncher() {
  {
    // Nothing waits in to_create_: a Start waits for its thread before it returns.
    MutexLock lock(mu_);
    creator_stopping_ = true;
  }
  creator_wake_.Signal();
  creator_.join();
  std::map<uint64_t, std::thread> threads;
  {
    MutexLock lock(mu_);
    // A thread runs the run it was handed before it sees stopping_ and exits.
    stopping_ = true;
    threads.swap(threads_);
    finished_.clear();
    for (SpareThread* spare : spare_) spare->woken.Signal();
  }
  for (auto& [key, thread] : threads) thread.join();
}

ThreadRunLauncher::ThreadCounts ThreadRunLauncher::thread_counts() const {
  MutexLock lock(mu_);
  return {.threads = threads_.size() - finished_.size(), .idle = spare_.size()};
}

bool ThreadRunLauncher::WaitForThreads(ThreadCounts counts, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(mu_);
  while (threads_.size() - finished_.size() != counts.threads || spare_.size() != counts.idle) {
    if (counts_changed_.WaitUntil(mu_, deadline)) {
      return threads_.size() - finished_.size() == counts.threads && spare_.size() == counts.idle;
    }
  }
  return true;
}

std::vector<std::thread> ThreadRunLauncher::TakeFinished() {
  std::vector<std::thread> done;
  for (uint64_t key : finished_) {
    auto it = threads_.find(key);
    if (it == threads_.end()) continue;
    done.push_back(std::move(it->second));
    threads_.erase(it);
  }
  finished_.clear();
  return done;
}

void ThreadRunLauncher::ThreadLoop(uint64_t key, std::function<void()> work) {
  RaiseThreadNiceness(nice_);
  SpareThread self(mu_);
  for (;;) {
    work();
    // Before waiting: what the run holds (its job, its callbacks) goes now, not at the next run.
    work = nullptr;
    TrimIfDue();
    MutexLock lock(mu_);
    if (!WaitAsSpare(self)) {
      // Its last act under mu_: once the destructor has taken threads_, nobody reads finished_.
      if (!stopping_) finished_.push_back(key);
      counts_changed_.SignalAll();
      return;
    }
    work = std::move(self.work);
    self.work = nullptr;
  }
}

bool ThreadRunLauncher::WaitAsSpare(SpareThread& self) {
  if (stopping_) return false;
  spare_.push_back(&self);
  counts_changed_.SignalAll();
  const auto idle_since = std::chrono::steady_clock::now();
  const auto release_at = idle_since + spare_times_.stack_release_delay;
  const auto exit_at = idle_since + spare_times_.lifetime;
  bool released = false;
  while (self.work == nullptr && !stopping_) {
    if (!released) {
      if (!self.woken.WaitUntil(mu_, std::min(release_at, exit_at))) continue;
      if (self.work != nullptr || stopping_) break;
      // Outside mu_: a madvise of megabytes takes a while. Start may hand this thread a run
      // meanwhile; the loop sees it before it waits again.
      mu_.Unlock();
      ReleaseUnusedStack();
      mu_.Lock();
      released = true;
    } else if (self.woken.WaitUntil(mu_, exit_at) && self.work == nullptr) {
      break;
    }
  }
  if (self.work != nullptr) return true;  // Start took it out of spare_
  spare_.erase(std::find(spare_.begin(), spare_.end(), &self));
  return false;
}

void ThreadRunLauncher::TrimIfDue() {
#ifdef __GLIBC__
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
  int64_t last_ns = last_trim_ns_.load(std::memory_order_relaxed);
  if (now_ns - last_ns < std::chrono::nanoseconds(kTrimInterval).count()) return;
  if (!last_trim_ns_.compare_exchange_strong(last_ns, now_ns, std::memory_order_relaxed)) return;
  malloc_trim(0);
#endif
}

RunRecord ThreadRunLauncher::NewRun(const RunRequest& request) const {
  const Clock& clock = options_.clock != nullptr ? *options_.clock : SystemClock::Instance();
  RunRecord run;
  run.id = request.run_id;
  run.job = request.job->id;
  run.status = RunStatus::kQueued;
  run.trigger = request.trigger;
  run.owner = options_.owner;
  run.created_us = clock.NowMicros();
  run.occurrence_us = request.occurrence_us;
  return run;
}

namespace {

// The record of an admitted run, or the refusal as kFailedPrecondition with the store's reason.
Result<RunRecord> Admitted(RunRecord run, const Result<RunAdmission>& admission) {
  if (!admission.ok()) return admission.status();
  if (!admission->admitted()) return FailedPrecondition(admission->Describe());
  return run;
}

}  // namespace

Result<RunRecord> ThreadRunLauncher::Admit(const RunRequest& request) {
  RunRecord run = NewRun(request);
  Result<RunAdmission> admission = store_.AdmitRun(run, request.job->max_active_runs);
  return Admitted(std::move(run), admission);
}

Result<RunRecord> ThreadRunLauncher::AdmitReopen(const RunRequest& request) {
  const Clock& clock = options_.clock != nullptr ? *options_.clock : SystemClock::Instance();
  Result<RunAdmission> admission = store_.AdmitReopen(
      request.run_id, options_.owner, clock.NowMicros(), request.job->max_active_runs);
  if (!admission.ok()) return admission.status();
  if (!admission->admitted()) return FailedPrecondition(admission->Describe());
  Result<std::optional<RunRecord>> stored = store_.GetRun(request.run_id);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) {
    return NotFound("run " + request.run_id.str() + " vanished from the store");
  }
  return std::move(**stored);
}

void ThreadRunLauncher::JoinFinished() {
  std::vector<std::thread> finished;
  {
    MutexLock lock(mu_);
    finished = TakeFinished();
  }
  // Their last act was to record themselves as exited: these joins return at once.
  for (std::thread& thread : finished) thread.join();
}

Result<std::unique_ptr<RunHandle>> ThreadRunLauncher::Launch(const RunRequest& request,
                                                             RunEndCallback on_end) {
  Result<RunRecord> run = request.admitted != nullptr ? Result<RunRecord>(*request.admitted)
                          : request.resume == nullptr ? Admit(request)
                                                      : AdmitReopen(request);
  if (!run.ok()) return run.status();
  Result<std::unique_ptr<RunHandle>> handle =
      Start(request, std::move(on_end), std::make_shared<const RunRecord>(std::move(run).value()));
  JoinFinished();
  return handle;
}

std::vector<Result<std::unique_ptr<RunHandle>>> ThreadRunLauncher::LaunchBatch(
    std::span<const RunRequest> requests, std::vector<RunEndCallback> on_ends) {
  return LaunchWithJobs(requests, std::move(on_ends), {}).handles;
}

RunLauncher::BatchLaunch ThreadRunLauncher::LaunchBatchSavingJobs(
    std::span<const RunRequest> requests, std::vector<RunEndCallback> on_ends,
    std::span<const JobRecord> jobs, StateStore& store) {
  if (&store != &store_) {
    return RunLauncher::LaunchBatchSavingJobs(requests, std::move(on_ends), jobs, store);
  }
  return LaunchWithJobs(requests, std::move(on_ends), jobs);
}

RunLauncher::BatchLaunch ThreadRunLauncher::LaunchWithJobs(std::span<const RunRequest> requests,
                                                           std::vector<RunEndCallback> on_ends,
                                                           std::span<const JobRecord> jobs) {
  // The new runs, admitted together; the others (retries, runs taken over) as Launch does.
  std::vector<RunToAdmit> fresh;
  std::vector<size_t> fresh_index(requests.size(), requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const RunRequest& request = requests[i];
    if (request.admitted != nullptr || request.resume != nullptr) continue;
    fresh_index[i] = fresh.size();
    fresh.push_back(RunToAdmit{NewRun(request), request.job->max_active_runs});
  }
  // Created by this commit: their creation time (NewRun) is stamped just before it. The commit
  // and the starts are not the scheduler's real-time work (runtime/thread_priority.h).
  ScopedNormalPriority normal_priority;
  AdmissionCommit commit;
  if (!jobs.empty()) {
    commit = store_.AdmitRunsAndSaveJobs(fresh, jobs);
  } else if (!fresh.empty()) {
    commit.admissions = store_.AdmitRuns(fresh);
  }
  const std::vector<Result<RunAdmission>>& admissions = commit.admissions;
  BatchLaunch launch{.jobs_saved = std::move(commit.jobs_saved)};
  std::vector<Result<std::unique_ptr<RunHandle>>>& handles = launch.handles;
  handles.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const RunRequest& request = requests[i];
    Result<RunRecord> run =
        request.admitted != nullptr ? Result<RunRecord>(*request.admitted)
        : request.resume != nullptr
            ? AdmitReopen(request)
            : Admitted(std::move(fresh[fresh_index[i]].run), admissions[fresh_index[i]]);
    if (!run.ok()) {
      handles.push_back(run.status());
      continue;
    }
    handles.push_back(Start(request, std::move(on_ends[i]),
                            std::make_shared<const RunRecord>(std::move(run).value())));
  }
  // After the runs have started: what is left of the threads that exited waits, the runs do not.
  JoinFinished();
  return launch;
}

std::string ThreadRunLauncher::CreateThread(std::function<void()> body) {
  const uint64_t key = next_thread_++;
  try {
    threads_.emplace(key, std::thread([this, key, work = std::move(body)]() mutable {
                       ThreadLoop(key, std::move(work));
                     }));
  } catch (const std::system_error& error) {
    // The run goes with the thread that could not start; nothing else holds it.
    return error.what();
  }
  return "";
}

void ThreadRunLauncher::CreatorLoop() {
  MutexLock lock(mu_);
  for (;;) {
    while (to_create_.empty() && !creator_stopping_) creator_wake_.Wait(mu_);
    if (to_create_.empty()) return;
    ThreadToCreate* wanted = to_create_.front();
    to_create_.pop_front();
    wanted->error = CreateThread(std::move(wanted->body));
    wanted->done = true;
    created_.SignalAll();
  }
}

Result<std::unique_ptr<RunHandle>> ThreadRunLauncher::Start(
    const RunRequest& request, RunEndCallback on_end, std::shared_ptr<const RunRecord> admitted) {
  auto control = std::make_shared<RunControl>();
  auto body = [this, control, request, admitted, on_end = std::move(on_end)] {
    RunOptions options = options_;
    options.trigger = request.trigger;
    options.resume = request.resume.get();
    options.occurrence_us = request.occurrence_us;
    options.admitted = admitted.get();
    options.canceller = &control->canceller;
    Result<RunRecord> result = ExecuteRun(*request.job, request.run_id, runners_, store_, options);
    if (report_end_) report_end_(request, result);
    on_end();
  };
  std::string thread_error;
  const int caller_nice = ThreadNiceness();
  {
    MutexLock lock(mu_);
    if (!spare_.empty()) {
      SpareThread* spare = spare_.back();
      spare_.pop_back();
      spare->work = std::move(body);
      spare->woken.Signal();
    } else if (caller_nice == nice_ || stopping_) {
      thread_error = CreateThread(std::move(body));
    } else {
      // Made by creator_, at the daemon's niceness, and waited for: the caller keeps its answer.
      ThreadToCreate wanted;
      wanted.body = std::move(body);
      to_create_.push_back(&wanted);
      creator_wake_.Signal();
      while (!wanted.done) created_.Wait(mu_);
      thread_error = std::move(wanted.error);
    }
  }
  if (thread_error.empty()) {
    return std::unique_ptr<RunHandle>(new ThreadRunHandle(std::move(control)));
  }
  // Not kUnavailable: the store answered (the run is admitted, and recorded failed below), so
  // the scheduler must not wait for it as for a store outage.
  Status failure = ResourceExhausted("cannot start a thread for run " + request.run_id.str() +
                                     " of job '" + request.job->id.str() + "': " + thread_error);
  // It holds a run slot of its job in the store until it ends.
  RunRecord never_started = *admitted;
  never_started.status = RunStatus::kFailed;
  never_started.ended_us =
      (options_.clock != nullptr ? *options_.clock : SystemClock::Instance()).NowMicros();
  never_started.error = failure.message();
  (void)store_.UpdateRun(never_started);
  return failure;
}

}  // namespace petit::host
