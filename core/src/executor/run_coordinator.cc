#include "executor/run_coordinator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "executor/attempt_control.h"
#include "executor/ready_queue.h"
#include "executor/run_inbox.h"
#include "executor/trigger_rules.h"
#include "executor/worker_pool.h"
#include "petit/core/template.h"

namespace petit::internal {
namespace {

constexpr Dag::Index kNoTask = std::numeric_limits<Dag::Index>::max();

// The attempt records one wake-up decided, in order. A record is built in place and its storage
// (strings, in particular the 36-character run id, past the short-string buffer) is reused by the
// records of later wake-ups: no record is moved or allocated per attempt once the buffer is warm.
class RecordBuffer {
 public:
  // A record at the end, to be filled in by the caller; its fields are reset but for `run` and
  // `task`, which the caller assigns. Invalidates references to the others.
  AttemptRecord& Add() {
    if (size_ == records_.size()) {
      ++size_;
      return records_.emplace_back();
    }
    AttemptRecord& record = records_[size_++];
    record.state = TaskState::kPending;
    record.queued_us = record.started_us = record.ended_us = 0;
    record.exit_code.reset();
    record.error.clear();
    record.outputs.clear();
    return record;
  }
  void PopBack() { --size_; }
  // Forgets every record, keeping their storage.
  void Clear() { size_ = 0; }
  // Moves the records out (a store outage keeps them in the journal).
  std::vector<AttemptRecord> TakeAll() {
    std::vector<AttemptRecord> taken(std::make_move_iterator(records_.begin()),
                                     std::make_move_iterator(records_.begin() + size_));
    size_ = 0;
    return taken;
  }
  std::span<const AttemptRecord> view() const { return {records_.data(), size_}; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  std::vector<AttemptRecord> records_;
  size_t size_ = 0;
};

class RunCoordinator;
// The run this thread drives, while it does: a resource grant made inside the driver's own
// AcquireAsync call comes back on this thread and is taken at once.
thread_local const RunCoordinator* t_driving = nullptr;
const ResourceRequirements kOneTaskSlot = [] {
  ResourceRequirements one;
  one.task_slots = 1;
  return one;
}();

// A seed for each run's jitter generator: splitmix64 over a sequence that starts at a value from
// std::random_device, read once per process. A std::random_device per run cost 3% of the CPU of
// 1,000 one-task runs a second (its set-up probes the CPU and the kernel each time).
uint64_t NextRunSeed() {
  static std::atomic<uint64_t> sequence{[] {
    std::random_device device;
    return (uint64_t{device()} << 32) | device();
  }()};
  uint64_t z = sequence.fetch_add(0x9E3779B97F4A7C15ULL, std::memory_order_relaxed);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

FailureKind FailureKindOf(AttemptOutcome outcome) {
  switch (outcome) {
    case AttemptOutcome::kTransientFailure:
      return FailureKind::kTransient;
    case AttemptOutcome::kTimedOut:
      return FailureKind::kTimeout;
    case AttemptOutcome::kCancelled:
      return FailureKind::kCancelled;
    default:
      return FailureKind::kError;
  }
}

// The state of one run: per-task states and pending-upstream counts, the ready heap, timers,
// resource waits, and what each wake-up decided but has not saved yet. See execute_run.h for the
// rules it keeps. Written only by the run's driver (run_inbox.h): the thread that called
// ExecuteRun (the coordinator) or a worker that just finished one of its attempts, one at a
// time; the fields set before the first attempt is handed out are read by workers too.
class RunCoordinator final : public WorkSink {
 public:
  RunCoordinator(const Job& job, const RunId& run_id, const TaskRunnerRegistry& runners,
                 StateStore& store, const RunOptions& options)
      : job_(job),
        dag_(job.dag),
        runners_(runners),
        store_(store),
        options_(options),
        clock_(options.clock != nullptr ? *options.clock : SystemClock::Instance()),
        context_(job.config),
        states_(dag_.size(), TaskState::kPending),
        unfinished_upstreams_(dag_.size()),
        triggers_(dag_.size(), TriggerRule::kAllSuccess),
        attempts_(dag_.size(), 0),
        runs_(dag_.size(), true),
        attempt_started_us_(dag_.size(), 0),
        attempt_queued_us_(dag_.size(), 0),
        in_flight_(dag_.size()),
        rng_(options.jitter_seed ? *options.jitter_seed : NextRunSeed()),
        inbox_(clock_),
        pool_(WorkerPool::Shared()) {
    run_.id = run_id;
    run_.job = job.id;
    run_.trigger = options.trigger;
    run_.owner = options.owner;
    if (options.on_idle) inbox_.SetIdleHook(options.on_idle);
    // A virtual-time harness judges a run idle by its coordinator's sleep, so there the
    // coordinator alone drives.
    inbox_.SetWorkersDrive(!options.on_idle);
  }

  ~RunCoordinator() {
    if (wakeup_) options_.canceller->RemoveWakeup(*wakeup_);
  }

  RunCoordinator(const RunCoordinator&) = delete;
  RunCoordinator& operator=(const RunCoordinator&) = delete;

  // On the worker that ran the attempt: posts its completion and, when nobody drives the run,
  // settles it and starts what it released on this thread (`next`).
  void Complete(WorkItem& item, AttemptResult result, int64_t started_us,
                std::vector<WorkItem>& next) override {
    std::vector<LogChunk> unwritten;
    Status storage_status = item.control->Finish(unwritten);
    const int64_t ended_us = clock_.NowMicros();
    // mail_ is touched only when this worker becomes the driver.
    const bool drive = inbox_.PostCompletion(
        Completion{item.index, item.request.attempt, std::move(result), std::move(storage_status),
                   std::move(unwritten), started_us, ended_us},
        mail_);
    // Otherwise the run may be gone already.
    if (drive) Drive(/*worker=*/true, next, ended_us, /*taken=*/true);
  }

  Result<RunRecord> Run() {
    if (options_.canceller != nullptr) {
      wakeup_ = options_.canceller->AddWakeup([this] { inbox_.PostCancelled(); });
    }
    if (options_.resume != nullptr) {
      PETIT_RETURN_IF_ERROR(Reopen());
    } else {
      PETIT_RETURN_IF_ERROR(Admit());
    }
    Emit(EventType::kJobStarted, nullptr, 0,
         options_.resume != nullptr ? "retry " + std::to_string(run_.retries) : options_.trigger);
    max_in_flight_ = Parallelism();

    // Judge reads a task's rule from here, not from its TaskSpec: in a DAG of 100,000 tasks each
    // TaskSpec read there was a cache miss (Settle was 15% of the CPU of layered 100x1000).
    // Only tasks with upstreams are judged.
    for (Dag::Index i = 0; i < dag_.size(); ++i) {
      if (!dag_.Upstream(i).empty()) triggers_[i] = dag_.task(i).trigger;
    }
    upstream_.Build(dag_, &Dag::Upstream);
    downstream_.Build(dag_, &Dag::Downstream);
    // The coordinator holds the driver role until its first Release.
    t_driving = this;
    if (options_.resume != nullptr) {
      StartResumed(options_.resume->plan);
    } else {
      for (Dag::Index i = 0; i < dag_.size(); ++i) {
        unfinished_upstreams_[i] = static_cast<uint32_t>(dag_.Upstream(i).size());
        if (unfinished_upstreams_[i] == 0) MakeReady(i);
      }
    }
    std::vector<WorkItem> handed_out;
    do {
      Drive(/*worker=*/false, handed_out);
      pool_.Submit(handed_out);
    } while (inbox_.AwaitTurn(spin_));
    // Over, and every attempt handed out came back or was abandoned: this thread alone is left.
    return Finish();
  }

 private:
  // Records the new run as running: admits it in the store, or starts the run the caller admitted.
  // A store that does not answer is retried with backoff (no task has started yet, so nothing
  // else waits) until the outage limit; an admission whose answer was lost may have landed, which
  // the retry then finds instead of counting the run against its own job's limit.
  Status Admit() {
    const int64_t now_us = clock_.NowMicros();
    if (options_.admitted != nullptr) {
      run_ = *options_.admitted;
      run_.status = RunStatus::kRunning;
      run_.started_us = now_us;
      return RetryWhileStoreIsOut([this](bool) { return store_.UpdateRun(run_); });
    }
    run_.created_us = run_.started_us = now_us;
    run_.status = RunStatus::kRunning;
    run_.occurrence_us = options_.occurrence_us;
    return RetryWhileStoreIsOut([this](bool retrying) -> Status {
      if (retrying) {
        Result<bool> landed = StoredRunIsOurs();
        if (!landed.ok()) return landed.status();
        if (*landed) return Status::Ok();
      }
      Result<RunAdmission> admission = store_.AdmitRun(run_, job_.max_active_runs);
      if (!admission.ok()) return admission.status();
      if (admission->admitted()) return Status::Ok();
      return FailedPrecondition("job '" + job_.id.str() +
                                "' not started: " + admission->Describe());
    });
  }

  // Drives the run (as its coordinator, or as a `worker` that posted a completion) until nothing
  // posted is left, then gives the role up; the attempts started meanwhile are moved into `out`.
  // `now_us`: the clock read just before, if the caller did (0 otherwise), for the first Step.
  // `taken`: the mail is in mail_ already (PostCompletion took it).
  void Drive(bool worker, std::vector<WorkItem>& out, int64_t now_us = 0, bool taken = false) {
    t_driving = this;
    for (;;) {
      if (!std::exchange(taken, false)) inbox_.Take(mail_);
      Step(std::exchange(now_us, 0));
      const size_t handed_out = outbox_.size();
      for (WorkItem& item : outbox_) out.push_back(std::move(item));
      outbox_.clear();
      // Only where workers never drive does the coordinator wait for their completions.
      if (!worker) spin_ = static_cast<bool>(options_.on_idle) && in_flight_count_ != 0;
      const int64_t next_timer_us = NextTimerUs();
      const bool over = Over();
      t_driving = nullptr;
      // After a true return, `this` may be gone (a worker's Release lets the run end).
      if (inbox_.Release(next_timer_us, over, handed_out, worker)) return;
      t_driving = this;
    }
  }

  bool Over() const { return finished_ == dag_.size() || !fatal_.ok(); }

  // One turn of the driver: what was posted, the timers that are due, then whatever can start.
  // `now_us`: see StepNow (0: read the clock when needed).
  void Step(int64_t now_us) {
    step_now_us_ = now_us;
    for (Grant& grant : mail_.grants) OnGranted(std::move(grant));
    for (Completion& completion : mail_.completions) OnCompletion(std::move(completion));
    mail_.grants.clear();
    mail_.completions.clear();
    FireTimers();
    for (;;) {
      if (Cancelled()) CancelEverything();
      Dispatch();
      Flush();
      if (Over()) break;
      // The store answered again: what became ready during the outage starts now.
      if (std::exchange(outage_ended_, false)) {
        step_now_us_ = 0;
        continue;
      }
      if (in_flight_count_ == 0 && ready_.empty() && retry_at_.empty() && granted_.empty() &&
          waiting_for_resources_.empty() && journal_.empty()) {
        fatal_ = Internal("run stalled with " + std::to_string(dag_.size() - finished_) +
                          " tasks unfinished and none runnable");
      }
      break;
    }
    if (!fatal_.ok() && !stopped_attempts_) {
      // What a refused write stopped cannot be recorded: its attempts are not left running.
      stopped_attempts_ = true;
      for (InFlight& flight : in_flight_) {
        if (flight.control) flight.control->Cancel(/*timed_out=*/false);
      }
    }
    step_now_us_ = 0;
  }

  // The time of this Step: read once, for the attempts it starts and the write that saves them
  // (a clock read is 30 to 40 ns here, and a Step reads it for every attempt it starts). A
  // driving worker passes the time its attempt ended, read just before.
  int64_t StepNow() {
    if (step_now_us_ == 0) step_now_us_ = clock_.NowMicros();
    return step_now_us_;
  }

  // Runs `write` (told whether an earlier try failed) until the store answers, with backoff,
  // reporting the outage to the store's health, until the outage limit or a cancel.
  Status RetryWhileStoreIsOut(const std::function<Status(bool retrying)>& write) {
    uint32_t failures = 0;
    int64_t since_us = 0;
    for (;;) {
      // Backoff counts from the start of the try, so a slow failure does not lengthen it.
      const int64_t now_us = clock_.NowMicros();
      Status written = write(failures != 0);
      if (written.ok()) {
        if (failures != 0 && options_.store_health != nullptr) {
          options_.store_health->ReportSuccess(now_us);
        }
        return written;
      }
      if (!IsStoreOutage(written)) return written;
      if (failures++ == 0) since_us = now_us;
      if (options_.store_health != nullptr) options_.store_health->ReportFailure(written, now_us);
      const int64_t limit_us = since_us + LimitUs();
      if (now_us >= limit_us || Cancelled()) {
        return Unavailable("run " + run_.id.str() + " of job " + job_.id.str() +
                           " was not started: " + (Cancelled() ? "cancelled while " : "") +
                           "the state store did not answer for " +
                           std::to_string((clock_.NowMicros() - since_us) / 1000) +
                           " ms (store_outage_limit " + std::to_string(LimitUs() / 1'000'000) +
                           " s): " + written.message());
      }
      RunInbox::Mail mail;
      inbox_.Wait(std::min(limit_us, now_us + options_.store_outage.BackoffUs(failures)), mail);
    }
  }

  // After a lost answer: whether the stored run of this id is this one (an error when another
  // run holds the id).
  Result<bool> StoredRunIsOurs() {
    Result<std::optional<RunRecord>> stored = store_.GetRun(run_.id);
    if (!stored.ok()) return stored.status();
    if (!stored->has_value()) return false;
    if ((*stored)->job == run_.job && (*stored)->owner == run_.owner &&
        (*stored)->created_us == run_.created_us) {
      return true;
    }
    return AlreadyExists("run " + run_.id.str() + " already exists");
  }

  int64_t LimitUs() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(options_.store_outage.limit)
        .count();
  }

  // Reopens the stored run through admission (atomically: only an ended run reopens, so two
  // retries never both start, and only while its job has a free run slot), unless the caller
  // did, and reads it back as the run this coordinator continues.
  Status Reopen() {
    if (options_.admitted != nullptr) {
      run_ = *options_.admitted;
      return Status::Ok();
    }
    Result<RunAdmission> admission =
        store_.AdmitReopen(run_.id, options_.owner, clock_.NowMicros(), job_.max_active_runs);
    if (!admission.ok()) return admission.status();
    if (!admission->admitted()) {
      return FailedPrecondition("run " + run_.id.str() + " of job '" + job_.id.str() +
                                "' not retried: " + admission->Describe());
    }
    Result<std::optional<RunRecord>> stored = store_.GetRun(run_.id);
    if (!stored.ok()) return stored.status();
    if (!stored->has_value()) return NotFound("run " + run_.id.str() + " vanished from the store");
    run_ = **stored;
    return Status::Ok();
  }

  // Sets a resumed run going: kept tasks are finished as they were (succeeded ones lend their
  // outputs to the context), planned ones wait only for planned upstreams and are judged by their
  // trigger rules against the kept ones.
  void StartResumed(const RetryPlan& plan) {
    std::vector<const AttemptRecord*> last(dag_.size(), nullptr);
    for (const AttemptRecord& attempt : options_.resume->attempts) {
      std::optional<Dag::Index> i = dag_.IndexOf(attempt.task);
      if (i && attempt.attempt == plan.last_attempt[*i]) last[*i] = &attempt;
    }
    for (Dag::Index i = 0; i < dag_.size(); ++i) {
      attempts_[i] = plan.last_attempt[i];
      runs_[i] = plan.tasks[i] == TaskPlan::kRun;
      if (runs_[i]) continue;
      const TaskState state =
          plan.tasks[i] == TaskPlan::kInterrupted ? TaskState::kInterrupted : plan.last_state[i];
      states_[i] = state;
      ++finished_;
      if (state == TaskState::kFailed || state == TaskState::kInterrupted) any_failed_ = true;
      if (state == TaskState::kSucceeded && last[i] != nullptr) {
        // Outputs that were merged once merge again: they passed the same checks then.
        (void)context_.MergeOutputs(dag_.task(i).id, last[i]->outputs);
      }
    }
    std::vector<Dag::Index> roots;
    for (Dag::Index i = 0; i < dag_.size(); ++i) {
      if (!runs_[i]) continue;
      uint32_t planned_upstreams = 0;
      for (Dag::Index up : dag_.Upstream(i)) planned_upstreams += runs_[up] ? 1 : 0;
      unfinished_upstreams_[i] = planned_upstreams;
      if (planned_upstreams == 0) roots.push_back(i);
    }
    for (Dag::Index i : roots) {
      if (dag_.Upstream(i).empty()) {
        MakeReady(i);
        continue;
      }
      std::string reason;
      const TaskState verdict = Judge(i, &reason);
      if (verdict == TaskState::kQueued) {
        MakeReady(i);
        continue;
      }
      RecordNeverRan(i, verdict, reason);
      Settle(i, verdict);
    }
  }

  // Builds the event only when somebody listens. `time_us` 0 means now.
  void Emit(EventType type, const TaskSpec* task, uint32_t attempt, std::string detail,
            int64_t time_us = 0) {
    if (options_.events == nullptr) return;
    options_.events->Emit([&] {
      return Event{.type = type,
                   .time_us = time_us != 0 ? time_us : clock_.NowMicros(),
                   .job = job_.id,
                   .run = run_.id,
                   .task = task != nullptr ? task->id : TaskId(),
                   .attempt = attempt,
                   .detail = std::move(detail),
                   .trigger = type == EventType::kJobStarted ? options_.trigger : std::string()};
    });
  }

  void MakeReady(Dag::Index i) {
    states_[i] = TaskState::kQueued;
    ready_.Push(i);
    Notify(Notice::Kind::kQueued, EventType::kTaskQueued, i, attempts_[i] + 1, "");
  }

  // Observers and event handlers hear of a transition only once it is saved: a notice waits for
  // the Flush() of its wake-up, and notices go out in the order they were decided (queued ones
  // too, so a downstream task's "queued" never overtakes the end that released it). A notice
  // about a record names it by its index in unsaved_.
  struct Notice {
    enum class Kind : uint8_t { kQueued, kStarted, kFinished, kRetrying };
    Kind kind;
    EventType event;
    Dag::Index task;
    uint32_t attempt;
    int64_t time_us;
    std::string detail;
    size_t record;
    int64_t retry_at_us;
  };

  void Notify(Notice::Kind kind, EventType event, Dag::Index i, uint32_t attempt,
              std::string_view detail, size_t record = 0, int64_t retry_at_us = 0) {
    if (!notifying_) return;
    notices_.push_back(Notice{kind, event, i, attempt, clock_.NowMicros(), std::string(detail),
                              record, retry_at_us});
  }

  void DeliverNotices(std::vector<Notice>& notices, std::span<const AttemptRecord> records) {
    for (Notice& notice : notices) {
      const TaskSpec& spec = dag_.task(notice.task);
      Emit(notice.event, &spec, notice.attempt, std::move(notice.detail), notice.time_us);
      if (options_.observer == nullptr) continue;
      switch (notice.kind) {
        case Notice::Kind::kQueued:
          break;
        case Notice::Kind::kStarted:
          options_.observer->OnTaskStarted(spec, notice.attempt);
          break;
        case Notice::Kind::kFinished:
          options_.observer->OnTaskFinished(spec, records[notice.record]);
          break;
        case Notice::Kind::kRetrying:
          options_.observer->OnTaskRetrying(spec, records[notice.record], notice.retry_at_us);
          break;
      }
    }
    notices.clear();
  }

  // Cancelled by its canceller, or given up after a store outage.
  bool Cancelled() const {
    return gave_up_ || (options_.canceller != nullptr && options_.canceller->cancelled());
  }
  // What a cancelled task ends as, and why.
  TaskState CancelledState() const {
    return gave_up_ ? TaskState::kInterrupted : TaskState::kCancelled;
  }
  std::string CancelReason() const { return gave_up_ ? give_up_reason_ : "run cancelled"; }

  uint32_t Parallelism() const {
    uint32_t limit = options_.max_parallel_tasks;
    if (limit == 0) limit = std::max(1u, std::thread::hardware_concurrency());
    if (job_.max_parallel_tasks != 0) limit = std::min(limit, job_.max_parallel_tasks);
    return std::max<uint32_t>(1, std::min<uint32_t>(limit, static_cast<uint32_t>(dag_.size())));
  }

  void Dispatch() {
    // No attempt starts while the store is down: its `running` record could not be saved first.
    if (outage_) return;
    while (fatal_.ok() && in_flight_count_ < max_in_flight_ && !granted_.empty()) {
      auto [i, lease] = std::move(granted_.front());
      granted_.pop_front();
      StartAttempt(i, std::move(lease));
    }
    while (fatal_.ok() && !ready_.empty()) {
      Dag::Index i = ready_.Top();
      if (NeedsResources(i)) {
        ready_.Pop();
        WaitForResources(i);
        continue;
      }
      // A task that needs only a worker asks for the host-wide task slot once it has one, so it
      // never holds a slot that another run could use while it waits for this run's workers.
      if (in_flight_count_ + granted_.size() + waiting_for_task_slot_ >= max_in_flight_) break;
      ready_.Pop();
      if (limits_tasks_) {
        WaitForResources(i);
      } else {
        StartAttempt(i, {});
      }
    }
  }

  // Whether the task names resources of its own (it then waits for them without a worker).
  bool NeedsResources(Dag::Index i) const { return !dag_.task(i).resources.empty(); }

  // What an attempt of task `i` holds while it runs: its resources, plus a slot of the host-wide
  // task limit when the host has one.
  const ResourceRequirements& Requirements(Dag::Index i, ResourceRequirements& storage) const {
    const ResourceRequirements& own = dag_.task(i).resources;
    if (!limits_tasks_) return own;
    if (own.empty()) return kOneTaskSlot;
    storage = own;
    storage.task_slots = 1;
    return storage;
  }

  // Records the attempt as queued, then asks the pools; the grant arrives through the inbox
  // (possibly at once, on this thread, or later on whichever thread releases the slots).
  void WaitForResources(Dag::Index i) {
    const TaskSpec& spec = dag_.task(i);
    uint32_t attempt = attempts_[i] + 1;
    int64_t now = clock_.NowMicros();
    attempt_queued_us_[i] = now;
    if (options_.resources == nullptr) {
      FailBeforeStart(
          i, attempt,
          "task '" + spec.id.str() + "' needs resources but this host has no resource pools");
      return;
    }
    // Taken back below when the slots are free at once: only a task that waits is queued.
    NewRecord(i, attempt, TaskState::kQueued).queued_us = now;
    ResourceRequirements storage;
    acquiring_ = i;
    Result<ResourceManager::Ticket> ticket = options_.resources->AcquireAsync(
        Requirements(i, storage), spec.priority, [this, i](ResourceManager::Lease lease) {
          // A grant made inside AcquireAsync below comes straight back on this thread.
          if (t_driving == this && acquiring_ == i) {
            inline_grant_ = std::move(lease);
            return;
          }
          inbox_.PostGrant({i, std::move(lease)});
        });
    acquiring_ = kNoTask;
    if (!ticket.ok()) {
      unsaved_.PopBack();
      FailBeforeStart(i, attempt, "task '" + spec.id.str() + "': " + ticket.status().message());
      return;
    }
    if (inline_grant_) {
      unsaved_.PopBack();
      attempt_queued_us_[i] = 0;
      ResourceManager::Lease lease = std::move(*inline_grant_);
      inline_grant_.reset();
      if (in_flight_count_ < max_in_flight_) {
        StartAttempt(i, std::move(lease));
      } else {
        granted_.emplace_back(i, std::move(lease));
      }
      return;
    }
    waiting_for_resources_.emplace(i, *ticket);
    if (!NeedsResources(i)) ++waiting_for_task_slot_;
  }

  // Ends a task whose attempt cannot even start (bad template, impossible resources): failed,
  // never retried, recorded like any attempt.
  void FailBeforeStart(Dag::Index i, uint32_t attempt, const std::string& error) {
    attempts_[i] = attempt;
    int64_t now = clock_.NowMicros();
    AttemptRecord& failed = NewRecord(i, attempt, TaskState::kFailed);
    failed.queued_us = attempt_queued_us_[i] != 0 ? attempt_queued_us_[i] : now;
    failed.ended_us = now;
    failed.error = error;
    const size_t record = unsaved_.size() - 1;
    Notify(Notice::Kind::kFinished, EventType::kTaskFailed, i, attempt, error, record);
    Settle(i, TaskState::kFailed);
  }

  void StartAttempt(Dag::Index i, ResourceManager::Lease lease) {
    const TaskSpec& spec = dag_.task(i);
    uint32_t attempt = attempts_[i] + 1;
    std::string params = spec.params_json;
    if (HasTemplates(params)) {
      TemplateScope scope{&context_.outputs(), &context_.config(), run_.id.str(),
                          job_.id.str(),       spec.id.str(),      attempt};
      Result<std::string> expanded = ExpandTemplatesInJson(params, scope);
      if (!expanded.ok()) {
        FailBeforeStart(i, attempt, expanded.status().message());
        return;
      }
      params = std::move(expanded).value();
    }
    attempts_[i] = attempt;
    const int64_t now = StepNow();
    states_[i] = TaskState::kRunning;
    attempt_started_us_[i] = now;
    int64_t queued = attempt_queued_us_[i] != 0 ? attempt_queued_us_[i] : now;
    attempt_queued_us_[i] = 0;

    // Durable before the effect: the attempt reaches a worker only after Flush() saved this, so
    // after a crash recovery finds it and knows it may have started.
    AttemptRecord& running = NewRecord(i, attempt, TaskState::kRunning);
    running.queued_us = queued;
    running.started_us = now;
    Notify(Notice::Kind::kStarted, EventType::kTaskStarted, i, attempt, "");

    auto control = std::make_shared<EngineAttemptControl>(
        store_, run_.id, spec.id, attempt,
        spec.output_cap_bytes.value_or(options_.output_cap_bytes));
    // The timeout is armed when the attempt reaches a worker (ArmDeadlines).
    in_flight_[i] = {control, kNoDeadline, std::move(lease)};
    ++in_flight_count_;

    WorkItem item{i,
                  Runner(spec.type),
                  AttemptRequest{job_.id, run_.id, spec.id, spec.type, attempt, std::move(params),
                                 spec.timeout.value_or(std::chrono::milliseconds(0)),
                                 context_.OutputsPtr(), context_.ConfigPtr()},
                  std::move(control),
                  this,
                  &clock_};
    unstarted_.push_back(std::move(item));
  }

  // runners_.Find, remembered for the type asked last: the tasks of a run mostly share a few
  // types, and a string compare costs less than the registry's hash lookup.
  TaskRunner* Runner(const std::string& type) {
    if (runner_ == nullptr || type != runner_type_) {
      runner_ = runners_.Find(type);
      runner_type_ = type;
    }
    return runner_;
  }

  // Makes what this wake-up decided durable in one transaction, then hands the attempts it
  // started to the workers: every transition is saved before its effect, and dependants of a
  // task start only after its end is saved.
  //
  // A store that does not answer (IsStoreOutage) does not stop the run: what each wake-up
  // decided is kept in journal_, in order, and written once the store answers (retried with
  // backoff from the coordinator's timers); until then its attempts are not handed to workers
  // and Dispatch() starts nothing. Past the outage limit the run gives up (GiveUp()).
  void Flush() {
    if (journal_.empty() && !outage_) {
      if (finished_ == dag_.size() && fatal_.ok()) {
        // The run is over and nothing waits for these records: Finish writes them with the run's
        // end, one transaction instead of two (a one-task run makes three writes, not four).
        JournalPending();
        return;
      }
      const int64_t tried_us = StepNow();
      Status saved = Write(unwritten_logs_, unsaved_.view(), nullptr);
      if (saved.ok()) {
        DeliverNotices(notices_, unsaved_.view());
        unsaved_.Clear();
        unwritten_logs_.clear();
        ArmDeadlines(unstarted_);
        HandOut(unstarted_);
        return;
      }
      if (!OnWriteFailed(saved, tried_us)) return;
    }
    JournalPending();
    WriteJournal();
    // Past the limit WriteJournal gave up (GiveUp), settling the attempts the outage held back:
    // their records follow the batch that holds their `running` records, or they would be lost
    // and those attempts left running in the store.
    JournalPending();
  }

  // What this wake-up decided and did not write, as the journal's next batch.
  void JournalPending() {
    if (unsaved_.empty() && notices_.empty() && unstarted_.empty() && unwritten_logs_.empty()) {
      return;
    }
    Batch& batch = journal_.emplace_back();
    batch.logs.swap(unwritten_logs_);
    batch.records = unsaved_.TakeAll();
    batch.notices.swap(notices_);
    batch.unstarted.swap(unstarted_);
  }

  // Writes one wake-up's decisions: captured output an outage held back, then the attempts, then
  // the run's end (only the last batch has one).
  Status Write(const std::vector<LogChunk>& logs, std::span<const AttemptRecord> records,
               const RunRecord* run) {
    for (const LogChunk& chunk : logs) {
      Status appended = StoreWrite{chunk}.Apply(store_);
      if (!appended.ok()) return appended.WithContext("storing output");
    }
    if (!records.empty() && run != nullptr) {
      Status saved = store_.SaveAttemptsAndUpdateRun(records, *run);
      if (!saved.ok()) return saved.WithContext("recording task states and the end of the run");
      return Status::Ok();
    }
    if (!records.empty()) {
      Status saved = store_.SaveAttempts(records);
      if (!saved.ok()) return saved.WithContext("recording task states");
    }
    if (run != nullptr) {
      Status updated = store_.UpdateRun(*run);
      if (!updated.ok()) return updated.WithContext("recording the end of the run");
    }
    return Status::Ok();
  }

  // Writes the journal, oldest first, as far as the store lets it (and no sooner than the
  // backoff allows while it is down).
  void WriteJournal() {
    while (!journal_.empty() && fatal_.ok()) {
      const int64_t tried_us = clock_.NowMicros();
      if (outage_ && tried_us < retry_write_us_) break;
      Batch& batch = journal_.front();
      Status saved = Write(batch.logs, batch.records, batch.run ? &*batch.run : nullptr);
      if (!saved.ok()) {
        OnWriteFailed(saved, tried_us);
        break;
      }
      OnWriteSucceeded();
      DeliverNotices(batch.notices, batch.records);
      ArmDeadlines(batch.unstarted);
      HandOut(batch.unstarted);
      journal_.pop_front();
    }
    ReportPending();
  }

  // Attempts whose `running` record is saved go to the workers once the driver gives its role up.
  void HandOut(std::vector<WorkItem>& items) {
    for (WorkItem& item : items) outbox_.push_back(std::move(item));
    items.clear();
  }

  // Returns whether the run goes on: a refusal (not an outage) is fatal, as before; an outage is
  // waited for, up to the limit. `tried_us`: when the failed write began; the backoff counts from
  // it, and so does the limit.
  bool OnWriteFailed(const Status& failed, int64_t tried_us) {
    if (!IsStoreOutage(failed)) {
      fatal_ = failed;
      journal_.clear();  // never saved, so never announced nor started
      unsaved_.Clear();
      unstarted_.clear();
      notices_.clear();
      unwritten_logs_.clear();
      return false;
    }
    last_write_error_ = failed;
    if (!outage_) {
      outage_ = true;
      outage_since_us_ = tried_us;
      write_failures_ = 0;
    }
    if (options_.store_health != nullptr) options_.store_health->ReportFailure(failed, tried_us);
    const int64_t limit_us = outage_since_us_ + LimitUs();
    retry_write_us_ =
        std::min(limit_us, tried_us + options_.store_outage.BackoffUs(++write_failures_));
    if (tried_us >= limit_us && !gave_up_) GiveUp(clock_.NowMicros());
    return true;
  }

  void OnWriteSucceeded() {
    if (!outage_) return;
    outage_ = false;
    outage_ended_ = true;
    write_failures_ = 0;
    retry_write_us_ = kNoDeadline;
    if (options_.store_health != nullptr) {
      options_.store_health->ReportSuccess(clock_.NowMicros());
    }
  }

  // Tells StoreHealth how many transitions wait in the journal.
  void ReportPending() {
    if (options_.store_health == nullptr || (reported_pending_ == 0 && journal_.empty())) return;
    int64_t pending = 0;
    for (const Batch& batch : journal_) {
      pending +=
          static_cast<int64_t>(batch.logs.size() + batch.records.size()) + (batch.run ? 1 : 0);
    }
    options_.store_health->AddPending(pending - reported_pending_);
    reported_pending_ = pending;
  }

  // An attempt's timeout counts from when it reaches a worker, not from when it was decided: an
  // outage may hold it back, and a deadline must not cancel an attempt that never started.
  void ArmDeadlines(const std::vector<WorkItem>& items) {
    int64_t now_us = 0;
    for (const WorkItem& item : items) {
      const TaskSpec& spec = dag_.task(item.index);
      if (!spec.timeout || spec.timeout->count() <= 0) continue;
      if (now_us == 0) now_us = clock_.NowMicros();
      InFlight& flight = in_flight_[item.index];
      flight.deadline_us = now_us + spec.timeout->count() * 1000;
      deadlines_.emplace(flight.deadline_us, item.index);
    }
  }

  void EraseDeadline(Dag::Index i, int64_t deadline_us) {
    auto [first, last] = deadlines_.equal_range(deadline_us);
    for (auto it = first; it != last; ++it) {
      if (it->second == i) {
        deadlines_.erase(it);
        return;
      }
    }
  }

  // The store stayed down past the limit: the run's tasks are cancelled and recorded
  // kInterrupted, attempts held back by the outage never start, and the run ends kInterrupted.
  // Its records stay in the journal, written if the store answers while the cancelled attempts
  // finish, or handed to the write-behind by Finish().
  void GiveUp(int64_t now_us) {
    gave_up_ = true;
    give_up_reason_ = "the state store did not answer for " +
                      std::to_string((now_us - outage_since_us_) / 1'000'000) +
                      " s (store_outage_limit " + std::to_string(LimitUs() / 1'000'000) +
                      " s): " + last_write_error_.message();
    std::vector<WorkItem> held_back = std::move(unstarted_);
    unstarted_.clear();
    for (Batch& batch : journal_) {
      for (WorkItem& item : batch.unstarted) held_back.push_back(std::move(item));
      batch.unstarted.clear();
    }
    CancelEverything();
    for (WorkItem& item : held_back) {
      OnCompletion(
          Completion{item.index,
                     item.request.attempt,
                     AttemptResult{AttemptOutcome::kCancelled, std::nullopt, "never started"},
                     Status::Ok(),
                     {},
                     0,
                     now_us});
    }
  }

  // Adds the record of attempt `attempt` of task `i` of this run in `state` to unsaved_; the
  // caller sets the times and the rest by name (before anything else is added).
  AttemptRecord& NewRecord(Dag::Index i, uint32_t attempt, TaskState state) {
    AttemptRecord& record = unsaved_.Add();
    record.run = run_.id;
    record.task = dag_.task(i).id;
    record.attempt = attempt;
    record.state = state;
    return record;
  }

  void OnGranted(Grant grant) {
    auto [i, lease] = std::move(grant);
    waiting_for_resources_.erase(i);
    if (!NeedsResources(i)) --waiting_for_task_slot_;
    if (Cancelled()) {
      lease.Release();
      RecordNeverRan(i, CancelledState(), CancelReason());
      Settle(i, CancelledState());
      return;
    }
    granted_.emplace_back(i, std::move(lease));
  }

  int64_t NextTimerUs() const {
    int64_t next = retry_at_.empty() ? kNoDeadline : retry_at_.begin()->first;
    if (!deadlines_.empty()) next = std::min(next, deadlines_.begin()->first);
    if (!abandon_at_.empty()) next = std::min(next, abandon_at_.begin()->first);
    if (outage_ && !journal_.empty()) next = std::min(next, retry_write_us_);
    return next;
  }

  void FireTimers() {
    if (retry_at_.empty() && deadlines_.empty() && abandon_at_.empty()) return;
    int64_t now = clock_.NowMicros();
    while (!retry_at_.empty() && retry_at_.begin()->first <= now) {
      Dag::Index i = retry_at_.begin()->second;
      retry_at_.erase(retry_at_.begin());
      MakeReady(i);
    }
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      const auto [deadline_us, due] = *deadlines_.begin();
      InFlight& flight = in_flight_[due];
      deadlines_.erase(deadlines_.begin());
      flight.deadline_us = kNoDeadline;
      if (flight.control) {
        flight.control->Cancel(/*timed_out=*/true);
        StartCancelGrace(due, deadline_us);
      }
    }
    while (!abandon_at_.empty() && abandon_at_.begin()->first <= now) {
      auto [i, attempt] = abandon_at_.begin()->second;
      abandon_at_.erase(abandon_at_.begin());
      AbandonAttempt(i, attempt);
    }
  }

