// StateStore: where runs, task attempts and captured output are recorded (a port; backends in
// storage_backends/ implement it, chosen by URI).
//
// Every method is a synchronous, durable write or a consistent read: when a write returns OK, the
// record survives a crash of this process. Implementations are thread-safe: any method may be
// called from any thread, concurrently; each says how it serialises writers.
// Times are int64 microseconds since the Unix epoch; 0 means "not yet".
//
// Every backend behaves alike (the conformance suite in tests/storage_backends checks it):
// CreateRun of an existing id, or of a second run for one schedule occurrence, is kAlreadyExists;
// UpdateRun of an unknown id is kNotFound; a limit of 0 lists nothing. Outputs and log data
// round-trip byte for byte; free text (trigger, error) is stored as valid UTF-8, with invalid bytes
// and NUL replaced by U+FFFD.
#ifndef PETIT_CORE_STATE_STORE_H_
#define PETIT_CORE_STATE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "petit/core/context.h"
#include "petit/core/dag.h"
#include "petit/core/ids.h"
#include "petit/core/states.h"
#include "petit/core/status.h"
#include "petit/core/task_runner.h"

namespace petit {

struct RunRecord {
  RunId id;
  JobId job;
  RunStatus status = RunStatus::kQueued;
  std::string trigger = "manual";  // "manual", "schedule", "api", ...
  // The host process that drives the run, "<hostname>/<pid>/<process start time>": recovery
  // interrupts only runs whose owner is dead. Empty for runs no process owns.
  std::string owner;
  int64_t created_us = 0;
  int64_t started_us = 0;
  int64_t ended_us = 0;
  std::string error;
  // How often the run was reopened (retried, or continued after its host died), and when last;
  // 0 for a run that never was.
  uint32_t retries = 0;
  int64_t retried_us = 0;
  // The schedule occurrence (its nominal fire time) the run stands for: trigger "schedule" or
  // "catch_up"; 0 for every other run. A store holds at most one run per (job, occurrence), so
  // two hosts that fire the same occurrence cannot both run it.
  int64_t occurrence_us = 0;
};

// The store's answer to AdmitRun: the run was created, or why not. A refusal is an answer, not a
// failure: it changed nothing.
struct RunAdmission {
  enum class Verdict : uint8_t {
    kAdmitted,
    kAtLimit,          // the job already had max_active_runs runs queued or running
    kOccurrenceTaken,  // a run of the job stands for that occurrence already
  };
  Verdict verdict = Verdict::kAdmitted;
  // kAtLimit: the job's runs queued or running, the limit, and the newest of those runs.
  uint32_t active_runs = 0;
  uint32_t max_active_runs = 0;
  // kAtLimit: the newest active run; kOccurrenceTaken: the run of the occurrence, and its owner.
  RunId other{};
  std::string other_owner{};

  bool admitted() const { return verdict == Verdict::kAdmitted; }
  // For a refusal, one line for a user: "refused: 1 active run of max 1 (newest 0190...)" or
  // "refused: the occurrence already has run 0190... (created by host/12/34)". Empty if admitted.
  std::string Describe() const;
};

// One new run for StateStore::AdmitRuns: AdmitRun's arguments.
struct RunToAdmit {
  RunRecord run;
  uint32_t max_active_runs = 0;
};

// StateStore::AdmitRunsAndSaveJobs's answer.
struct AdmissionCommit {
  std::vector<Result<RunAdmission>> admissions{};  // one per run, as AdmitRuns answers
  Status jobs_saved{};                             // as SaveJobs answers
};

// Where a page of runs ends: the last run of the page, by its place in the newest-first order
// (created_us, then id). The next page holds the runs strictly before it in that order, so runs
// created while a client pages (all newer) never shift the pages still to come.
struct RunCursor {
  int64_t created_us = 0;
  RunId id;

