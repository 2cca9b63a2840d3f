#include "petit/core/scheduler.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <deque>
#include <limits>
#include <queue>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "clock_waiter.h"
#include "occurrences.h"
#include "petit/core/mutex.h"
#include "petit/core/suggest.h"
#include "petit/core/thread_annotations.h"

namespace petit {
namespace {

constexpr int64_t kNever = internal::kNoDeadline;
constexpr std::string_view kTriggerSchedule = "schedule";
constexpr std::string_view kTriggerCatchUp = "catch_up";
constexpr std::string_view kTriggerManual = "manual";
constexpr std::string_view kTriggerRecovery = "recovery";
constexpr std::array<RunStatus, 4> kFinished = {RunStatus::kSucceeded, RunStatus::kFailed,
                                                RunStatus::kCancelled, RunStatus::kInterrupted};
constexpr std::array<RunStatus, 1> kSucceeded = {RunStatus::kSucceeded};

std::string Plural(size_t n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

}  // namespace

std::vector<Result<std::unique_ptr<RunHandle>>> RunLauncher::LaunchBatch(
    std::span<const RunRequest> requests, std::vector<RunEndCallback> on_ends) {
  assert(requests.size() == on_ends.size());
  std::vector<Result<std::unique_ptr<RunHandle>>> handles;
  handles.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    handles.push_back(Launch(requests[i], std::move(on_ends[i])));
  }
  return handles;
}

RunLauncher::BatchLaunch RunLauncher::LaunchBatchSavingJobs(std::span<const RunRequest> requests,
                                                            std::vector<RunEndCallback> on_ends,
                                                            std::span<const JobRecord> jobs,
                                                            StateStore& store) {
  BatchLaunch launch;
  if (!jobs.empty()) launch.jobs_saved = store.SaveJobs(jobs);
  launch.handles = LaunchBatch(requests, std::move(on_ends));
  return launch;
}

struct Scheduler::Impl {
  // An occurrence (or a manual trigger) admitted but waiting for a run slot.
  struct Waiting {
    RunId run_id;
    std::string trigger;
    int64_t occurrence_us = 0;
    std::shared_ptr<const RunResumption> resume = nullptr;
    std::shared_ptr<const RunRecord> admitted = nullptr;  // RunRequest::admitted
    // The job with the trigger's config values (Scheduler::Trigger's options); null: the slot's.
    std::shared_ptr<const Job> job = nullptr;
  };

  struct ActiveRun {
    RunId run_id;
    std::unique_ptr<RunHandle> handle{};  // null while Launch() has not returned
    bool cancel_requested = false;
  };

  struct Slot {
    std::shared_ptr<const Job> job;
    JobRecord record;
    // Heap entries carry the generation they were pushed with; pausing bumps it, which turns the
    // job's entry stale instead of searching the heap for it.
    uint64_t generation = 0;
    int64_t next_fire_us = 0;       // 0: not in the heap
    std::deque<ActiveRun> active;   // oldest first
    std::deque<Waiting> backlog;    // catch-up occurrences, oldest first
    std::optional<Waiting> queued;  // the one occurrence kept by overlap queue/cancel_previous
    // No longer among the jobs (UpdateJobs): never fires nor starts runs; its active runs finish.
    bool removed = false;
    // `record` changed but the store did not take it (an outage): saved again with backoff, so
    // that a restart does not catch up an occurrence this scheduler already dealt with.
    bool record_unsaved = false;
  };

  struct HeapEntry {
    int64_t fire_us;
    size_t slot;
    uint64_t generation;
    bool operator>(const HeapEntry& other) const {
      return std::tie(fire_us, slot) > std::tie(other.fire_us, other.slot);
    }
  };

  struct Launch {
    size_t slot;
    RunRequest request;
    // Set for an occurrence that starts a run: announced (kScheduleFired "run started", with
    // this note) once the launcher took the run, since the store's admission may yet refuse it.
    std::optional<std::string> announce{};
    // When the store first failed to admit it for an outage (0: never); see `held`.
    int64_t outage_since_us = 0;
  };

  Impl(std::vector<std::shared_ptr<const Job>> jobs, Clock& clock_in, StateStore& store_in,
       RunLauncher& launcher_in, EventBus* events_in, SchedulerOptions options_in)
      : clock(clock_in),
        store(store_in),
        launcher(launcher_in),
        events(events_in),
        options(std::move(options_in)),
        outage_policy(options.store_outage) {
    for (std::shared_ptr<const Job>& job : jobs) {
      assert(job != nullptr);
      [[maybe_unused]] const bool inserted = index_of.emplace(job->id, slots.size()).second;
      assert(inserted && "job ids must be unique");
      Slot& slot = slots.emplace_back();
      slot.record.id = job->id;
      slot.job = std::move(job);
    }
  }

  // Called with mu held, down to LaunchAll. NewRunId, Occurrence and Busy are not marked
  // REQUIRES(mu): they read at most the slot they are given, and the event lambdas (which the
  // analysis checks as functions of their own, holding nothing) call the last two.

  // Whether the job's own settings let its schedule fire, whatever the scheduler's pause.
  bool JobSchedulable(const Slot& slot) const REQUIRES(mu) {
    return slot.job->schedule.has_value() && slot.job->enabled && !slot.record.paused;
  }

  bool Schedulable(const Slot& slot) const REQUIRES(mu) { return !paused && JobSchedulable(slot); }

  bool HasRoom(const Slot& slot) const REQUIRES(mu) {
    return AdmitsAnotherRun(*slot.job, slot.active.size());
  }

  RunId NewRunId(int64_t now_us) const {
    return RunId::GenerateAt(std::max<int64_t>(0, now_us / 1000));
  }

  std::string Occurrence(const Slot& slot, int64_t occurrence_us) const {
    if (occurrence_us == 0) return "manual trigger";
    return "occurrence " + slot.job->schedule->FormatLocal(occurrence_us);
  }

  // `make_detail` runs only when someone listens: an unobserved scheduler formats no text.
  template <typename MakeDetail>
  void Emit(EventType type, const Slot& slot, const RunId& run, int64_t now_us,
            int64_t occurrence_us, std::string_view trigger, MakeDetail&& make_detail)
      REQUIRES(mu) {
    if (type == EventType::kTriggerRefused) ++refused;
    if (type == EventType::kScheduleFired) ++fired;
    if (events == nullptr) return;
    events->Emit([&] {
      return Event{.type = type,
                   .time_us = now_us,
                   .job = slot.job->id,
                   .run = run,
                   .detail = make_detail(),
                   .occurrence_us = occurrence_us,
                   .trigger = std::string(trigger)};
    });
  }

  void Refuse(const Slot& slot, const RunId& run, int64_t occurrence_us, int64_t now_us,
              std::string_view reason) REQUIRES(mu) {
    Emit(EventType::kTriggerRefused, slot, run, now_us, occurrence_us, "",
         [&] { return Occurrence(slot, occurrence_us) + ": " + std::string(reason); });
  }