  // A cancelled attempt whose runner does not promise to stop gets options_.cancel_grace from
  // `cancelled_us` to return; then AbandonAttempt gives up on it.
  void StartCancelGrace(Dag::Index i, int64_t cancelled_us) {
    if (options_.cancel_grace.count() <= 0) return;
    const TaskRunner* runner = runners_.Find(dag_.task(i).type);
    if (runner == nullptr || runner->stops_on_cancel()) return;
    abandon_at_.emplace(cancelled_us + options_.cancel_grace.count() * 1000,
                        std::make_pair(i, attempts_[i]));
  }

  // Fails an attempt that outlived its cancel by the grace, as if its runner had returned, and
  // leaves its worker thread behind (the pool starts another).
  void AbandonAttempt(Dag::Index i, uint32_t attempt) {
    InFlight& flight = in_flight_[i];
    if (!flight.control || attempts_[i] != attempt || !pool_.Abandon(this, i, attempt)) return;
    inbox_.Forget();
    const std::string error = "task type '" + dag_.task(i).type + "' ignored cancel for " +
                              std::to_string(options_.cancel_grace.count()) + " ms; " +
                              std::string(kAbandonedWorkerNote);
    flight.control->Log(LogLevel::kWarn, error);
    flight.control->Abandon();
    OnCompletion(Completion{i, attempt, AttemptResult{AttemptOutcome::kFailed, std::nullopt, error},
                            Status::Ok(), flight.control->TakeUnwritten(), attempt_started_us_[i],
                            clock_.NowMicros()});
  }