  friend bool operator==(const RunCursor&, const RunCursor&) = default;
};

// A filtered page of runs, newest first (created_us, then id, both descending).
struct RunQuery {
  JobId job{};                        // empty = every job
  std::vector<RunStatus> statuses{};  // a run in any of these; empty = every status
  // Creation time in [since_us, until_us); no bound where absent.
  std::optional<int64_t> since_us{};
  std::optional<int64_t> until_us{};
  size_t limit = 100;
  // The `next` of the previous page; absent for the first page.
  std::optional<RunCursor> after{};
};

struct RunPage {
  std::vector<RunRecord> runs{};
  // Where the next page starts; absent when no run matching the query follows this page.
  std::optional<RunCursor> next{};
};

// The cursor as an opaque, URL-safe string (what the HTTP API hands out), and back. Decoding
// anything EncodeRunCursor did not make (empty, truncated, altered) is kInvalidArgument.
std::string EncodeRunCursor(const RunCursor& cursor);
Result<RunCursor> DecodeRunCursor(std::string_view text);

// One attempt of one task; (run, task, attempt) is the key. Attempt 0 records a task that never
// ran (skipped, upstream_failed) so every task of a run has at least one row.
struct AttemptRecord {
  RunId run;
  TaskId task;
  uint32_t attempt = 0;
  TaskState state = TaskState::kPending;
  int64_t queued_us = 0;
  int64_t started_us = 0;
  int64_t ended_us = 0;
  std::optional<int32_t> exit_code;
  std::string error;
  ValueMap outputs;
};

// Names one attempt: what InterruptStrandedAttempts reports.
struct AttemptKey {
  RunId run;
  TaskId task;
  uint32_t attempt = 0;
};

// What the store keeps about a job between host restarts (its definition lives in YAML).
struct JobRecord {
  JobId id;
  bool paused = false;
  // The latest schedule occurrence the scheduler has dealt with (fired, skipped or caught up);
  // catch-up after a restart starts after it. 0 = never.
  int64_t last_fire_us = 0;
  int64_t updated_us = 0;
};

// What the store keeps about the scheduler as a whole between host restarts.
struct SchedulerRecord {
  // A paused scheduler fires no schedule of any job (manual triggers still run); on resume each
  // job catches up per its policy, as a paused job does.
  bool paused = false;
  int64_t updated_us = 0;
};

// A page of captured output: chunks of `task` (empty = every task) and `attempt` (0 = every
// attempt) after position `after` (chunks are ordered by (task, attempt, seq); pass the last
// chunk of the previous page, or nothing for the first page), at most `limit` of them.
struct LogQuery {
  TaskId task;
  uint32_t attempt = 0;
  struct Position {
    TaskId task;
    uint32_t attempt = 0;
    uint32_t seq = 0;
  };
  std::optional<Position> after;
  size_t limit = 1000;
};

struct LogChunk {
  RunId run;
  TaskId task;
  uint32_t attempt = 0;
  OutputStream stream = OutputStream::kStdout;
  uint32_t seq = 0;  // per (run, task, attempt), from 0
  std::string data;
};

// HostLock: proof that one process is the host of a store, the one `petit run` allowed to fire
// its schedules (until several hosts can share a store). Destroying it releases the lock; so does
// the death of the process that holds it, SIGKILL included, so a crash never leaves the store
// locked. It must be destroyed before the store that made it; it may be destroyed on any thread.
class HostLock {
 public:
  virtual ~HostLock() = default;
};

class StateStore {
 public:
  virtual ~StateStore() = default;