  void SaveRecord(Slot& slot, int64_t now_us) REQUIRES(mu) {
    slot.record.updated_us = now_us;
    Status saved = store.SaveJob(slot.record);
    slot.record_unsaved = !saved.ok();
    if (saved.ok()) {
      if (options.store_health != nullptr) options.store_health->ReportSuccess(now_us);
      return;
    }
    last_store_error =
        saved.WithContext("saving the schedule state of job '" + slot.job->id.str() + "'");
    if (options.store_health != nullptr) {
      options.store_health->ReportFailure(last_store_error, now_us);
    }
    if (record_retry_us == kNever) {
      record_retry_us = now_us + outage_policy.BackoffUs(++record_failures);
    }
  }

  // The records of the slots at `indices`, as of `now_us`, for one save (a tick's commit).
  std::vector<JobRecord> TickRecords(const std::vector<size_t>& indices, int64_t now_us)
      REQUIRES(mu) {
    std::vector<JobRecord> records;
    records.reserve(indices.size());
    for (size_t index : indices) {
      slots[index].record.updated_us = now_us;
      slots[index].record_unsaved = false;  // this save supersedes an unsaved one
      records.push_back(slots[index].record);
    }
    return records;
  }

  // What the save of the records of the slots at `indices` answered.
  void RecordsSaved(const std::vector<size_t>& indices, const Status& saved, int64_t now_us)
      REQUIRES(mu) {
    for (size_t index : indices) slots[index].record_unsaved = !saved.ok();
    if (saved.ok()) {
      if (options.store_health != nullptr) options.store_health->ReportSuccess(now_us);
      return;
    }
    last_store_error = saved.WithContext(
        indices.size() == 1
            ? "saving the schedule state of job '" + slots[indices.front()].job->id.str() + "'"
            : "saving the schedule state of " + Plural(indices.size(), "job"));
    if (options.store_health != nullptr) {
      options.store_health->ReportFailure(last_store_error, now_us);
    }
    if (record_retry_us == kNever) {
      record_retry_us = now_us + outage_policy.BackoffUs(++record_failures);
    }
  }

  // Saves again the records an outage kept from the store, once their backoff has passed.
  void RetryUnsavedRecords(int64_t now_us) REQUIRES(mu) {
    if (record_retry_us > now_us) return;
    record_retry_us = kNever;
    bool unsaved = false;
    for (Slot& slot : slots) {
      if (!slot.record_unsaved) continue;
      SaveRecord(slot, now_us);
      unsaved = unsaved || slot.record_unsaved;
    }
    // A save that failed again set the next retry, one backoff step further.
    if (!unsaved) record_failures = 0;
  }

  void PushNext(size_t index, int64_t after_us) REQUIRES(mu) {
    Slot& slot = slots[index];
    std::optional<int64_t> next = slot.job->schedule->NextAfter(after_us);
    slot.next_fire_us = next.value_or(0);
    if (next) {
      heap.push(HeapEntry{*next, index, slot.generation});
      DropStaleEntries();
    }
    next_due_us = heap.empty() ? kNever : heap.top().fire_us;
  }

  // An entry whose job was unscheduled since (paused, rescheduled, removed) otherwise leaves the
  // heap only when its time comes, which for a yearly schedule paused and resumed through the
  // API every minute is never soon: past kMaxStaleFireTimes beyond one per job they are dropped, in
  // O(n) once per as many pushes, so the heap holds at most 2 x jobs + kMaxStaleFireTimes.
  void DropStaleEntries() REQUIRES(mu) {
    if (heap.size() <= 2 * slots.size() + kMaxStaleFireTimes) return;
    std::vector<HeapEntry> live;
    live.reserve(slots.size());
    while (!heap.empty()) {
      if (heap.top().generation == slots[heap.top().slot].generation) live.push_back(heap.top());
      heap.pop();
    }
    heap = decltype(heap)(std::greater<>(), std::move(live));
  }

  void Unschedule(Slot& slot) REQUIRES(mu) {
    ++slot.generation;
    slot.next_fire_us = 0;
  }

  void StartRun(size_t index, Waiting waiting, std::vector<Launch>& launches) REQUIRES(mu) {
    Slot& slot = slots[index];
    slot.active.push_back(ActiveRun{.run_id = waiting.run_id});
    ++active_runs;
    launches.push_back(Launch{
        index,
        RunRequest{waiting.job ? std::move(waiting.job) : slot.job, std::move(waiting.run_id),
                   std::move(waiting.trigger), waiting.occurrence_us, std::move(waiting.resume),
                   std::move(waiting.admitted)}});
  }

  // Starts waiting occurrences (catch-up backlog first: they are older) while there is room.
  void StartWaiting(size_t index, std::vector<Launch>& launches) REQUIRES(mu) {
    Slot& slot = slots[index];
    while (HasRoom(slot)) {
      if (!slot.backlog.empty()) {
        Waiting next = std::move(slot.backlog.front());
        slot.backlog.pop_front();
        StartRun(index, std::move(next), launches);
      } else if (slot.queued) {
        Waiting next = std::move(*slot.queued);
        slot.queued.reset();
        StartRun(index, std::move(next), launches);
      } else {
        return;
      }
    }
  }

  void DropWaiting(Slot& slot, int64_t now_us, std::string_view reason) REQUIRES(mu) {
    DropHeld(slot, now_us, reason, /*scheduled_only=*/false);
    for (const Waiting& waiting : slot.backlog) {
      Refuse(slot, waiting.run_id, waiting.occurrence_us, now_us, reason);
    }
    slot.backlog.clear();
    if (slot.queued) Refuse(slot, slot.queued->run_id, slot.queued->occurrence_us, now_us, reason);
    slot.queued.reset();
  }

  // Drops the occurrences of schedules (not manual triggers or retries) waiting for a run slot.
  void DropScheduledWaiting(Slot& slot, int64_t now_us, std::string_view reason) REQUIRES(mu) {
    DropHeld(slot, now_us, reason, /*scheduled_only=*/true);
    for (const Waiting& waiting : slot.backlog) {
      Refuse(slot, waiting.run_id, waiting.occurrence_us, now_us, reason);
    }
    slot.backlog.clear();
    if (slot.queued && slot.queued->occurrence_us != 0) {
      Refuse(slot, slot.queued->run_id, slot.queued->occurrence_us, now_us, reason);
      slot.queued.reset();
    }
  }

  void CancelOldest(Slot& slot) REQUIRES(mu) {
    for (ActiveRun& run : slot.active) {
      if (run.cancel_requested) continue;
      run.cancel_requested = true;
      if (run.handle) run.handle->Cancel();
      return;
    }
  }

  std::string Busy(const Slot& slot) const {
    return Plural(slot.active.size(), "run") + " active (max_active_runs " +
           std::to_string(slot.job->max_active_runs) + ", overlap " +
           std::string(OverlapPolicyName(slot.job->overlap)) + ")";
  }

  struct Admitted {
    bool queued = false;
    std::optional<std::string> refusal{};
  };