  void OnCompletion(Completion done) {
    const TaskSpec& spec = dag_.task(done.index);
    InFlight flight = std::move(in_flight_[done.index]);
    in_flight_[done.index] = {};
    --in_flight_count_;
    if (flight.deadline_us != kNoDeadline) EraseDeadline(done.index, flight.deadline_us);
    for (LogChunk& chunk : done.unwritten_logs) unwritten_logs_.push_back(std::move(chunk));
    // The slots go back now, before any retry delay, so waiters need not wait for this task.
    flight.lease.Release();

    AttemptResult& result = done.result;
    if (result.outcome != AttemptOutcome::kSucceeded && flight.control->timed_out()) {
      result.outcome = AttemptOutcome::kTimedOut;
      if (result.error.empty() || result.error.find("timed out") == std::string::npos) {
        result.error = "timed out after " + std::to_string(spec.timeout->count()) + " ms" +
                       (result.error.empty() ? "" : ": " + result.error);
      }
    }
    if (result.outcome != AttemptOutcome::kSucceeded && flight.control->cancelled() &&
        !flight.control->timed_out()) {
      result.outcome = AttemptOutcome::kCancelled;
    }
    if (!done.storage_status.ok() && result.outcome == AttemptOutcome::kSucceeded) {
      result.outcome = AttemptOutcome::kFailed;
      result.error = done.storage_status.message();
    }

    // Its index in unsaved_, for the notice.
    const size_t saved = unsaved_.size();
    AttemptRecord& record = NewRecord(done.index, done.attempt, TaskState::kFailed);
    record.queued_us = attempt_started_us_[done.index];
    record.started_us = done.started_us;
    record.ended_us = done.ended_us;
    record.exit_code = result.exit_code;
    record.error = result.error;
    record.outputs = flight.control->TakeOutputs();
    if (result.outcome == AttemptOutcome::kSucceeded) {
      Status merged = context_.MergeOutputs(spec.id, record.outputs);
      if (merged.ok()) {
        record.state = TaskState::kSucceeded;
      } else {
        record.error = merged.message();
      }
    } else if (result.outcome == AttemptOutcome::kCancelled) {
      record.state = CancelledState();
      if (gave_up_) {
        record.error =
            record.error.empty() ? give_up_reason_ : give_up_reason_ + "; " + record.error;
      } else if (record.error.empty()) {
        record.error = "cancelled";
      }
    }

    bool retry = false;
    if (record.state == TaskState::kFailed && result.outcome != AttemptOutcome::kInvalidParams &&
        !Cancelled()) {
      retry = spec.retry.ShouldRetry(done.attempt, FailureKindOf(result.outcome), result.exit_code);
    }
    if (retry) {
      double unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
      int64_t delay_us = spec.retry.JitteredDelayAfter(done.attempt, unit).count() * 1000;
      int64_t retry_at = clock_.NowMicros() + delay_us;
      states_[done.index] = TaskState::kPending;
      retry_at_.emplace(retry_at, done.index);
      Notify(Notice::Kind::kRetrying, EventType::kTaskRetrying, done.index, done.attempt,
             record.error, saved, retry_at);
      return;
    }
    const EventType event =
        record.state == TaskState::kSucceeded ? EventType::kTaskSucceeded
        : record.state == TaskState::kCancelled || record.state == TaskState::kInterrupted
            ? EventType::kTaskCancelled
            : EventType::kTaskFailed;
    const TaskState final_state = record.state;
    Notify(Notice::Kind::kFinished, event, done.index, done.attempt, record.error, saved);
    Settle(done.index, final_state);
  }