  // Creates `run` as it is, whatever else the job has running (AdmitRun is what starts a run).
  virtual Status CreateRun(const RunRecord& run) = 0;
  // Admission of a new run, atomically in the store, so that it holds across processes: `run`
  // is created (as CreateRun does) only if
  //   - run.occurrence_us is 0, or no run of run.job stands for that occurrence (else
  //     kOccurrenceTaken), and
  //   - max_active_runs is 0 (unlimited), or fewer than max_active_runs runs of run.job are
  //     queued or running (else kAtLimit).
  // Counting and creating are one step: of several processes admitting runs of one job at once,
  // never more than max_active_runs are admitted. A refusal changes nothing. kAlreadyExists for an
  // existing run id; other failures as CreateRun.
  //   memory:     under the store's mutex.
  //   SQLite:     one BEGIN IMMEDIATE transaction: the database's write lock is held from before
  //               the count until the insert commits (other processes wait up to busy_timeout).
  //   PostgreSQL: one transaction that first takes pg_advisory_xact_lock on a key derived from
  //               the job id, so the admissions of one job are serialised and other jobs'
  //               are not.
  // The occurrence is also a unique key of the run table (SQL), which holds even against a writer
  // that bypasses admission.
  virtual Result<RunAdmission> AdmitRun(const RunRecord& run, uint32_t max_active_runs) = 0;
  // AdmitRun for each of `runs`, in order: one answer each, in the same order, and each admission
  // counts the runs admitted before it. So that the occurrences due at one scheduler tick cost one
  // commit, not one each, the SQL stores admit the whole batch in ONE transaction (PostgreSQL's
  // advisory locks taken in job id order, so that two batches cannot deadlock); when that
  // transaction fails (a run id that exists, a store error), each run is admitted on its own, so
  // that one bad run does not cost the others. Every admission keeps AdmitRun's guarantees. The
  // default admits them one by one.
  virtual std::vector<Result<RunAdmission>> AdmitRuns(std::span<const RunToAdmit> runs);
  // A scheduler tick as one step: AdmitRuns(runs) and SaveJobs(jobs) in ONE transaction (SQL;
  // memory: under the store's mutex), so that the records of the occurrences a tick dealt with
  // and the runs it admitted for them are durable together or not at all, and a tick costs one
  // commit. Admissions are locked as AdmitRuns's (PostgreSQL: advisory locks in job id order, then
  // the job rows in id order); refusals are answers and do not stop the jobs from being saved.
  // When that transaction fails (a run id that exists, an invalid job id, a store error), nothing
  // of it was written and the store falls back to two steps: SaveJobs(jobs), then AdmitRuns(runs),
  // each with its own answer. The default takes those two steps.
  virtual AdmissionCommit AdmitRunsAndSaveJobs(std::span<const RunToAdmit> runs,
                                               std::span<const JobRecord> jobs);
  // Replaces status, started/ended times and error of an existing run (job, trigger, owner and
  // creation time stay as created).
  virtual Status UpdateRun(const RunRecord& run) = 0;
  virtual Result<std::optional<RunRecord>> GetRun(const RunId& id) = 0;
  // Newest first; `job` empty means every job.
  virtual Result<std::vector<RunRecord>> ListRuns(const JobId& job, size_t limit) = 0;
  // One page of the runs `query` selects, newest first (see RunQuery), read through indexes (SQL)
  // so that a page costs about its size however many runs the store holds. page.next is set
  // exactly when more matching runs follow. A limit of 0 is an empty page with no next. A cursor
  // whose id is not a valid run id is kInvalidArgument; one naming a run that no longer exists
  // (or never did) still pages from its place.
  virtual Result<RunPage> QueryRuns(const RunQuery& query) = 0;

  // Inserts or replaces each attempt keyed by (run, task, attempt), in order, as one transaction:
  // all are durable or none is. The engine hands over everything one wake-up decided, so one
  // commit covers many transitions.
  virtual Status SaveAttempts(std::span<const AttemptRecord> attempts) = 0;
  // SaveAttempts(attempts), then UpdateRun(run), as ONE transaction (SQL): both are durable or
  // neither is, and an error of either undoes both. A run's last attempts and its end are
  // written together, so that the end of a run costs one commit (on SQLite one wait in a group
  // commit, not two). The default, which the memory store keeps, takes the two steps.
  virtual Status SaveAttemptsAndUpdateRun(std::span<const AttemptRecord> attempts,
                                          const RunRecord& run);
  // Ordered by task id, then attempt.
  virtual Result<std::vector<AttemptRecord>> ListAttempts(const RunId& run) = 0;

  virtual Status AppendLog(const LogChunk& chunk) = 0;
  // One page of the run's captured output in (task, attempt, seq) order, filtered by task and
  // attempt (see LogQuery); the page ends early only when nothing more matches.
  virtual Result<std::vector<LogChunk>> ReadLogs(const RunId& run, const LogQuery& query) = 0;