  // Starts `waiting` or keeps it per the overlap policy; says which, or why it was refused.
  Admitted Admit(size_t index, Waiting waiting, int64_t now_us, std::vector<Launch>& launches)
      REQUIRES(mu) {
    Slot& slot = slots[index];
    if (HasRoom(slot)) {
      StartRun(index, std::move(waiting), launches);
      return {};
    }
    switch (slot.job->overlap) {
      case OverlapPolicy::kSkip:
        return {.refusal = Busy(slot)};
      case OverlapPolicy::kQueue:
        if (slot.queued) return {.refusal = Busy(slot) + " and one occurrence already waits"};
        slot.queued = std::move(waiting);
        return {.queued = true};
      case OverlapPolicy::kCancelPrevious:
        // One cancellation per waiting occurrence: a newer occurrence replaces the waiting one
        // rather than cancelling another run.
        if (slot.queued) {
          Refuse(slot, slot.queued->run_id, slot.queued->occurrence_us, now_us,
                 "replaced by a newer occurrence (overlap cancel_previous)");
        } else {
          CancelOldest(slot);
        }
        slot.queued = std::move(waiting);
        return {.queued = true};
    }
    return {.refusal = "unknown overlap policy"};
  }

  // Why one of the job's dependencies does not hold now; nullopt when all hold.
  std::optional<std::string> UnmetDependency(const Slot& slot, int64_t now_us) REQUIRES(mu) {
    for (const JobDependency& dependency : slot.job->depends_on) {
      std::optional<std::string> why = CheckDependency(dependency, now_us);
      if (why) {
        return "dependency on job '" + dependency.job.str() + "' (" +
               std::string(JobDependencyConditionName(dependency.condition)) + ") not met: " + *why;
      }
    }
    return std::nullopt;
  }

  std::optional<std::string> CheckDependency(const JobDependency& dependency, int64_t now_us)
      REQUIRES(mu) {
    const std::string other = "job '" + dependency.job.str() + "'";
    switch (dependency.condition) {
      case JobDependency::Condition::kLastSuccess: {
        Result<std::optional<RunRecord>> last = store.LastRun(dependency.job, kFinished, 0);
        if (!last.ok()) return "cannot read its runs: " + last.status().message();
        if (!last->has_value()) return other + " has no finished run";
        if ((*last)->status == RunStatus::kSucceeded) return std::nullopt;
        return "its latest finished run " + (*last)->id.str() + " " +
               std::string(RunStatusName((*last)->status));
      }
      case JobDependency::Condition::kLastComplete: {
        // A run launched here may not have reached the store yet.
        if (auto it = index_of.find(dependency.job); it != index_of.end()) {
          if (!slots[it->second].active.empty()) return other + " has a run in progress";
        }
        Result<std::vector<RunRecord>> latest = store.ListRuns(dependency.job, 1);
        if (!latest.ok()) return "cannot read its runs: " + latest.status().message();
        if (latest->empty()) return other + " has never run";
        const RunRecord& run = latest->front();
        if (IsTerminal(run.status)) return std::nullopt;
        return "its latest run " + run.id.str() + " is still " +
               std::string(RunStatusName(run.status));
      }
      case JobDependency::Condition::kWithinWindow: {
        const int64_t window_us =
            std::chrono::duration_cast<std::chrono::microseconds>(dependency.window).count();
        Result<std::optional<RunRecord>> last =
            store.LastRun(dependency.job, kSucceeded, now_us - window_us);
        if (!last.ok()) return "cannot read its runs: " + last.status().message();
        if (last->has_value()) return std::nullopt;
        return other + " has not succeeded in the last " +
               std::to_string(dependency.window.count()) + " s";
      }
    }
    return "unknown condition";
  }

  // One scheduled or caught-up occurrence: dependencies, then admission.
  void DealWith(size_t index, int64_t occurrence_us, std::string_view trigger,
                std::string_view note, int64_t now_us, std::vector<Launch>& launches) REQUIRES(mu) {
    Slot& slot = slots[index];
    const RunId run_id = NewRunId(now_us);
    if (std::optional<std::string> unmet = UnmetDependency(slot, now_us)) {
      Refuse(slot, run_id, occurrence_us, now_us, *unmet);
      return;
    }
    Admitted admitted =
        Admit(index, Waiting{run_id, std::string(trigger), occurrence_us}, now_us, launches);
    if (admitted.refusal) {
      Refuse(slot, run_id, occurrence_us, now_us, *admitted.refusal);
      return;
    }
    if (!admitted.queued) {
      launches.back().announce = std::string(note);
      return;
    }
    Emit(EventType::kScheduleFired, slot, run_id, now_us, occurrence_us, trigger, [&] {
      std::string detail = Occurrence(slot, occurrence_us) + " (trigger " + std::string(trigger) +
                           "): run waits, " + Busy(slot);
      if (!note.empty()) detail += "; " + std::string(note);
      return detail;
    });
  }

  // Catch-up for the occurrences in (last_fire_us, now] (see the header).
  void CatchUp(size_t index, int64_t now_us, std::vector<Launch>& launches) REQUIRES(mu) {
    Slot& slot = slots[index];
    const Schedule& schedule = *slot.job->schedule;
    const int64_t last = slot.record.last_fire_us;
    if (last <= 0 || last >= now_us) return;
    std::optional<int64_t> latest = internal::LatestOccurrence(schedule, last, now_us);
    if (!latest) return;
    const Job& job = *slot.job;
    const size_t limit = job.catch_up == CatchUpPolicy::kAll ? job.catch_up_limit : 0;
    if (job.catch_up == CatchUpPolicy::kLatest) {
      DealWith(index, *latest, kTriggerCatchUp, "the latest missed occurrence (catch_up latest)",
               now_us, launches);
    } else if (limit == 0) {
      Refuse(slot, RunId(), *latest, now_us,
             "missed while the host was down or the job paused (catch_up none); this and "
             "earlier missed occurrences are skipped");
    } else {
      CatchUpAll(index, last, *latest, limit, now_us, launches);
    }
    slot.record.last_fire_us = *latest;
    SaveRecord(slot, now_us);
  }

  void CatchUpAll(size_t index, int64_t last_us, int64_t latest_us, size_t limit, int64_t now_us,
                  std::vector<Launch>& launches) REQUIRES(mu) {
    Slot& slot = slots[index];
    const Schedule& schedule = *slot.job->schedule;
    std::vector<int64_t> missed = internal::LatestOccurrences(schedule, last_us, latest_us, limit);
    if (std::optional<std::string> unmet = UnmetDependency(slot, now_us)) {
      Refuse(slot, RunId(), latest_us, now_us,
             *unmet + "; skipping " + Plural(missed.size(), "missed occurrence"));
      return;
    }
    if (internal::LatestOccurrence(schedule, last_us, missed.front() - 1)) {
      Refuse(slot, RunId(), missed.front(), now_us,
             "older missed occurrences are skipped (catch_up_limit " + std::to_string(limit) + ")");
    }
    for (int64_t occurrence_us : missed) {
      Waiting waiting{NewRunId(now_us), std::string(kTriggerCatchUp), occurrence_us};
      const RunId run_id = waiting.run_id;
      const bool starts = slot.backlog.empty() && HasRoom(slot);
      if (starts) {
        StartRun(index, std::move(waiting), launches);
        launches.back().announce = "";
        continue;
      }
      slot.backlog.push_back(std::move(waiting));
      Emit(EventType::kScheduleFired, slot, run_id, now_us, occurrence_us, kTriggerCatchUp, [&] {
        return Occurrence(slot, occurrence_us) +
               " (trigger catch_up): run waits for a free run slot (catch_up all)";
      });
    }
  }