  // Records a task's final state and judges the downstream tasks that no longer wait for anyone.
  // Iterative, so a chain of any length cannot overflow the stack.
  void Settle(Dag::Index first, TaskState state) {
    std::vector<std::pair<Dag::Index, TaskState>> pending{{first, state}};
    while (!pending.empty()) {
      auto [i, final_state] = pending.back();
      pending.pop_back();
      states_[i] = final_state;
      ++finished_;
      if (final_state == TaskState::kFailed || final_state == TaskState::kInterrupted) {
        any_failed_ = true;
      }
      for (Dag::Index down : downstream_.Of(i)) {
        if (!runs_[down]) continue;  // kept by a resumed run's plan
        if (--unfinished_upstreams_[down] != 0) continue;
        std::string reason;
        TaskState verdict = Judge(down, &reason);
        if (verdict == TaskState::kQueued) {
          MakeReady(down);
          continue;
        }
        RecordNeverRan(down, verdict, reason);
        pending.emplace_back(down, verdict);
      }
    }
  }

  // kQueued when the task should run, otherwise the state it ends in without running.
  TaskState Judge(Dag::Index i, std::string* reason) const {
    if (Cancelled()) {
      *reason = CancelReason();
      return CancelledState();
    }
    const std::span<const Dag::Index> upstream = upstream_.Of(i);
    UpstreamSummary summary;
    for (Dag::Index up : upstream) summary.Add(states_[up]);
    const TriggerRule rule = triggers_[i];
    const TriggerDecision decision = DecideTrigger(rule, summary);
    if (decision.verdict == TriggerVerdict::kRun) return TaskState::kQueued;
    if (decision.cause) {
      const Dag::Index cause = upstream[*decision.cause];
      *reason = TriggerReason(rule, decision, dag_.task(cause).id.str(), states_[cause]);
    } else {
      *reason = TriggerReason(rule, decision, {}, TaskState::kPending);
    }
    return decision.verdict == TriggerVerdict::kSkip ? TaskState::kSkipped
                                                     : TaskState::kUpstreamFailed;
  }