  // Runs still kQueued or kRunning, oldest first (what recovery looks at on startup).
  virtual Result<std::vector<RunRecord>> ListIncompleteRuns() = 0;
  // In one transaction: the run becomes kInterrupted (ended at `ended_us`, error `reason`) and
  // its attempts still kQueued or kRunning become kInterrupted with the same end and error.
  // kNotFound for an unknown run; kFailedPrecondition for one already terminal.
  virtual Status MarkInterrupted(const RunId& run, std::string_view reason, int64_t ended_us) = 0;
  // In one transaction: every attempt still kQueued or kRunning whose run has ended (a host that
  // lost its store wrote the run's end but not theirs, or an older Petit did) becomes
  // kInterrupted, ended at `ended_us` with error `reason`. Returns those attempts, ordered by run,
  // task and attempt; none when nothing is stranded.
  virtual Result<std::vector<AttemptKey>> InterruptStrandedAttempts(std::string_view reason,
                                                                    int64_t ended_us) = 0;
  // Reopens an ended run for a retry, atomically: a terminal run becomes kRunning, owned by
  // `owner`, with no end and no error, its retries counted one up and retried_us set to
  // `reopened_us`; its attempts are untouched (new attempts continue their numbers). kNotFound for
  // an unknown run; kFailedPrecondition, changing nothing, for one that is not terminal, so two
  // retries of one run can never both start.
  virtual Status ReopenRun(const RunId& run, std::string_view owner, int64_t reopened_us) = 0;
  // ReopenRun through admission, as AdmitRun admits a new run: in one transaction (locked as
  // AdmitRun's), the run is reopened only if max_active_runs is 0 or fewer than max_active_runs
  // other runs of its job are queued or running (else kAtLimit, changing nothing). Errors as
  // ReopenRun's.
  virtual Result<RunAdmission> AdmitReopen(const RunId& run, std::string_view owner,
                                           int64_t reopened_us, uint32_t max_active_runs) = 0;
  // Takes over, for resumption, a run its owner left when it died: in one transaction, only while
  // the run is still kQueued or kRunning and owned by `dead_owner`, its attempts still kQueued or
  // kRunning become kInterrupted (ended at `now_us`, error `reason`) and the run becomes kRunning,
  // owned by `new_owner`, its retries counted one up and retried_us set to `now_us`, as ReopenRun
  // does. The run never leaves the active runs of its job, so it keeps its run slot and needs no
  // admission: a host that dies between a takeover and the resumption leaves the run active under
  // a dead owner, for the next recovery to take over again. Returns false, changing nothing, when
  // the run has ended or another owner holds it (another host took it over first); kNotFound for
  // an unknown run.
  virtual Result<bool> TakeOverRun(const RunId& run, std::string_view dead_owner,
                                   std::string_view new_owner, std::string_view reason,
                                   int64_t now_us) = 0;
  // The newest run of `job` (by ended_us) whose status is one of `statuses` and that ended at or
  // after `ended_since_us`; nullopt if none. What cross-job dependencies ask.
  virtual Result<std::optional<RunRecord>> LastRun(const JobId& job,
                                                   std::span<const RunStatus> statuses,
                                                   int64_t ended_since_us) = 0;

  // Inserts or replaces the job's record.
  virtual Status SaveJob(const JobRecord& job) = 0;
  // SaveJob for each of `jobs`: the SQL stores save them in one transaction, all or none; the
  // default saves them one by one and stops at the first failure. The first failure, if any.
  virtual Status SaveJobs(std::span<const JobRecord> jobs);
  virtual Result<std::optional<JobRecord>> GetJob(const JobId& id) = 0;
  // Ordered by id.
  virtual Result<std::vector<JobRecord>> ListJobs() = 0;

  // Replaces the scheduler's record (there is one per store).
  virtual Status SaveScheduler(const SchedulerRecord& scheduler) = 0;
  // The scheduler's record; a default one (not paused, updated_us 0) if none was ever saved.
  virtual Result<SchedulerRecord> GetScheduler() = 0;

  // Makes the caller the one host of this store for as long as it keeps the returned lock.
  // `owner` names the caller for whoever is refused ("<hostname>/<pid>/<process start time>" in
  // the host); empty is kInvalidArgument. While a lock lives, every other acquire of the same
  // store is refused with kFailedPrecondition, "the store <uri> is in use by <owner of the
  // holder>": from another process, another StateStore opened on the same database, or this one.
  // A lock held by a live process is never broken: the acquire is refused instead of waiting for
  // its release. An unreachable database is kUnavailable.
  //
  // The lock advises hosts only: it restricts none of the other methods, so a process that does
  // not fire schedules (`petit trigger`, `petit runs`) uses the store beside the holder.
  //   memory:     the store is this object; the lock lives in it.
  //   SQLite:     a kernel lock on the file "<database file, symlinks resolved>.lock", which
  //               also holds the holder's owner; the process's death releases it at once, and the
  //               file it leaves behind locks nothing.
  //   PostgreSQL: a session advisory lock on a connection of the lock's own, with the holder's
  //               owner in the host_lock table. The server releases it when that connection ends,
  //               so an acquire waits up to a couple of seconds for a holder whose connection is
  //               closing (a process killed a moment ago). A connection lost while the holder
  //               lives (a server restart) releases the lock too, and the holder is not told.
  virtual Result<std::unique_ptr<HostLock>> AcquireHostLock(std::string_view owner) = 0;

  // Tells `listener` once, on the first write that finds the store itself lost for good: every
  // write from then on fails with kDataLoss and nothing more is written (SQLite: the file was
  // deleted, replaced or made unwritable under this process, so what it wrote would be read by
  // nobody). Set it before the store is shared. THREADS: `listener` runs on the writing thread
  // with the store's write lock held: it must return quickly and must not call the store.
  // Stores that cannot be lost this way (memory:, PostgreSQL) never call it.
  virtual void SetLostListener(std::function<void(const Status&)> listener) { (void)listener; }
};

}  // namespace petit

#endif  // PETIT_CORE_STATE_STORE_H_