  // Puts a schedulable job on the heap, after catching up what it missed.
  void Arm(size_t index, int64_t now_us, std::vector<Launch>& launches) REQUIRES(mu) {
    Slot& slot = slots[index];
    if (!Schedulable(slot)) return;
    CatchUp(index, now_us, launches);
    // After the last occurrence dealt with even if the clock is now behind it: never fire twice.
    PushNext(index, std::max(now_us, slot.record.last_fire_us));
  }

  void FireDue(int64_t now_us, std::vector<Launch>& launches) REQUIRES(mu) {
    std::vector<size_t> fired_slots;
    while (!heap.empty() && heap.top().fire_us <= now_us) {
      const HeapEntry entry = heap.top();
      heap.pop();
      Slot& slot = slots[entry.slot];
      if (entry.generation != slot.generation) continue;
      const Schedule& schedule = *slot.job->schedule;
      int64_t occurrence_us = entry.fire_us;
      std::optional<int64_t> next = schedule.NextAfter(occurrence_us);
      std::string note;
      bool caught_up = false;
      if (next && *next <= now_us) {
        // The host was here but late (a suspended machine, a store that held the loop, a clock
        // stepped forward): what it missed is missed occurrences, so `catch_up: all` runs each of
        // them, as after a restart; otherwise the latest fires once.
        occurrence_us = internal::LatestOccurrence(schedule, entry.fire_us, now_us).value();
        next = schedule.NextAfter(occurrence_us);
        const Job& job = *slot.job;
        if (job.catch_up == CatchUpPolicy::kAll && job.catch_up_limit > 0) {
          CatchUpAll(entry.slot, entry.fire_us - 1, occurrence_us, job.catch_up_limit, now_us,
                     launches);
          caught_up = true;
        } else {
          note = "the clock jumped past the occurrences from " +
                 schedule.FormatLocal(entry.fire_us) + ": they fire once, as this one";
        }
      }
      if (!caught_up) DealWith(entry.slot, occurrence_us, kTriggerSchedule, note, now_us, launches);
      slot.record.last_fire_us = occurrence_us;
      fired_slots.push_back(entry.slot);
      slot.next_fire_us = next.value_or(0);
      if (next) heap.push(HeapEntry{*next, entry.slot, slot.generation});
    }
    // Saved by Loop in the commit that admits their runs: a tick's fires cost one commit.
    tick_slots = std::move(fired_slots);
    next_due_us = heap.empty() ? kNever : heap.top().fire_us;
  }

  std::deque<ActiveRun>::iterator FindActive(Slot& slot, const RunId& run) REQUIRES(mu) {
    return std::find_if(slot.active.begin(), slot.active.end(),
                        [&](const ActiveRun& active) { return active.run_id == run; });
  }

  // After a run left `slot.active`.
  void RunLeft(size_t index) REQUIRES(mu) {
    --active_runs;
    const Slot& slot = slots[index];
    if (!stopping && !slot.removed && (!slot.backlog.empty() || slot.queued)) {
      ready.push_back(index);
      wake = true;
      cv.Signal();
    }
    if (active_runs == 0) runs_cv.SignalAll();
  }

  // The functions below take mu themselves (Wait: the caller holds it).

  // Launches each run (admitted together: RunLauncher::LaunchBatch); returns how many started. A
  // launch failure frees its slot at once.
  // With `records`, they are saved in the commit that admits the runs (and `records_saved` told
  // how that went): RunLauncher::LaunchBatchSavingJobs.
  uint32_t LaunchAll(std::vector<Launch>& launches, Status* first_failure = nullptr,
                     std::span<const JobRecord> records = {}, Status* records_saved = nullptr)
      EXCLUDES(mu) {
    if (launches.empty() && records.empty()) return 0;
    std::vector<RunRequest> requests;
    std::vector<RunEndCallback> on_ends;
    requests.reserve(launches.size());
    on_ends.reserve(launches.size());
    // Moved, not copied: a tick's runs are stamped created only once these are built.
    for (Launch& launch : launches) {
      on_ends.emplace_back([this, index = launch.slot, run_id = launch.request.run_id] {
        OnRunEnded(index, run_id);
      });
      requests.push_back(std::move(launch.request));
    }
    std::vector<Result<std::unique_ptr<RunHandle>>> handles;
    if (records.empty()) {
      handles = launcher.LaunchBatch(requests, std::move(on_ends));
    } else {
      RunLauncher::BatchLaunch batch =
          launcher.LaunchBatchSavingJobs(requests, std::move(on_ends), records, store);
      handles = std::move(batch.handles);
      if (records_saved != nullptr) *records_saved = std::move(batch.jobs_saved);
    }
    assert(handles.size() == launches.size());
    uint32_t launched = 0;
    for (size_t i = 0; i < launches.size(); ++i) {
      Launch& launch = launches[i];
      const size_t index = launch.slot;
      const RunRequest& request = requests[i];
      const RunId& run_id = request.run_id;
      Result<std::unique_ptr<RunHandle>>& handle = handles[i];
      MutexLock lock(mu);
      Slot& slot = slots[index];
      auto active = FindActive(slot, run_id);
      if (!handle.ok()) {
        if (first_failure != nullptr && first_failure->ok()) *first_failure = handle.status();
        const int64_t now_us = clock.NowMicros();
        const int64_t since_us = launch.outage_since_us != 0 ? launch.outage_since_us : now_us;
        const int64_t limit_us =
            since_us +
            std::chrono::duration_cast<std::chrono::microseconds>(outage_policy.limit).count();
        // A store that does not answer is waited for, as a run waits for its writes: the
        // occurrence keeps its run slot and is tried again until the outage limit. A caller who
        // hears of the failure (a trigger) is not waited for.
        if (first_failure == nullptr && IsStoreOutage(handle.status()) && !stopping &&
            now_us < limit_us && active != slot.active.end()) {
          if (options.store_health != nullptr) {
            options.store_health->ReportFailure(handle.status(), now_us);
          }
          Launch again{index, std::move(requests[i]), std::move(launch.announce), since_us};
          held.push_back(std::move(again));
          if (launch_retry_us == kNever) {
            launch_retry_us =
                std::min(limit_us, now_us + outage_policy.BackoffUs(++launch_failures));
            wake = true;
            cv.Signal();
          }
          continue;
        }
        // The store's admission refused it: its reason says it all.
        const bool by_store = handle.status().code() == StatusCode::kFailedPrecondition;
        std::string why = by_store ? handle.status().message()
                                   : "the run could not be started: " + handle.status().message();
        if (launch.outage_since_us != 0 && !by_store) {
          why += " (the state store did not answer for " +
                 std::to_string((now_us - launch.outage_since_us) / 1'000'000) + " s)";
        }
        Refuse(slot, run_id, request.occurrence_us, now_us, std::move(why));
        if (active != slot.active.end()) {
          slot.active.erase(active);
          RunLeft(index);
        }
        continue;
      }
      ++launched;
      if (launch.announce) {
        Emit(EventType::kScheduleFired, slot, run_id, clock.NowMicros(), request.occurrence_us,
             request.trigger, [&] {
               std::string detail = Occurrence(slot, request.occurrence_us) + " (trigger " +
                                    request.trigger + "): run started";
               if (!launch.announce->empty()) detail += "; " + *launch.announce;
               return detail;
             });
      }
      // Already gone: the run ended before Launch returned, and its handle is not needed.
      if (active == slot.active.end()) continue;
      active->handle = std::move(handle).value();
      if (active->cancel_requested) active->handle->Cancel();
    }
    MutexLock lock(mu);
    if (held.empty()) launch_failures = 0;
    return launched;
  }