  // Attempt 0 in a new run; in a resumed run, a task that ran before gets the next attempt
  // number, so that its latest attempt always says its current state.
  void RecordNeverRan(Dag::Index i, TaskState state, const std::string& reason) {
    int64_t now = clock_.NowMicros();
    if (options_.resume != nullptr && attempts_[i] != 0) ++attempts_[i];
    const size_t record = unsaved_.size();
    AttemptRecord& never_ran = NewRecord(i, attempts_[i], state);
    never_ran.ended_us = now;
    never_ran.error = reason;
    const bool cancelled = state == TaskState::kCancelled || state == TaskState::kInterrupted;
    Notify(Notice::Kind::kFinished, cancelled ? EventType::kTaskCancelled : EventType::kTaskSkipped,
           i, attempts_[i], reason, record);
  }

  // Stops everything once: running attempts are asked to stop, waiting tasks end as cancelled.
  void CancelEverything() {
    if (cancel_handled_) return;
    cancel_handled_ = true;
    for (Dag::Index i = 0; i < in_flight_.size(); ++i) {
      if (!in_flight_[i].control) continue;
      in_flight_[i].control->Cancel(/*timed_out=*/false);
      StartCancelGrace(i, clock_.NowMicros());
    }
    std::vector<Dag::Index> waiting;
    while (!ready_.empty()) {
      waiting.push_back(ready_.Top());
      ready_.Pop();
    }
    for (auto& [at, i] : retry_at_) waiting.push_back(i);
    retry_at_.clear();
    for (auto& [i, lease] : granted_) waiting.push_back(i);
    granted_.clear();  // the leases go back to the pools here
    for (auto it = waiting_for_resources_.begin(); it != waiting_for_resources_.end();) {
      // A waiter whose grant is already on its way ends in OnGranted instead.
      if (options_.resources->CancelWait(it->second)) {
        if (!NeedsResources(it->first)) --waiting_for_task_slot_;
        waiting.push_back(it->first);
        it = waiting_for_resources_.erase(it);
      } else {
        ++it;
      }
    }
    for (Dag::Index i : waiting) {
      RecordNeverRan(i, CancelledState(), CancelReason());
      Settle(i, CancelledState());
    }
  }

