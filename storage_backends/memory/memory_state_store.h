// MemoryStateStore: the reference StateStore, kept in this process only.
//
// It defines the behaviour the SQL backends must match (the conformance suite runs against all
// of them): unknown runs are kNotFound on update, attempt and log writes; duplicate runs and log
// chunks are kAlreadyExists. Nothing survives the object. The rarely called queries
// (ListIncompleteRuns, LastRun) and the filters of QueryRuns scan every run; the SQL backends
// answer them from indexes.
//
// Threads: every method may be called from any thread; one mutex serialises all of them.
#ifndef PETIT_STORAGE_MEMORY_MEMORY_STATE_STORE_H_
#define PETIT_STORAGE_MEMORY_MEMORY_STATE_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "memory/attempt_table.h"
#include "petit/core/mutex.h"
#include "petit/core/state_store.h"
#include "petit/core/thread_annotations.h"

namespace petit::storage::internal {

class MemoryStateStore final : public StateStore {
 public:
  MemoryStateStore() = default;

  Status CreateRun(const RunRecord& run) override;
  Result<RunAdmission> AdmitRun(const RunRecord& run, uint32_t max_active_runs) override;
  // Under one hold of the mutex: no other writer sees the admissions without the jobs.
  AdmissionCommit AdmitRunsAndSaveJobs(std::span<const RunToAdmit> runs,
                                       std::span<const JobRecord> jobs) override;
  Status UpdateRun(const RunRecord& run) override;
  Result<std::optional<RunRecord>> GetRun(const RunId& id) override;
  Result<std::vector<RunRecord>> ListRuns(const JobId& job, size_t limit) override;
  Result<RunPage> QueryRuns(const RunQuery& query) override;

  Status SaveAttempts(std::span<const AttemptRecord> attempts) override;
  // The two steps, once the run to update is known to exist (runs are never removed), so that
  // an error of either leaves both unchanged.
  Status SaveAttemptsAndUpdateRun(std::span<const AttemptRecord> attempts,
                                  const RunRecord& run) override;
  Result<std::vector<AttemptRecord>> ListAttempts(const RunId& run) override;

  Status AppendLog(const LogChunk& chunk) override;
  Result<std::vector<LogChunk>> ReadLogs(const RunId& run, const LogQuery& query) override;

  Result<std::vector<RunRecord>> ListIncompleteRuns() override;
  Status MarkInterrupted(const RunId& run, std::string_view reason, int64_t ended_us) override;
  Result<std::vector<::petit::AttemptKey>> InterruptStrandedAttempts(std::string_view reason,
                                                                     int64_t ended_us) override;
  Status ReopenRun(const RunId& run, std::string_view owner, int64_t reopened_us) override;
  Result<RunAdmission> AdmitReopen(const RunId& run, std::string_view owner, int64_t reopened_us,
                                   uint32_t max_active_runs) override;
  Result<bool> TakeOverRun(const RunId& run, std::string_view dead_owner,
                           std::string_view new_owner, std::string_view reason,
                           int64_t now_us) override;
  Result<std::optional<RunRecord>> LastRun(const JobId& job, std::span<const RunStatus> statuses,
                                           int64_t ended_since_us) override;

  Status SaveJob(const JobRecord& job) override;
  Result<std::optional<JobRecord>> GetJob(const JobId& id) override;
  Result<std::vector<JobRecord>> ListJobs() override;

  Status SaveScheduler(const SchedulerRecord& scheduler) override;
  Result<SchedulerRecord> GetScheduler() override;

  Result<std::unique_ptr<HostLock>> AcquireHostLock(std::string_view owner) override;

 private:
  class HeldHostLock;
  using LogKey = std::tuple<TaskId, uint32_t, uint32_t>;  // task, attempt, seq
  using NewestFirstKey = std::pair<int64_t, RunId>;       // created_us, id
  using OccurrenceKey = std::pair<JobId, int64_t>;        // job, occurrence_us
  using ActiveKey = std::tuple<JobId, int64_t, RunId>;    // job, created_us, id

  struct RunEntry {
    RunRecord record;
    // Hashed: a run of 100,000 tasks writes each attempt twice, and a tree of string keys made
    // that O(log n) string compares (cache misses, mostly) each time. ListAttempts sorts. The
    // records' `run` is left empty (it is record.id).
    AttemptTable attempts;
    std::map<LogKey, LogChunk> logs;
  };

  // Inserts the normalised `run`; kAlreadyExists for a known id or occurrence.
  Status InsertRun(RunRecord&& run) REQUIRES(mu_);
  // AdmitRun on the normalised `run`.
  Result<RunAdmission> AdmitLocked(RunRecord&& run, uint32_t max_active_runs) REQUIRES(mu_);
  // The job's runs queued or running: how many, and the newest.
  RunAdmission CountActive(const JobId& job, uint32_t max_active_runs) REQUIRES(mu_);
  // Reopens the run of `entry`, as ReopenRun does.
  Status Reopen(RunEntry& entry, std::string&& owner, int64_t reopened_us) REQUIRES(mu_);
  // The stored run of `id`, or null. Runs are never removed, so an entry's address is stable.
  RunEntry* FindRun(const RunId& id) REQUIRES(mu_);
  // Sets the status of a stored run, keeping active_ in step.
  void SetStatus(RunRecord& record, RunStatus status) REQUIRES(mu_);

  Mutex mu_;
  std::unordered_map<RunId, RunEntry> runs_ GUARDED_BY(mu_);
  // The entry FindRun found last: a run's attempts are saved a few at a time, over and over, and
  // comparing its id costs less than hashing it.
  RunEntry* last_found_ GUARDED_BY(mu_) = nullptr;
  std::set<NewestFirstKey, std::greater<NewestFirstKey>> newest_first_ GUARDED_BY(mu_);
  // The run of each schedule occurrence that has one.
  std::map<OccurrenceKey, RunId> occurrences_ GUARDED_BY(mu_);
  // The runs still queued or running, by job, oldest first: what admission counts.
  std::set<ActiveKey> active_ GUARDED_BY(mu_);
  std::map<JobId, JobRecord> jobs_ GUARDED_BY(mu_);
  SchedulerRecord scheduler_ GUARDED_BY(mu_);
  std::string host_lock_owner_ GUARDED_BY(mu_);  // empty while no HostLock lives
};

}  // namespace petit::storage::internal

#endif  // PETIT_STORAGE_MEMORY_MEMORY_STATE_STORE_H_