  // Drops the launches of `slot` an outage holds (only those of schedules: `scheduled_only`), or
  // the one of run `only` when given; their slots are freed. Returns whether any was dropped.
  bool DropHeld(Slot& slot, int64_t now_us, std::string_view reason, bool scheduled_only,
                const RunId* only = nullptr) REQUIRES(mu) {
    if (held.empty()) return false;
    bool dropped = false;
    for (auto it = held.begin(); it != held.end();) {
      const RunRequest& request = it->request;
      const size_t index = it->slot;
      if (&slots[index] != &slot || (scheduled_only && request.occurrence_us == 0) ||
          (only != nullptr && request.run_id != *only)) {
        ++it;
        continue;
      }
      Refuse(slot, request.run_id, request.occurrence_us, now_us, reason);
      if (auto active = FindActive(slot, request.run_id); active != slot.active.end()) {
        slot.active.erase(active);
        RunLeft(index);
      }
      it = held.erase(it);
      dropped = true;
    }
    if (held.empty()) {
      launch_retry_us = kNever;
      launch_failures = 0;
    }
    return dropped;
  }

  // The launches an outage held, back in `launches` once their backoff has passed.
  void RetryHeldLaunches(int64_t now_us, std::vector<Launch>& launches) REQUIRES(mu) {
    if (launch_retry_us > now_us) return;
    launch_retry_us = kNever;
    for (Launch& launch : std::exchange(held, {})) {
      // The store may have taken an admission whose answer the outage lost (a connection cut
      // after its COMMIT): the run is then there, queued, and starts as admitted rather than
      // being refused as a duplicate of itself and left queued with nobody to run it.
      if (launch.request.admitted == nullptr && launch.request.resume == nullptr) {
        Result<std::optional<RunRecord>> stored = store.GetRun(launch.request.run_id);
        if (stored.ok() && stored->has_value() && (*stored)->status == RunStatus::kQueued) {
          launch.request.admitted = std::make_shared<const RunRecord>(std::move(**stored));
        }
      }
      launches.push_back(std::move(launch));
    }
  }

  // Stopping: what an outage held will not start; its run slot is freed.
  void DropHeldLaunches(int64_t now_us) REQUIRES(mu) {
    launch_retry_us = kNever;
    for (Launch& launch : std::exchange(held, {})) {
      Slot& slot = slots[launch.slot];
      Refuse(slot, launch.request.run_id, launch.request.occurrence_us, now_us,
             "the scheduler is stopping; the state store had not answered for " +
                 std::to_string((now_us - launch.outage_since_us) / 1'000'000) + " s");
      if (auto active = FindActive(slot, launch.request.run_id); active != slot.active.end()) {
        slot.active.erase(active);
        RunLeft(launch.slot);
      }
    }
  }

  void OnRunEnded(size_t index, const RunId& run_id) EXCLUDES(mu) {
    // Notifies with the lock held: once Stop sees the last run gone it may destroy the scheduler.
    MutexLock lock(mu);
    Slot& slot = slots[index];
    auto active = FindActive(slot, run_id);
    if (active == slot.active.end()) return;
    slot.active.erase(active);
    RunLeft(index);
  }

  // Until the scheduler thread's tick has committed its records: what saves records outside it
  // (SetPaused, UpdateJobs, SetSchedulerPaused) must not be overwritten by that commit's older
  // copies.
  void AwaitTickCommit() REQUIRES(mu) {
    while (tick_commit) tick_commit_cv.Wait(mu);
  }

  bool DueLocked() const REQUIRES(mu) {
    return std::min({next_due_us, record_retry_us, launch_retry_us}) <= clock.NowMicros();
  }

