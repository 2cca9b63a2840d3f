#include "petit/core/dag_executor.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "petit/core/template.h"

namespace petit {
namespace {

constexpr size_t kLogChunkBytes = 64 * 1024;
constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();
constexpr Dag::Index kNoTask = std::numeric_limits<Dag::Index>::max();
const ResourceRequirements kOneTaskSlot = [] {
  ResourceRequirements one;
  one.task_slots = 1;
  return one;
}();
// How long a thread that ran out of work looks for more before it sleeps. An in-process task is
// over in well under a microsecond, while a futex sleep and wake-up costs several; a few
// microseconds of looking cost nothing next to a process spawn (hundreds of microseconds).
constexpr auto kSpinBeforeSleep = std::chrono::microseconds(20);

// Spins until `ready()` or kSpinBeforeSleep has passed; returns ready().
template <typename Ready>
bool SpinFor(Ready&& ready) {
  auto give_up = std::chrono::steady_clock::now() + kSpinBeforeSleep;
  for (int i = 0;; ++i) {
    if (ready()) return true;
    if ((i & 63) == 63 && std::chrono::steady_clock::now() >= give_up) return ready();
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
}

// The engine's side of one attempt: collects outputs, streams captured output to the store in
// bounded chunks, and carries cancellation to the runner's hook.
class AttemptState final : public AttemptControl {
 public:
  AttemptState(StateStore& store, const RunId& run, const TaskId& task, uint32_t attempt,
               size_t cap_bytes)
      : store_(store), run_(run), task_(task), attempt_(attempt), cap_bytes_(cap_bytes) {}

  Status SetOutput(std::string_view key, std::string_view value) override {
    PETIT_RETURN_IF_ERROR(ValidateOutputKey(key));
    std::lock_guard lock(outputs_mu_);
    outputs_.insert_or_assign(std::string(key), std::string(value));
    return Status::Ok();
  }

  void AppendOutput(OutputStream stream, std::string_view bytes) override {
    std::lock_guard lock(capture_mu_);
    Capture& capture = stream == OutputStream::kStdout ? stdout_ : stderr_;
    if (capture.truncated) return;
    size_t room = cap_bytes_ - std::min(cap_bytes_, capture.total);
    bool overflow = bytes.size() > room;
    std::string_view kept = bytes.substr(0, room);
    capture.total += kept.size();
    capture.buffer.append(kept);
    if (overflow) {
      capture.truncated = true;
      capture.buffer.append("\n[petit] output truncated: more than " + std::to_string(cap_bytes_) +
                            " bytes on " + (stream == OutputStream::kStdout ? "stdout" : "stderr") +
                            "\n");
    }
    if (capture.buffer.size() >= kLogChunkBytes || capture.truncated) FlushLocked(stream, capture);
  }

  void Log(LogLevel level, std::string_view message) override {
    static constexpr std::string_view kNames[] = {"debug", "info", "warn", "error"};
    std::string line = "[" + std::string(kNames[static_cast<size_t>(level) & 3]) + "] ";
    line.append(message);
    line.push_back('\n');
    AppendOutput(OutputStream::kStderr, line);
  }

  void ReportProgress(double fraction, std::string_view message) override {
    std::string line = "[progress " + std::to_string(static_cast<int>(fraction * 100.0)) + "%]";
    if (!message.empty()) line.append(" ").append(message);
    line.push_back('\n');
    AppendOutput(OutputStream::kStderr, line);
  }

  bool cancelled() const override { return cancelled_.load(std::memory_order_acquire); }

  void OnCancel(std::function<void()> hook) override {
    std::unique_lock lock(cancel_mu_);
    if (!cancelled()) {
      hook_ = std::move(hook);
      return;
    }
    lock.unlock();
    if (hook) hook();
  }

  // Asks the attempt to stop; `timed_out` records why. Runs the runner's hook at most once.
  void Cancel(bool timed_out) {
    std::function<void()> hook;
    {
      std::lock_guard lock(cancel_mu_);
      if (cancelled()) return;
      timed_out_ = timed_out;
      cancelled_.store(true, std::memory_order_release);
      hook = std::move(hook_);
    }
    if (hook) hook();
  }

  bool timed_out() const {
    std::lock_guard lock(cancel_mu_);
    return timed_out_;
  }

  // Writes what is still buffered. Returns the first storage error seen during the attempt.
  Status Finish() {
    std::lock_guard lock(capture_mu_);
    FlushLocked(OutputStream::kStdout, stdout_);
    FlushLocked(OutputStream::kStderr, stderr_);
    return write_status_;
  }

  ValueMap TakeOutputs() {
    std::lock_guard lock(outputs_mu_);
    return std::move(outputs_);
  }

 private:
  struct Capture {
    std::string buffer;
    size_t total = 0;
    bool truncated = false;
  };

  void FlushLocked(OutputStream stream, Capture& capture) {
    if (capture.buffer.empty()) return;
    LogChunk chunk{run_, task_, attempt_, stream, next_seq_++, std::move(capture.buffer)};
    capture.buffer.clear();
    Status status = store_.AppendLog(chunk);
    if (!status.ok() && write_status_.ok()) write_status_ = status.WithContext("storing output");
  }

  StateStore& store_;
  const RunId& run_;
  const TaskId& task_;
  const uint32_t attempt_;
  const size_t cap_bytes_;

  std::mutex outputs_mu_;
  ValueMap outputs_;  // guarded by outputs_mu_

  std::mutex capture_mu_;
  Capture stdout_;         // guarded by capture_mu_
  Capture stderr_;         // guarded by capture_mu_
  uint32_t next_seq_ = 0;  // guarded by capture_mu_
  Status write_status_;    // guarded by capture_mu_

  mutable std::mutex cancel_mu_;
  std::atomic<bool> cancelled_{false};  // written under cancel_mu_, read anywhere
  bool timed_out_ = false;              // guarded by cancel_mu_
  std::function<void()> hook_;          // guarded by cancel_mu_
};

struct WorkItem {
  Dag::Index index;
  TaskRunner* runner;
  AttemptRequest request;
  std::shared_ptr<AttemptState> control;
};

struct Completion {
  Dag::Index index;
  uint32_t attempt;
  AttemptResult result;
  Status storage_status;
  int64_t started_us;
  int64_t ended_us;
};

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

class RunCoordinator {
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
        attempts_(dag_.size(), 0),
        attempt_started_us_(dag_.size(), 0),
        attempt_queued_us_(dag_.size(), 0),
        in_flight_(dag_.size()),
        rng_(std::random_device{}()) {
    run_.id = run_id;
    run_.job = job.id;
    run_.trigger = options.trigger;
    run_.owner = options.owner;
  }

  ~RunCoordinator() {
    StopWorkers();
    if (wakeup_) options_.canceller->RemoveWakeup(*wakeup_);
  }

  Result<RunRecord> Run() {
    run_.created_us = run_.started_us = clock_.NowMicros();
    run_.status = RunStatus::kRunning;
    PETIT_RETURN_IF_ERROR(store_.CreateRun(run_));
    Emit(EventType::kJobStarted, nullptr, 0, options_.trigger);
    coordinator_thread_ = std::this_thread::get_id();
    if (options_.canceller != nullptr) {
      wakeup_ = options_.canceller->AddWakeup([this] {
        {
          std::lock_guard lock(mu_);
          cancel_seen_ = true;
          pending_done_.store(true, std::memory_order_release);
        }
        done_cv_.notify_one();
      });
    }
    StartWorkers();

    for (Dag::Index i = 0; i < dag_.size(); ++i) {
      unfinished_upstreams_[i] = static_cast<uint32_t>(dag_.Upstream(i).size());
      if (unfinished_upstreams_[i] == 0) MakeReady(i);
    }
    while (finished_ < dag_.size() && fatal_.ok()) {
      if (Cancelled()) CancelEverything();
      Dispatch();
      Flush();
      if (finished_ == dag_.size() || !fatal_.ok()) break;
      if (in_flight_count_ == 0 && ready_.empty() && retry_at_.empty() && granted_.empty() &&
          waiting_for_resources_.empty()) {
        fatal_ = Internal("run stalled with " + std::to_string(dag_.size() - finished_) +
                          " tasks unfinished and none runnable");
        break;
      }
      WaitAndProcess();
    }
    Flush();
    StopWorkers();
    return Finish();
  }

 private:
  using ReadyEntry = std::pair<int64_t, int64_t>;  // (priority, -index): max-heap order
  using Grant = std::pair<Dag::Index, ResourceManager::Lease>;

  ReadyEntry ReadyKey(Dag::Index i) const {
    return {dag_.task(i).priority, -static_cast<int64_t>(i)};
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
                   .detail = std::move(detail)};
    });
  }