  // Records the run's end behind everything else the run decided; waits for a store that does
  // not answer up to the outage limit, then hands what is unwritten to the write-behind.
  Result<RunRecord> Finish() {
    if (!fatal_.ok()) {
      run_.status = RunStatus::kFailed;
      run_.error = fatal_.message();
    } else if (gave_up_) {
      run_.status = RunStatus::kInterrupted;
      run_.error = give_up_reason_ + "; its tasks were cancelled";
    } else if (Cancelled()) {
      run_.status = RunStatus::kCancelled;
      run_.error = "cancelled";
    } else {
      run_.status = any_failed_ ? RunStatus::kFailed : RunStatus::kSucceeded;
    }
    run_.ended_us = clock_.NowMicros();
    if (!fatal_.ok()) {
      // A refused write already stopped the run: the end is tried once, as it always was.
      (void)store_.UpdateRun(run_);
      Emit(EventType::kJobCompleted, nullptr, 0, std::string(RunStatusName(run_.status)));
      return fatal_;
    }
    JournalPending();  // nothing, unless the last wake-up gave up after its Flush
    // The last wake-up's records (Flush left them) and the end go in one write; after an outage
    // the end stays a batch of its own, behind everything held back.
    const bool join_last = !outage_ && journal_.size() == 1 && !journal_.back().run &&
                           journal_.back().unstarted.empty();
    if (!join_last) journal_.emplace_back();
    journal_.back().run = run_;
    WriteJournal();
    // Past the limit (OnWriteFailed gave up, now or while the tasks ran) it waits no longer, nor
    // once cancelled (a host stopping must not wait for its store).
    while (!journal_.empty() && fatal_.ok() && !Cancelled()) {
      RunInbox::Mail mail;
      inbox_.Wait(retry_write_us_, mail);
      WriteJournal();
    }
    Emit(EventType::kJobCompleted, nullptr, 0, std::string(RunStatusName(run_.status)));
    if (!fatal_.ok()) return fatal_;
    if (journal_.empty()) return run_;
    HandOver();
    return Unavailable(
        "run " + run_.id.str() + " of job " + job_.id.str() + " ended " +
        std::string(RunStatusName(run_.status)) +
        " but is not recorded yet: " + (run_.error.empty() ? give_up_reason_ : run_.error) +
        (options_.write_behind != nullptr ? "; its records are written when the store answers"
                                          : "; the next start's recovery repairs it"));
  }