  void Loop() EXCLUDES(mu) {
    MutexLock lock(mu);
    while (!stopping) {
      wake = false;
      std::vector<Launch> launches;
      // As many as the last pass launched: growing the vector one doubling at a time while a
      // thousand fires are stamped cost the tick about a tenth of its time before the stamp
      // (perf: malloc_consolidate under StartRun).
      launches.reserve(launch_hint);
      for (size_t index : std::exchange(ready, {})) StartWaiting(index, launches);
      const int64_t now_us = clock.NowMicros();
      RetryHeldLaunches(now_us, launches);
      FireDue(now_us, launches);
      launch_hint = launches.size();
      const std::vector<size_t> fired_slots = std::exchange(tick_slots, {});
      const std::vector<JobRecord> records = TickRecords(fired_slots, now_us);
      RetryUnsavedRecords(now_us);
      tick_commit = !records.empty();
      mu.Unlock();
      Status records_saved;
      SchedulerPass pass{.now_us = now_us,
                         .wakeups = wakeups.load(std::memory_order_relaxed),
                         .launched = LaunchAll(launches, nullptr, records, &records_saved)};
      if (!records.empty()) {
        MutexLock lock_for_records(mu);
        RecordsSaved(fired_slots, records_saved, now_us);
        tick_commit = false;
        tick_commit_cv.SignalAll();
      }
      // Freed now, not after the wait: 1,000 launches take milliseconds to free, which the next
      // tick's fires would wait for.
      std::vector<Launch>().swap(launches);
      if (options.on_pass) options.on_pass(pass);
      if (options.heartbeat) options.heartbeat();
      mu.Lock();
      if (stopping || wake || !ready.empty() || DueLocked()) continue;
      Wait(now_us);
      wakeups.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // Returns when stopping, woken, the next fire time (as it was when called) has come, or the
  // watchdog's heartbeat is due: one interval after the pass at `pass_us`, counted from the pass
  // and not from now, so a clock that moved since the pass cannot push the beat away.
  void Wait(int64_t pass_us) REQUIRES(mu) {
    int64_t deadline_us = std::min({next_due_us, record_retry_us, launch_retry_us});
    if (options.heartbeat && options.heartbeat_interval_us > 0) {
      deadline_us = std::min(deadline_us, pass_us + options.heartbeat_interval_us);
    }
    sleeping = true;
    sleeping_until_us = deadline_us;
    if (options.on_idle) options.on_idle();
    while (!stopping && !wake) {
      if (clock_waiter->WaitUntil(mu, deadline_us)) break;
    }
    sleeping = false;
  }

  // UpdateJobs, with mu held.

  static bool SameSchedule(const Job& a, const Job& b) {
    if (a.enabled != b.enabled || a.schedule.has_value() != b.schedule.has_value()) return false;
    return !a.schedule || (a.schedule->expression() == b.schedule->expression() &&
                           a.schedule->time_zone() == b.schedule->time_zone());
  }

  // A changed schedule starts from now: what it would have fired up to now counts as dealt with.
  void Rearm(size_t index, int64_t now_us) REQUIRES(mu) {
    Slot& slot = slots[index];
    Unschedule(slot);
    if (!Schedulable(slot)) return;
    const int64_t latest = internal::LatestOccurrence(*slot.job->schedule, 0, now_us).value_or(0);
    if (latest > slot.record.last_fire_us) {
      slot.record.last_fire_us = latest;
      SaveRecord(slot, now_us);
    }
    PushNext(index, std::max(now_us, slot.record.last_fire_us));
  }

  // A job new to this scheduler, as Start arms one.
  void ArmNew(size_t index, int64_t now_us, std::vector<Launch>& launches) REQUIRES(mu) {
    Slot& slot = slots[index];
    Result<std::optional<JobRecord>> record = store.GetJob(slot.job->id);
    if (!record.ok()) {
      last_store_error = record.status().WithContext("reading the schedule state of job '" +
                                                     slot.job->id.str() + "'");
    } else if (record->has_value()) {
      slot.record = **record;
      Arm(index, now_us, launches);
      return;
    }
    if (!Schedulable(slot)) return;
    slot.record.last_fire_us =
        internal::LatestOccurrence(*slot.job->schedule, 0, now_us).value_or(0);
    SaveRecord(slot, now_us);
    Arm(index, now_us, launches);
  }

  Clock& clock;
  StateStore& store;
  RunLauncher& launcher;
  EventBus* const events;
  const SchedulerOptions options;
  std::unordered_map<JobId, size_t> index_of;  // guarded by mu; grows with UpdateJobs

  mutable Mutex mu;
  CondVar cv{mu};       // wake, stopping or ready changed: the scheduler thread waits
  CondVar runs_cv{mu};  // active_runs reached 0: Stop waits
  // Added to by UpdateJobs, never removed (a deque: slots never move, so a run's end finds its
  // slot by index).
  std::deque<Slot> slots GUARDED_BY(mu);
  std::priority_queue<HeapEntry, std::vector<HeapEntry>, std::greater<>> heap GUARDED_BY(mu);
  int64_t next_due_us GUARDED_BY(mu) = kNever;  // heap top, kNever when empty
  std::vector<size_t> ready GUARDED_BY(mu);     // slots whose runs ended with work waiting
  bool wake GUARDED_BY(mu) = false;             // the scheduler thread has work
  bool sleeping GUARDED_BY(mu) = false;         // the scheduler thread is in Wait (IdleUntil)
  int64_t sleeping_until_us GUARDED_BY(mu) = kNever;
  bool started GUARDED_BY(mu) = false;
  bool stopping GUARDED_BY(mu) = false;
  bool stopped GUARDED_BY(mu) = false;
  bool paused GUARDED_BY(mu) = false;  // the whole scheduler (SchedulerRecord.paused)
  uint64_t active_runs GUARDED_BY(mu) = 0;
  uint64_t fired GUARDED_BY(mu) = 0;
  uint64_t refused GUARDED_BY(mu) = 0;
  Status last_store_error GUARDED_BY(mu);
  // When to save the records an outage kept from the store again; kNever when none waits.
  int64_t record_retry_us GUARDED_BY(mu) = kNever;
  uint32_t record_failures GUARDED_BY(mu) = 0;
  const StoreOutagePolicy outage_policy;  // its backoff paces those saves and held launches
  // Launches the store could not admit for an outage (LaunchAll), tried again from the scheduler
  // thread at launch_retry_us until the outage limit from their first failure. Their runs stay
  // in their slots' `active` meanwhile: the job's next occurrences see them as running.
  std::vector<Launch> held GUARDED_BY(mu);
  int64_t launch_retry_us GUARDED_BY(mu) = kNever;
  uint32_t launch_failures GUARDED_BY(mu) = 0;
  std::atomic<uint64_t> wakeups{0};
  // FireDue's fired slots, whose records Loop saves in the commit that admits their runs.
  std::vector<size_t> tick_slots GUARDED_BY(mu);
  // The scheduler thread is saving its tick's records, outside the lock; AwaitTickCommit waits on
  // tick_commit_cv for it to become false.
  bool tick_commit GUARDED_BY(mu) = false;
  CondVar tick_commit_cv{mu};

  // Wakes the scheduler thread for the next fire time; emplaced by Start, reset by Stop, and
  // used by the scheduler thread in between (it takes mu when the clock moves).
  std::optional<internal::ClockWaiter> clock_waiter;  // owner thread only (Start, Stop)
  std::thread thread;                                 // owner thread only
  size_t launch_hint = 0;  // launches of the scheduler thread's last pass; that thread only
};

Scheduler::Scheduler(std::vector<std::shared_ptr<const Job>> jobs, Clock& clock, StateStore& store,
                     RunLauncher& launcher, EventBus* events, SchedulerOptions options)
    : impl_(std::make_unique<Impl>(std::move(jobs), clock, store, launcher, events,
                                   std::move(options))) {}

Scheduler::~Scheduler() { Stop(StopMode::kCancelRuns); }

Status Scheduler::Start(std::span<const ResumeRequest> resume_first) {
  Impl& impl = *impl_;
  std::vector<Impl::Launch> launches;
  {
    MutexLock lock(impl.mu);
    assert(!impl.started && "Scheduler::Start is called once");
    Result<SchedulerRecord> scheduler = impl.store.GetScheduler();
    if (!scheduler.ok()) {
      return scheduler.status().WithContext("reading the state of the scheduler");
    }
    impl.paused = scheduler->paused;
    std::vector<bool> known(impl.slots.size(), false);
    for (size_t index = 0; index < impl.slots.size(); ++index) {
      Impl::Slot& slot = impl.slots[index];
      Result<std::optional<JobRecord>> record = impl.store.GetJob(slot.job->id);
      if (!record.ok()) {
        return record.status().WithContext("reading the schedule state of job '" +
                                           slot.job->id.str() + "'");
      }
      if (!record->has_value()) continue;
      slot.record = **record;
      known[index] = true;
    }
    const int64_t now_us = impl.clock.NowMicros();
    for (const ResumeRequest& request : resume_first) {
      auto it = impl.index_of.find(request.job);
      if (it == impl.index_of.end()) {
        // The caller resumes only jobs it defines; a run it took over must not stay active.
        if (request.taken_over != nullptr) {
          (void)impl.store.MarkInterrupted(request.run, "not resumed: its job is unknown", now_us);
        }
        continue;
      }
      Impl::Slot& slot = impl.slots[it->second];
      if (!impl.HasRoom(slot)) {
        const std::string reason = "not resumed: " + impl.Busy(slot);
        // A run taken over is still active in the store: it ends interrupted, as said.
        if (request.taken_over != nullptr) {
          (void)impl.store.MarkInterrupted(request.run, reason, now_us);
        }
        impl.Refuse(slot, request.run, 0, now_us, reason + " (the run stays interrupted)");
        continue;
      }
      impl.StartRun(it->second,
                    Impl::Waiting{request.run, std::string(kTriggerRecovery), 0, request.resume,
                                  request.taken_over},
                    launches);
    }
    for (size_t index = 0; index < impl.slots.size(); ++index) {
      Impl::Slot& slot = impl.slots[index];
      // A paused scheduler still records first sight, so that resuming it catches up from here.
      if (!impl.JobSchedulable(slot)) continue;
      if (!known[index]) {
        // First sight: whatever fell due before now was never this scheduler's to run.
        slot.record.last_fire_us =
            internal::LatestOccurrence(*slot.job->schedule, 0, now_us).value_or(0);
        impl.SaveRecord(slot, now_us);
      }
      impl.Arm(index, now_us, launches);
    }
    impl.started = true;
  }
  impl.LaunchAll(launches);
  impl.clock_waiter.emplace(impl.clock, impl.mu, impl.cv);
  impl.thread = std::thread([&impl] {
    if (impl.options.on_thread_start) impl.options.on_thread_start();
    impl.Loop();
  });
  return Status::Ok();
}

void Scheduler::Stop(StopMode mode) {
  Impl& impl = *impl_;
  {
    MutexLock lock(impl.mu);
    if (!impl.started || impl.stopped) return;
    impl.stopping = true;
    impl.cv.SignalAll();
  }
  if (impl.thread.joinable()) impl.thread.join();
  impl.clock_waiter.reset();
  MutexLock lock(impl.mu);
  const int64_t now_us = impl.clock.NowMicros();
  impl.DropHeldLaunches(now_us);
  for (Impl::Slot& slot : impl.slots) {
    impl.Unschedule(slot);
    impl.DropWaiting(slot, now_us, "the scheduler is stopping");
    if (mode != StopMode::kCancelRuns) continue;
    for (Impl::ActiveRun& run : slot.active) {
      run.cancel_requested = true;
      if (run.handle) run.handle->Cancel();
    }
  }
  while (impl.active_runs != 0) impl.runs_cv.Wait(impl.mu);
  impl.stopped = true;
}

void Scheduler::CancelActiveRuns() {
  Impl& impl = *impl_;
  MutexLock lock(impl.mu);
  for (Impl::Slot& slot : impl.slots) {
    for (Impl::ActiveRun& run : slot.active) {
      run.cancel_requested = true;
      if (run.handle) run.handle->Cancel();
    }
  }
}

Status Scheduler::Cancel(const RunId& run) {
  Impl& impl = *impl_;
  MutexLock lock(impl.mu);
  for (Impl::Slot& slot : impl.slots) {
    // Held by an outage: it never starts.
    if (impl.DropHeld(slot, impl.clock.NowMicros(), "cancelled before it started",
                      /*scheduled_only=*/false, &run)) {
      return Status::Ok();
    }
    if (auto active = impl.FindActive(slot, run); active != slot.active.end()) {
      if (active->cancel_requested) return Status::Ok();
      active->cancel_requested = true;
      if (active->handle) active->handle->Cancel();
      return Status::Ok();
    }
    constexpr std::string_view kReason = "cancelled before it started";
    const int64_t now_us = impl.clock.NowMicros();
    if (slot.queued && slot.queued->run_id == run) {
      impl.Refuse(slot, run, slot.queued->occurrence_us, now_us, kReason);
      slot.queued.reset();
      return Status::Ok();
    }
    auto waiting = std::find_if(slot.backlog.begin(), slot.backlog.end(),
                                [&](const Impl::Waiting& w) { return w.run_id == run; });
    if (waiting != slot.backlog.end()) {
      impl.Refuse(slot, run, waiting->occurrence_us, now_us, kReason);
      slot.backlog.erase(waiting);
      return Status::Ok();
    }
  }
  return NotFound("run " + run.str() + " is not active in this scheduler");
}

Result<RunId> Scheduler::Trigger(const JobId& job) {
  return Submit(job, std::nullopt, nullptr, kTriggerManual);
}

Result<RunId> Scheduler::Trigger(const JobId& job, const TriggerOptions& options) {
  return Submit(job, std::nullopt, nullptr, options.trigger,
                options.config.empty() ? nullptr : &options.config);
}

Result<RunId> Scheduler::Retry(const JobId& job, const RunId& run,
                               std::shared_ptr<const RunResumption> resume,
                               std::string_view trigger) {
  return Submit(job, run, std::move(resume), trigger);
}

Result<RunId> Scheduler::Submit(const JobId& job, std::optional<RunId> existing,
                                std::shared_ptr<const RunResumption> resume,
                                std::string_view trigger, const ValueMap* config) {
  Impl& impl = *impl_;
  const char* what = existing ? "retried" : "triggered";
  std::vector<Impl::Launch> launches;
  RunId run_id;
  {
    MutexLock lock(impl.mu);
    auto it = impl.index_of.find(job);
    if (it == impl.index_of.end() || impl.slots[it->second].removed) {
      std::vector<std::string_view> names;
      for (const auto& [id, index] : impl.index_of) {
        if (!impl.slots[index].removed) names.push_back(id.str());
      }
      std::sort(names.begin(), names.end());
      std::string message = "no job '" + job.str() + "'";
      if (auto close = ClosestMatch(job.str(), names))
        message += " (did you mean '" + *close + "'?)";
      return NotFound(message);
    }
    const size_t index = it->second;
    Impl::Slot& slot = impl.slots[index];
    const int64_t now_us = impl.clock.NowMicros();
    run_id = existing ? *existing : impl.NewRunId(now_us);
    if (!impl.started || impl.stopping) {
      const char* reason =
          impl.stopping ? "the scheduler is stopping" : "the scheduler is not running";
      impl.Refuse(slot, run_id, 0, now_us, reason);
      return FailedPrecondition("job '" + job.str() + "' not " + what + ": " + reason);
    }
    std::shared_ptr<const Job> overridden;
    if (config != nullptr) {
      const ValueMap& known = *slot.job->config;
      for (const auto& [key, value] : *config) {
        if (known.contains(key)) continue;
        std::vector<std::string_view> keys;
        for (const auto& [name, unused] : known) keys.push_back(name);
        std::string message = "job '" + job.str() + "' has no config key '" + key + "'";
        if (auto close = ClosestMatch(key, keys)) message += " (did you mean '" + *close + "'?)";
        return InvalidArgument(message);
      }
      auto merged = std::make_shared<ValueMap>(known);
      for (const auto& [key, value] : *config) (*merged)[key] = value;
      auto copy = std::make_shared<Job>(*slot.job);
      copy->config = std::move(merged);
      overridden = std::move(copy);
    }
    Impl::Waiting waiting{run_id,  std::string(trigger), 0, std::move(resume),
                          nullptr, std::move(overridden)};
    Impl::Admitted admitted = impl.Admit(index, std::move(waiting), now_us, launches);
    if (admitted.refusal) {
      impl.Refuse(slot, run_id, 0, now_us, *admitted.refusal);
      return FailedPrecondition("job '" + job.str() + "' not " + what + ": " + *admitted.refusal);
    }
  }
  Status failure;
  impl.LaunchAll(launches, &failure);
  if (!failure.ok()) return failure;
  return run_id;
}

Status Scheduler::SetPaused(const JobId& job, bool paused) {
  Impl& impl = *impl_;
  std::vector<Impl::Launch> launches;
  {
    MutexLock lock(impl.mu);
    auto it = impl.index_of.find(job);
    if (it == impl.index_of.end() || impl.slots[it->second].removed) {
      return NotFound("no job '" + job.str() + "'");
    }
    if (!impl.started || impl.stopping) {
      return FailedPrecondition("the scheduler is not running");
    }
    impl.AwaitTickCommit();
    const size_t index = it->second;
    Impl::Slot& slot = impl.slots[index];
    if (slot.record.paused == paused) return Status::Ok();
    const int64_t now_us = impl.clock.NowMicros();
    JobRecord changed = slot.record;
    changed.paused = paused;
    changed.updated_us = now_us;
    PETIT_RETURN_IF_ERROR(impl.store.SaveJob(changed));
    slot.record = changed;
    if (paused) {
      impl.Unschedule(slot);
      impl.DropWaiting(slot, now_us, "the job was paused");
      impl.next_due_us = impl.heap.empty() ? kNever : impl.heap.top().fire_us;
      return Status::Ok();
    }
    impl.Arm(index, now_us, launches);
    impl.wake = true;
    impl.cv.Signal();
  }
  impl.LaunchAll(launches);
  return Status::Ok();
}

Status Scheduler::UpdateJobs(std::vector<std::shared_ptr<const Job>> jobs) {
  Impl& impl = *impl_;
  std::vector<Impl::Launch> launches;
  {
    MutexLock lock(impl.mu);
    if (!impl.started || impl.stopping) return FailedPrecondition("the scheduler is not running");
    impl.AwaitTickCommit();
    const int64_t now_us = impl.clock.NowMicros();
    std::vector<bool> listed(impl.slots.size(), false);
    for (std::shared_ptr<const Job>& job : jobs) {
      assert(job != nullptr);
      auto [it, inserted] = impl.index_of.emplace(job->id, impl.slots.size());
      const size_t index = it->second;
      if (inserted) {
        Impl::Slot& slot = impl.slots.emplace_back();
        listed.push_back(true);
        slot.record.id = job->id;
        slot.job = std::move(job);
        impl.ArmNew(index, now_us, launches);
        continue;
      }
      assert(!listed[index] && "job ids must be unique");
      listed[index] = true;
      Impl::Slot& slot = impl.slots[index];
      const bool rearm = slot.removed || !Impl::SameSchedule(*slot.job, *job);
      slot.removed = false;
      slot.job = std::move(job);
      if (rearm) impl.Rearm(index, now_us);
    }
    for (size_t index = 0; index < listed.size(); ++index) {
      Impl::Slot& slot = impl.slots[index];
      if (listed[index] || slot.removed) continue;
      slot.removed = true;
      impl.Unschedule(slot);
      impl.DropWaiting(slot, now_us, "the job was removed");
    }
    impl.next_due_us = impl.heap.empty() ? kNever : impl.heap.top().fire_us;
    impl.wake = true;
    impl.cv.Signal();
  }
  impl.LaunchAll(launches);
  return Status::Ok();
}

Status Scheduler::SetSchedulerPaused(bool paused) {
  Impl& impl = *impl_;
  std::vector<Impl::Launch> launches;
  {
    MutexLock lock(impl.mu);
    if (!impl.started || impl.stopping) {
      return FailedPrecondition("the scheduler is not running");
    }
    impl.AwaitTickCommit();
    if (impl.paused == paused) return Status::Ok();
    const int64_t now_us = impl.clock.NowMicros();
    PETIT_RETURN_IF_ERROR(
        impl.store.SaveScheduler(SchedulerRecord{.paused = paused, .updated_us = now_us}));
    impl.paused = paused;
    if (paused) {
      for (Impl::Slot& slot : impl.slots) {
        impl.Unschedule(slot);
        impl.DropScheduledWaiting(slot, now_us, "the scheduler was paused");
      }
      impl.heap = {};
      impl.next_due_us = kNever;
      return Status::Ok();
    }
    for (size_t index = 0; index < impl.slots.size(); ++index) impl.Arm(index, now_us, launches);
    impl.wake = true;
    impl.cv.Signal();
  }
  impl.LaunchAll(launches);
  return Status::Ok();
}

std::optional<int64_t> Scheduler::NextFire(const JobId& job) const {
  const Impl& impl = *impl_;
  MutexLock lock(impl.mu);
  auto it = impl.index_of.find(job);
  if (it == impl.index_of.end() || !impl.started || impl.stopping) return std::nullopt;
  if (impl.slots[it->second].removed) return std::nullopt;
  const int64_t next = impl.slots[it->second].next_fire_us;
  if (next == 0) return std::nullopt;
  return next;
}

std::vector<Scheduler::JobState> Scheduler::JobStates() const {
  const Impl& impl = *impl_;
  std::vector<JobState> states;
  MutexLock lock(impl.mu);
  if (!impl.started || impl.stopping) return states;
  states.reserve(impl.slots.size());
  for (const Impl::Slot& slot : impl.slots) {
    if (slot.removed) continue;
    JobState& state = states.emplace_back();
    state.job = slot.job->id;
    state.paused = slot.record.paused;
    if (slot.next_fire_us != 0) state.next_fire_us = slot.next_fire_us;
  }
  return states;
}

SchedulerStats Scheduler::stats() const {
  const Impl& impl = *impl_;
  MutexLock lock(impl.mu);
  return SchedulerStats{.wakeups = impl.wakeups.load(std::memory_order_relaxed),
                        .fired = impl.fired,
                        .refused = impl.refused,
                        .active_runs = impl.active_runs,
                        .paused = impl.paused,
                        .queued_fire_times = impl.heap.size(),
                        .last_store_error = impl.last_store_error};
}

std::optional<int64_t> Scheduler::IdleUntil() const {
  const Impl& impl = *impl_;
  MutexLock lock(impl.mu);
  if (!impl.sleeping || impl.wake || impl.stopping || !impl.ready.empty() || impl.DueLocked() ||
      impl.clock.NowMicros() >= impl.sleeping_until_us) {
    return std::nullopt;
  }
  return std::min(
      {impl.sleeping_until_us, impl.next_due_us, impl.record_retry_us, impl.launch_retry_us});
}

}  // namespace petit