  void MakeReady(Dag::Index i) {
    states_[i] = TaskState::kQueued;
    ready_.push(ReadyKey(i));
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

  void DeliverNotices() {
    for (Notice& notice : notices_) {
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
          options_.observer->OnTaskFinished(spec, unsaved_[notice.record]);
          break;
        case Notice::Kind::kRetrying:
          options_.observer->OnTaskRetrying(spec, unsaved_[notice.record], notice.retry_at_us);
          break;
      }
    }
    notices_.clear();
  }

  bool Cancelled() const {
    return options_.canceller != nullptr && options_.canceller->cancelled();
  }

  uint32_t Parallelism() const {
    uint32_t limit = options_.max_parallel_tasks;
    if (limit == 0) limit = std::max(1u, std::thread::hardware_concurrency());
    if (job_.max_parallel_tasks != 0) limit = std::min(limit, job_.max_parallel_tasks);
    return std::max<uint32_t>(1, std::min<uint32_t>(limit, static_cast<uint32_t>(dag_.size())));
  }

  void StartWorkers() {
    uint32_t count = Parallelism();
    max_in_flight_ = count;
    workers_.reserve(count);
    for (uint32_t i = 0; i < count; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  }

  void StopWorkers() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& worker : workers_) worker.join();
    workers_.clear();
  }

  void WorkerLoop() {
    for (;;) {
      WorkItem item;
      {
        SpinFor([this] { return pending_work_.load(std::memory_order_acquire) != 0; });
        std::unique_lock lock(mu_);
        work_cv_.wait(lock, [this] { return stopping_ || !work_.empty(); });
        if (!work_.empty()) pending_work_.fetch_sub(1, std::memory_order_relaxed);
        if (work_.empty()) return;
        item = std::move(work_.front());
        work_.pop_front();
      }
      int64_t started_us = clock_.NowMicros();
      AttemptResult result = item.runner->Run(item.request, *item.control);
      Status storage_status = item.control->Finish();
      Completion done{item.index,        item.request.attempt,
                      std::move(result), std::move(storage_status),
                      started_us,        clock_.NowMicros()};
      {
        std::lock_guard lock(mu_);
        done_.push_back(std::move(done));
        pending_done_.store(true, std::memory_order_release);
      }
      done_cv_.notify_one();
    }
  }

  void Dispatch() {
    while (fatal_.ok() && in_flight_count_ < max_in_flight_ && !granted_.empty()) {
      auto [i, lease] = std::move(granted_.front());
      granted_.pop_front();
      StartAttempt(i, std::move(lease));
    }
    while (fatal_.ok() && !ready_.empty()) {
      Dag::Index i = static_cast<Dag::Index>(-ready_.top().second);
      if (NeedsResources(i)) {
        ready_.pop();
        WaitForResources(i);
        continue;
      }
      // A task that needs only a worker asks for the host-wide task slot once it has one, so it
      // never holds a slot that another run could use while it waits for this run's workers.
      if (in_flight_count_ + granted_.size() + waiting_for_task_slot_ >= max_in_flight_) break;
      ready_.pop();
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

  // Records the attempt as queued, then asks the pools; the grant arrives through `granted_inbox_`
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
    Save({run_.id, spec.id, attempt, TaskState::kQueued, now, 0, 0, {}, {}, {}});
    ResourceRequirements storage;
    acquiring_ = i;
    Result<ResourceManager::Ticket> ticket = options_.resources->AcquireAsync(
        Requirements(i, storage), spec.priority, [this, i](ResourceManager::Lease lease) {
          // A grant made inside AcquireAsync below comes straight back on this thread.
          if (std::this_thread::get_id() == coordinator_thread_ && acquiring_ == i) {
            inline_grant_ = std::move(lease);
            return;
          }
          {
            std::lock_guard lock(mu_);
            granted_inbox_.emplace_back(i, std::move(lease));
            pending_done_.store(true, std::memory_order_release);
          }
          done_cv_.notify_one();
        });
    acquiring_ = kNoTask;
    if (!ticket.ok()) {
      unsaved_.pop_back();
      FailBeforeStart(i, attempt, "task '" + spec.id.str() + "': " + ticket.status().message());
      return;
    }
    if (inline_grant_) {
      unsaved_.pop_back();
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
    const TaskSpec& spec = dag_.task(i);
    attempts_[i] = attempt;
    int64_t now = clock_.NowMicros();
    int64_t queued = attempt_queued_us_[i] != 0 ? attempt_queued_us_[i] : now;
    size_t record =
        Save({run_.id, spec.id, attempt, TaskState::kFailed, queued, 0, now, {}, error, {}});
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
    int64_t now = clock_.NowMicros();
    states_[i] = TaskState::kRunning;
    attempt_started_us_[i] = now;
    int64_t queued = attempt_queued_us_[i] != 0 ? attempt_queued_us_[i] : now;
    attempt_queued_us_[i] = 0;

    // Durable before the effect: the attempt reaches a worker only after Flush() saved this, so
    // after a crash recovery finds it and knows it may have started.
    Save({run_.id, spec.id, attempt, TaskState::kRunning, queued, now, 0, {}, {}, {}});
    Notify(Notice::Kind::kStarted, EventType::kTaskStarted, i, attempt, "");

    auto control =
        std::make_shared<AttemptState>(store_, run_.id, spec.id, attempt,
                                       spec.output_cap_bytes.value_or(options_.output_cap_bytes));
    int64_t deadline = kNoDeadline;
    if (spec.timeout && spec.timeout->count() > 0) deadline = now + spec.timeout->count() * 1000;
    in_flight_[i] = {control, deadline, std::move(lease)};
    if (deadline != kNoDeadline) deadlines_.emplace(deadline, i);
    ++in_flight_count_;

    WorkItem item{i, runners_.Find(spec.type),
                  AttemptRequest{job_.id, run_.id, spec.id, spec.type, attempt, std::move(params),
                                 spec.timeout.value_or(std::chrono::milliseconds(0)),
                                 context_.OutputsPtr(), context_.ConfigPtr()},
                  std::move(control)};
    unstarted_.push_back(std::move(item));
  }

  // Makes what this wake-up decided durable in one transaction, then hands the attempts it
  // started to the workers: every transition is saved before its effect, and dependants of a
  // task start only after its end is saved.
  void Flush() {
    if (!unsaved_.empty()) {
      Status saved = store_.SaveAttempts(unsaved_);
      if (!saved.ok()) {
        fatal_ = saved.WithContext("recording task states");
        unsaved_.clear();
        unstarted_.clear();
        notices_.clear();  // never saved, so never announced
        return;
      }
    }
    DeliverNotices();
    unsaved_.clear();
    if (unstarted_.empty()) return;
    size_t count = unstarted_.size();
    {
      std::lock_guard lock(mu_);
      for (WorkItem& item : unstarted_) work_.push_back(std::move(item));
      pending_work_.fetch_add(count, std::memory_order_release);
    }
    unstarted_.clear();
    if (count == 1) {
      work_cv_.notify_one();
    } else {
      work_cv_.notify_all();
    }
  }

  // Returns the record's index in unsaved_, for its notice.
  size_t Save(AttemptRecord record) {
    unsaved_.push_back(std::move(record));
    return unsaved_.size() - 1;
  }

  // Blocks until an attempt completes, a retry is due or a deadline passes, then handles them.
  void WaitAndProcess() {
    std::deque<Completion> completions;
    std::deque<Grant> grants;
    if (in_flight_count_ != 0) {
      SpinFor([this] { return pending_done_.load(std::memory_order_acquire); });
    }
    {
      std::unique_lock lock(mu_);
      int64_t wake_at = NextTimerUs();
      auto has_work = [this] {
        return !done_.empty() || !granted_inbox_.empty() || (cancel_seen_ && !cancel_handled_);
      };
      if (wake_at == kNoDeadline) {
        done_cv_.wait(lock, has_work);
      } else {
        // The clock may be virtual: its time moves without waking this thread, so a long wait
        // is cut into slices. (The system clock's wake-ups are exact.)
        int64_t wait_us = std::max<int64_t>(0, wake_at - clock_.NowMicros());
        done_cv_.wait_for(lock, std::chrono::microseconds(std::min<int64_t>(wait_us, 100000)),
                          has_work);
      }
      completions.swap(done_);
      grants.swap(granted_inbox_);
      pending_done_.store(false, std::memory_order_relaxed);
    }
    for (Grant& grant : grants) OnGranted(std::move(grant));
    for (Completion& completion : completions) OnCompletion(std::move(completion));
    FireTimers();
  }

  void OnGranted(Grant grant) {
    auto [i, lease] = std::move(grant);
    waiting_for_resources_.erase(i);
    if (!NeedsResources(i)) --waiting_for_task_slot_;
    if (Cancelled()) {
      lease.Release();
      RecordNeverRan(i, TaskState::kCancelled, "run cancelled");
      Settle(i, TaskState::kCancelled);
      return;
    }
    granted_.emplace_back(i, std::move(lease));
  }

  int64_t NextTimerUs() const {
    int64_t next = retry_at_.empty() ? kNoDeadline : retry_at_.begin()->first;
    if (!deadlines_.empty()) next = std::min(next, deadlines_.begin()->first);
    return next;
  }

  void FireTimers() {
    int64_t now = clock_.NowMicros();
    while (!retry_at_.empty() && retry_at_.begin()->first <= now) {
      Dag::Index i = retry_at_.begin()->second;
      retry_at_.erase(retry_at_.begin());
      MakeReady(i);
    }
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      InFlight& flight = in_flight_[deadlines_.begin()->second];
      deadlines_.erase(deadlines_.begin());
      flight.deadline_us = kNoDeadline;
      if (flight.control) flight.control->Cancel(/*timed_out=*/true);
    }
  }

  void OnCompletion(Completion done) {
    const TaskSpec& spec = dag_.task(done.index);
    InFlight flight = std::move(in_flight_[done.index]);
    in_flight_[done.index] = {};
    --in_flight_count_;
    if (flight.deadline_us != kNoDeadline) {
      auto [first, last] = deadlines_.equal_range(flight.deadline_us);
      for (auto it = first; it != last; ++it) {
        if (it->second == done.index) {
          deadlines_.erase(it);
          break;
        }
      }
    }
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

    AttemptRecord record;
    record.run = run_.id;
    record.task = spec.id;
    record.attempt = done.attempt;
    record.state = TaskState::kFailed;
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
      record.state = TaskState::kCancelled;
      if (record.error.empty()) record.error = "cancelled";
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
      std::string error = record.error;
      size_t saved = Save(std::move(record));
      Notify(Notice::Kind::kRetrying, EventType::kTaskRetrying, done.index, done.attempt, error,
             saved, retry_at);
      return;
    }
    const EventType event = record.state == TaskState::kSucceeded   ? EventType::kTaskSucceeded
                            : record.state == TaskState::kCancelled ? EventType::kTaskCancelled
                                                                    : EventType::kTaskFailed;
    const TaskState final_state = record.state;
    std::string error = record.error;
    size_t saved = Save(std::move(record));
    Notify(Notice::Kind::kFinished, event, done.index, done.attempt, error, saved);
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
      if (final_state == TaskState::kFailed) any_failed_ = true;
      for (Dag::Index down : dag_.Downstream(i)) {
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
      *reason = "run cancelled";
      return TaskState::kCancelled;
    }
    const Dag::Index* failed = nullptr;
    const Dag::Index* not_succeeded = nullptr;
    const Dag::Index* skipped = nullptr;
    for (const Dag::Index& up : dag_.Upstream(i)) {
      TaskState s = states_[up];
      if (s == TaskState::kFailed || s == TaskState::kUpstreamFailed) {
        if (failed == nullptr) failed = &up;
      }
      if (s == TaskState::kSkipped && skipped == nullptr) skipped = &up;
      if (s != TaskState::kSucceeded && not_succeeded == nullptr) not_succeeded = &up;
    }
    auto name = [this](const Dag::Index* up) { return "'" + dag_.task(*up).id.str() + "'"; };
    switch (dag_.task(i).trigger) {
      case TriggerRule::kAllSuccess:
        if (not_succeeded == nullptr) return TaskState::kQueued;
        if (failed != nullptr) {
          *reason = "upstream " + name(failed) + " did not succeed";
          return TaskState::kUpstreamFailed;
        }
        *reason = "upstream " + name(not_succeeded) + " was " +
                  std::string(TaskStateName(states_[*not_succeeded]));
        return TaskState::kSkipped;
      case TriggerRule::kOnFailure:
        if (failed != nullptr) return TaskState::kQueued;
        *reason = "trigger rule on_failure: no upstream failed";
        return TaskState::kSkipped;
      case TriggerRule::kAllDone:
        if (skipped == nullptr) return TaskState::kQueued;
        *reason = "trigger rule all_done: upstream " + name(skipped) + " was skipped";
        return TaskState::kSkipped;
      case TriggerRule::kAlways:
        return TaskState::kQueued;
    }
    return TaskState::kQueued;
  }

  void RecordNeverRan(Dag::Index i, TaskState state, const std::string& reason) {
    int64_t now = clock_.NowMicros();
    size_t record = Save({run_.id, dag_.task(i).id, 0, state, 0, 0, now, {}, reason, {}});
    Notify(Notice::Kind::kFinished,
           state == TaskState::kCancelled ? EventType::kTaskCancelled : EventType::kTaskSkipped, i,
           0, reason, record);
  }

  // Stops everything once: running attempts are asked to stop, waiting tasks end as cancelled.
  void CancelEverything() {
    if (cancel_handled_) return;
    cancel_handled_ = true;
    for (InFlight& flight : in_flight_) {
      if (flight.control) flight.control->Cancel(/*timed_out=*/false);
    }
    std::vector<Dag::Index> waiting;
    while (!ready_.empty()) {
      waiting.push_back(static_cast<Dag::Index>(-ready_.top().second));
      ready_.pop();
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
      RecordNeverRan(i, TaskState::kCancelled, "run cancelled");
      Settle(i, TaskState::kCancelled);
    }
  }

  Result<RunRecord> Finish() {
    if (!fatal_.ok()) {
      run_.status = RunStatus::kFailed;
      run_.error = fatal_.message();
    } else if (Cancelled()) {
      run_.status = RunStatus::kCancelled;
      run_.error = "cancelled";
    } else {
      run_.status = any_failed_ ? RunStatus::kFailed : RunStatus::kSucceeded;
    }
    run_.ended_us = clock_.NowMicros();
    Status updated = store_.UpdateRun(run_);
    Emit(EventType::kJobCompleted, nullptr, 0, std::string(RunStatusName(run_.status)));
    if (!fatal_.ok()) return fatal_;
    if (!updated.ok()) return updated.WithContext("recording the end of the run");
    return run_;
  }

  struct InFlight {
    std::shared_ptr<AttemptState> control;  // null when the task is not running
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
  std::vector<uint32_t> attempts_;
  std::vector<int64_t> attempt_started_us_;
  std::vector<int64_t> attempt_queued_us_;  // when the waiting attempt was queued; 0 = not waiting
  std::multimap<int64_t, Dag::Index> deadlines_;  // timeouts of running attempts
  std::map<Dag::Index, ResourceManager::Ticket> waiting_for_resources_;
  // Of those, the tasks that wait only for the host-wide task slot (they count against this
  // run's workers, see Dispatch()).
  size_t waiting_for_task_slot_ = 0;
  const bool limits_tasks_ = options_.resources != nullptr && options_.resources->limits_tasks();
  std::thread::id coordinator_thread_;  // set once before the workers start
  Dag::Index acquiring_ = kNoTask;      // the task whose AcquireAsync call is under way
  std::optional<ResourceManager::Lease> inline_grant_;  // what that call granted at once
  std::deque<Grant> granted_;                           // holding their slots, waiting for a worker
  std::vector<InFlight> in_flight_;
  std::priority_queue<ReadyEntry> ready_;
  std::vector<AttemptRecord> unsaved_;  // decided this wake-up, saved by Flush()
  std::vector<Notice> notices_;         // told by Flush() once unsaved_ is saved
  const bool notifying_ = options_.events != nullptr || options_.observer != nullptr;
  std::vector<WorkItem> unstarted_;  // started this wake-up, handed to workers by Flush()
  std::multimap<int64_t, Dag::Index> retry_at_;
  uint32_t in_flight_count_ = 0;
  uint32_t max_in_flight_ = 1;
  size_t finished_ = 0;
  bool any_failed_ = false;
  bool cancel_handled_ = false;
  Status fatal_;
  std::mt19937_64 rng_;

  // Shared with workers. Lock order: mu_ is never held while calling a runner or the store.
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<WorkItem> work_;        // guarded by mu_
  std::deque<Completion> done_;      // guarded by mu_
  std::deque<Grant> granted_inbox_;  // guarded by mu_
  bool stopping_ = false;            // guarded by mu_
  bool cancel_seen_ = false;         // guarded by mu_; set by the canceller's wake-up
  std::optional<RunCanceller::WakeupId> wakeup_;
  // Hints read without mu_ while spinning: written under mu_ beside work_ / done_, so a stale
  // read only costs a sleep that the condition variables end as usual.
  std::atomic<size_t> pending_work_{0};
  std::atomic<bool> pending_done_{false};
  std::vector<std::thread> workers_;
};

}  // namespace

