// Every SQL statement the SOCI backend runs on its tables, in both dialects, by name (the schema
// itself lives in the migration files). Nothing here touches a database: each function returns a
// statement's text, and its comment lists the parameters the statement binds (":name") and, for a
// query, the columns it selects, in order. row_mapping.h binds and reads exactly those.
//
// Threads: pure functions, callable from any thread.
#ifndef PETIT_STORAGE_SQL_STATEMENTS_H_
#define PETIT_STORAGE_SQL_STATEMENTS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "petit/core/state_store.h"
#include "sql/dialect.h"

namespace petit::storage::internal {

// A batch of attempts is written by multi-row upserts of 64, 32, ..., 2 or 1 rows: any batch takes
// few statements, and only seven are ever prepared. 64 rows of 10 parameters stay below the 999
// parameters the oldest SQLite builds allow.
constexpr size_t kMaxAttemptRows = 64;

// The writes the writer session prepares once and executes many times; WriteSql gives their text.
// Times are microseconds; 0 ("not yet") is stored as NULL, except in a run's created_at.
enum class WriteStatement : uint8_t {
  // A new run: :run_id :job_id :status :triggered_by :owner :created_at :started_at :ended_at
  // :error :retries :retried_at :occurrence_at.
  kInsertRun,
  // Sets :status :started_at :ended_at :error of the run :run_id.
  kUpdateRun,
  // A log chunk: :run_id :task_id :attempt :seq :stream :data (BytesIn).
  kInsertLog,
  // The run :run_id becomes interrupted, ended at :ended_at with :error; changes nothing (0 rows)
  // unless the run is still queued or running.
  kInterruptRun,
  // The same for the attempts of the run :run_id still queued or running.
  kInterruptAttempts,
  // The run :run_id becomes running again, owned by :owner, with no end and no error, its retries
  // counted one up and retried at :retried_at; changes nothing (0 rows) unless the run has ended.
  kReopenRun,
  // Inserts or replaces the job :job_id: :paused (0 or 1) :last_fire_at :updated_at.
  kUpsertJob,
  // Admission's queries, prepared once because every admitted run asks them (1,000 a second on a
  // busy host, where preparing them took more time than running them). They select into the
  // AdmitParams: the run (id, owner) of the job :job at the occurrence :occurrence_at
  // (OccurrenceRunSql), and the ids of the job :job's incomplete runs, newest first
  // (ActiveRunsOfJobSql).
  kOccurrenceRun,
  kActiveRunsOfJob,
  // A group commit's savepoint around each of its writes (SQLite), prepared once for the same
  // reason: `SAVEPOINT petit_write` and `RELEASE petit_write`. No parameters.
  kSavepoint,
  kReleaseSavepoint,
  // PostgreSQL only: inserts or replaces attempts with distinct keys, given as ten array literals
  // with one element per attempt (:run_ids :task_ids :attempts :states :queued_ats :started_ats
  // :ended_ats :exit_codes :errors :outputs): one statement and one round trip however many there
  // are. SOCI 4.0 cannot bind an array parameter (a vector is one execution per element), so the
  // arrays travel as text.
  kUpsertAttemptArrays,
  // Insert or replace 1, 2, 4, ..., kMaxAttemptRows attempts with distinct keys. The parameters of
  // row i carry the suffix i: :run_id<i> :task_id<i> :attempt<i> :state<i> :queued_at<i>
  // :started_at<i> :ended_at<i> :exit_code<i> :error<i> :outputs<i>.
  kUpsertAttemptRows1,
  kUpsertAttemptRows2,
  kUpsertAttemptRows4,
  kUpsertAttemptRows8,
  kUpsertAttemptRows16,
  kUpsertAttemptRows32,
  kUpsertAttemptRows64,
};
constexpr size_t kWriteStatements = static_cast<size_t>(WriteStatement::kUpsertAttemptRows64) + 1;

// The upsert of `rows` attempts; `rows` is a power of two up to kMaxAttemptRows.
WriteStatement UpsertAttemptRows(size_t rows);

std::string WriteSql(Dialect dialect, WriteStatement statement);

// The queries on runs select, in order: id, job_id, status, triggered_by, owner, created_at,
// started_at, ended_at (microseconds, 0 for NULL), error, retries, retried_at, occurrence_at
// (microseconds, 0 for NULL).

// The run :id.
std::string SelectRunSql(Dialect dialect);
// At most :limit runs, newest first (by created_at, then id); with `of_one_job`, only those of the
// job :job.
std::string ListRunsSql(Dialect dialect, bool of_one_job);
// The runs of `query` of one status at most (QueryRuns asks once per status and merges), newest
// first (by created_at, then id): binds :job if query.job is set, :status (the name of `status`)
// if `status` is set, :since and :until (microseconds) if query has them, :after_created,
// :after_created2 (the same time) and :after_id if query.after is set, and :limit. Every
// combination is answered in order from an index, so a page reads about :limit rows: an ended
// status from the indexes of ended runs (migration sqlite 008 / postgresql 009), queued or running
// from the partial indexes of the runs not ended (a handful of rows at any time).
std::string QueryRunsSql(Dialect dialect, const RunQuery& query, std::optional<RunStatus> status);
// The runs still queued or running, oldest first (by created_at, then id).
std::string ListIncompleteRunsSql(Dialect dialect);
// The run of the job :job with one of the statuses :status0 ... :status<statuses - 1> that ended
// last, at or after :since (microseconds); with `count_unended`, a run that has not ended counts
// as ended at 0. `statuses` (at least 1) are what :status0 ... will be bound to: when every one is
// an end, the query reads the index of ended runs (migration sqlite 008 / postgresql 009).
std::string LastRunSql(Dialect dialect, std::span<const RunStatus> statuses, bool count_unended);
// The attempts still queued or running whose run has ended (stranded by a lost store): run_id,
// task_id, attempt, by run, task, attempt.
std::string StrandedAttemptsSql();
// Those attempts become interrupted, ended at :ended_at with :error.
std::string InterruptStrandedAttemptsSql(Dialect dialect);
// The run :run_id, still queued or running and owned by :dead_owner, becomes running, owned by
// :owner, its retries counted one up and retried at :retried_at; changes nothing (0 rows)
// otherwise.
std::string TakeOverRunSql(Dialect dialect);
// Only the status of the run :id.
std::string RunStatusSql();
// The job_id and status of the run :id.
std::string RunJobAndStatusSql();

// Admission (StateStore::AdmitRun), inside its transaction:
// the ids of the runs of the job :job still queued or running, newest first;
std::string ActiveRunsOfJobSql();
// the run of the job :job that stands for the occurrence :occurrence_at (microseconds): id, owner;
std::string OccurrenceRunSql(Dialect dialect);
// PostgreSQL: waits for, and holds to the end of the transaction, the advisory lock :key that
// serialises the admissions of one job.
std::string AdmissionLockSql();

// The attempts of the run :run, by task id, then attempt: task_id, attempt, state, queued_at,
// started_at, ended_at (microseconds, 0 for NULL), exit_code (may be NULL), error, outputs (JSON,
// EncodeOutputs).
std::string ListAttemptsSql(Dialect dialect);

// The log chunks of the run :run that `query` selects (its limit aside), in (task, attempt, seq)
// order: task_id, attempt, seq, stream, data (BytesOut). Binds :task if query.task is set,
// :attempt if query.attempt is, :after_task :after_attempt :after_seq if query.after is, and
// :limit.
std::string ReadLogsSql(Dialect dialect, const LogQuery& query);

// The queries on jobs select, in order: id, paused (0 or 1), last_fire_at, updated_at
// (microseconds, 0 for NULL).

// The job :id.
std::string SelectJobSql(Dialect dialect);
// Every job, by id.
std::string ListJobsSql(Dialect dialect);

// Inserts or replaces the one scheduler row: :paused (0 or 1) :updated_at. Rarely written, so
// executed once rather than prepared.
std::string UpsertSchedulerSql(Dialect dialect);
// The scheduler row, if any: paused (0 or 1), updated_at (microseconds, 0 for NULL).
std::string SelectSchedulerSql(Dialect dialect);

}  // namespace petit::storage::internal

#endif  // PETIT_STORAGE_SQL_STATEMENTS_H_