  // Gives what the journal still holds to the write-behind, in order.
  void HandOver() {
    std::vector<StoreWrite> writes;
    for (Batch& batch : journal_) {
      for (LogChunk& chunk : batch.logs) writes.push_back(StoreWrite{std::move(chunk)});
      if (!batch.records.empty()) writes.push_back(StoreWrite{std::move(batch.records)});
      if (batch.run) writes.push_back(StoreWrite{std::move(*batch.run)});
    }
    journal_.clear();
    ReportPending();
    if (options_.write_behind != nullptr) options_.write_behind->Submit(run_.id, std::move(writes));
  }

  struct InFlight {
    std::shared_ptr<EngineAttemptControl> control;  // null when the task is not running
    int64_t deadline_us = kNoDeadline;
    ResourceManager::Lease lease;  // the slots the attempt holds, if any
  };

  const Job& job_;
  const Dag& dag_;
  const TaskRunnerRegistry& runners_;
  StateStore& store_;
  const RunOptions& options_;
  Clock& clock_;
  RunRecord run_;

  // Coordinator-thread state.
  RunContext context_;
  std::vector<TaskState> states_;
  std::vector<uint32_t> unfinished_upstreams_;
  std::vector<TriggerRule> triggers_;  // of the tasks with upstreams, read by Judge
  // The DAG's edges, each direction in two flat arrays, built when the run starts: Settle and
  // Judge walk a list for every task, and the Dag's vector per task cost two cache misses a list
  // (its header, then its elements) with 100,000 tasks.
  struct Adjacency {
    std::vector<uint32_t> offsets;  // task i's list is [offsets[i], offsets[i + 1])
    std::vector<Dag::Index> tasks;