void RunCanceller::Cancel() {
  std::vector<std::function<void()>> wakeups;
  {
    std::lock_guard lock(mu_);
    if (cancelled_.exchange(true, std::memory_order_acq_rel)) return;
    for (auto& [id, wake] : wakeups_) wakeups.push_back(wake);
  }
  for (auto& wake : wakeups) wake();
}

RunCanceller::WakeupId RunCanceller::AddWakeup(std::function<void()> wake) {
  std::unique_lock lock(mu_);
  WakeupId id = next_id_++;
  wakeups_.emplace(id, wake);
  if (cancelled()) {
    lock.unlock();
    wake();
  }
  return id;
}

void RunCanceller::RemoveWakeup(WakeupId id) {
  std::lock_guard lock(mu_);
  wakeups_.erase(id);
}

Status CheckTaskTypes(const Job& job, const TaskRunnerRegistry& runners) {
  std::string problems;
  for (Dag::Index i = 0; i < job.dag.size(); ++i) {
    const TaskSpec& spec = job.dag.task(i);
    if (runners.Find(spec.type) != nullptr) continue;
    if (!problems.empty()) problems += "\n";
    problems += "task '" + spec.id.str() + "' has unknown type '" + spec.type + "'";
  }
  if (problems.empty()) return Status::Ok();
  return InvalidArgument(std::move(problems));
}

Status CheckTaskResources(const Job& job, const ResourceManager* resources) {
  std::string problems;
  for (Dag::Index i = 0; i < job.dag.size(); ++i) {
    const TaskSpec& spec = job.dag.task(i);
    if (spec.resources.empty()) continue;
    Status status = resources != nullptr ? resources->Check(spec.resources)
                                         : InvalidArgument("this host has no resource pools");
    if (status.ok()) continue;
    if (!problems.empty()) problems += "\n";
    problems += "task '" + spec.id.str() + "': " + status.message();
  }
  if (problems.empty()) return Status::Ok();
  return InvalidArgument(std::move(problems));
}

Result<RunRecord> ExecuteRun(const Job& job, const RunId& run_id, const TaskRunnerRegistry& runners,
                             StateStore& store, const RunOptions& options) {
  if (!job.dag.validated()) {
    return FailedPrecondition("job '" + job.id.str() + "' has not been validated");
  }
  PETIT_RETURN_IF_ERROR(CheckTaskTypes(job, runners));
  PETIT_RETURN_IF_ERROR(CheckTaskResources(job, options.resources));
  RunCoordinator coordinator(job, run_id, runners, store, options);
  return coordinator.Run();
}

}  // namespace petit