    void Build(const Dag& dag, const std::vector<Dag::Index>& (Dag::*list)(Dag::Index) const) {
      offsets.assign(dag.size() + 1, 0);
      size_t edges = 0;
      for (Dag::Index i = 0; i < dag.size(); ++i) edges += (dag.*list)(i).size();
      tasks.reserve(edges);
      for (Dag::Index i = 0; i < dag.size(); ++i) {
        const std::vector<Dag::Index>& of = (dag.*list)(i);
        tasks.insert(tasks.end(), of.begin(), of.end());
        offsets[i + 1] = static_cast<uint32_t>(tasks.size());
      }
    }
    std::span<const Dag::Index> Of(Dag::Index i) const {
      return {tasks.data() + offsets[i], offsets[i + 1] - offsets[i]};
    }
  };
  Adjacency upstream_;
  Adjacency downstream_;
  std::vector<uint32_t> attempts_;
  // Whether each task takes part in this run: all of them in a new run, the plan's in a resumed
  // one (the others keep their stored state).
  std::vector<bool> runs_;
  std::vector<int64_t> attempt_started_us_;
  std::vector<int64_t> attempt_queued_us_;  // when the waiting attempt was queued; 0 = not waiting
  std::multimap<int64_t, Dag::Index> deadlines_;  // timeouts of running attempts
  std::map<Dag::Index, ResourceManager::Ticket> waiting_for_resources_;
  // Of those, the tasks that wait only for the host-wide task slot (they count against this
  // run's workers, see Dispatch()).
  size_t waiting_for_task_slot_ = 0;
  const bool limits_tasks_ = options_.resources != nullptr && options_.resources->limits_tasks();
  Dag::Index acquiring_ = kNoTask;  // the task whose AcquireAsync call is under way
  std::optional<ResourceManager::Lease> inline_grant_;  // what that call granted at once
  std::deque<Grant> granted_;                           // holding their slots, waiting for a worker
  std::vector<InFlight> in_flight_;
  ReadyQueue ready_{dag_};
  RecordBuffer unsaved_;                  // decided this wake-up, saved by Flush()
  std::vector<LogChunk> unwritten_logs_;  // captured output an outage held back, saved likewise
  std::vector<Notice> notices_;           // told by Flush() once unsaved_ is saved
  const bool notifying_ = options_.events != nullptr || options_.observer != nullptr;
  std::vector<WorkItem> unstarted_;  // started this wake-up, handed out by Flush()
  std::vector<WorkItem> outbox_;     // saved as running, for the workers once the drive ends
  RunInbox::Mail mail_;              // the driver's, reused
  bool spin_ = false;                // whether the coordinator spins before it sleeps
  int64_t step_now_us_ = 0;          // StepNow's, during a Step; 0 = not read yet
  std::string runner_type_;          // Runner's last type, and its runner
  TaskRunner* runner_ = nullptr;
  bool stopped_attempts_ = false;  // a fatal error cancelled the attempts in flight
  std::multimap<int64_t, Dag::Index> retry_at_;
  // When to give up on a cancelled attempt: (task, attempt) by time (StartCancelGrace).
  std::multimap<int64_t, std::pair<Dag::Index, uint32_t>> abandon_at_;
  uint32_t in_flight_count_ = 0;
  uint32_t max_in_flight_ = 1;
  size_t finished_ = 0;
  bool any_failed_ = false;
  bool cancel_handled_ = false;
  Status fatal_;
  std::mt19937_64 rng_;

  // What Flush() could not write yet, one batch per wake-up, oldest first; each batch's notices
  // and attempts wait for its records.
  struct Batch {
    std::vector<LogChunk> logs;
    std::vector<AttemptRecord> records;
    std::optional<RunRecord> run;  // the run's end, in the last batch only
    std::vector<Notice> notices;
    std::vector<WorkItem> unstarted;
  };
  std::deque<Batch> journal_;
  // The store outage the run is in: since when, the latest failure, when to write again.
  bool outage_ = false;
  int64_t outage_since_us_ = 0;
  int64_t retry_write_us_ = kNoDeadline;
  uint32_t write_failures_ = 0;
  Status last_write_error_;
  bool outage_ended_ = false;  // set when writes succeed again, until Dispatch() looked again
  bool gave_up_ = false;       // the outage outlasted the limit: the run's tasks are cancelled
  std::string give_up_reason_;
  int64_t reported_pending_ = 0;  // journal transitions last told to StoreHealth

  std::optional<RunCanceller::WakeupId> wakeup_;
  RunInbox inbox_;
  WorkerPool& pool_;
};

}  // namespace

Result<RunRecord> CoordinateRun(const Job& job, const RunId& run_id,
                                const TaskRunnerRegistry& runners, StateStore& store,
                                const RunOptions& options) {
  RunCoordinator coordinator(job, run_id, runners, store, options);
  return coordinator.Run();
}

}  // namespace petit::internal
