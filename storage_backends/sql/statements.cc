#include "sql/statements.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace petit::storage::internal {
namespace {

// A status or state name as an SQL string literal (the names are plain lower-case words).
std::string Literal(std::string_view name) { return "'" + std::string(name) + "'"; }

// "('queued', 'running')", as the partial indexes' conditions name them.
std::string IncompleteStatuses() {
  return "(" + Literal(RunStatusName(RunStatus::kQueued)) + ", " +
         Literal(RunStatusName(RunStatus::kRunning)) + ")";
}

// The runs recovery looks at. ListIncompleteRunsSql repeats this text exactly: SQLite uses the
// partial index of migration 002 only when the query names its condition word for word.
std::string IncompleteRunCondition() { return "status IN " + IncompleteStatuses(); }

// The runs the indexes of ended runs hold (migration sqlite 008 / postgresql 009), word for word
// as they name them. Not EndedRunCondition: SQLite evaluates an index's condition on every write
// of a run, and with that list of four each write cost three times as much (measured).
std::string NotIncompleteRunCondition() { return "status NOT IN " + IncompleteStatuses(); }

// The runs a retry may reopen: every terminal status, named (not "neither queued nor running"),
// so that a status this petit does not know is never reopened.
std::string EndedRunCondition() {
  std::string names;
  for (const RunStatus status :
       {RunStatus::kQueued, RunStatus::kRunning, RunStatus::kSucceeded, RunStatus::kFailed,
        RunStatus::kCancelled, RunStatus::kInterrupted}) {
    if (!IsTerminal(status)) continue;
    if (!names.empty()) names += ", ";
    names += Literal(RunStatusName(status));
  }
  return "status IN (" + names + ")";
}

std::string RunColumns(Dialect d) {
  return "id, job_id, status, triggered_by, owner, " + TimeOut(d, "created_at") + ", " +
         TimeOut(d, "started_at") + ", " + TimeOut(d, "ended_at") + ", error, retries, " +
         TimeOut(d, "retried_at") + ", " + TimeOut(d, "occurrence_at");
}

std::string JobColumns(Dialect d) {
  return "id, CAST(paused AS INTEGER), " + TimeOut(d, "last_fire_at") + ", " +
         TimeOut(d, "updated_at");
}

std::string InsertRunSql(Dialect d) {
  return "INSERT INTO runs (id, job_id, status, triggered_by, owner, created_at, started_at, "
         "ended_at, error, retries, retried_at, occurrence_at) VALUES (:run_id, :job_id, :status, "
         ":triggered_by, :owner, " +
         TimeIn(d, "created_at", false) + ", " + TimeIn(d, "started_at", true) + ", " +
         TimeIn(d, "ended_at", true) + ", :error, :retries, " + TimeIn(d, "retried_at", true) +
         ", " + TimeIn(d, "occurrence_at", true) + ")";
}

std::string UpdateRunSql(Dialect d) {
  return "UPDATE runs SET status = :status, started_at = " + TimeIn(d, "started_at", true) +
         ", ended_at = " + TimeIn(d, "ended_at", true) + ", error = :error WHERE id = :run_id";
}

std::string InsertLogSql(Dialect d) {
  return "INSERT INTO task_logs (run_id, task_id, attempt, seq, stream, data) VALUES (:run_id, "
         ":task_id, :attempt, :seq, :stream, " +
         BytesIn(d, "data") + ")";
}

std::string InterruptRunSql(Dialect d) {
  return "UPDATE runs SET status = " + Literal(RunStatusName(RunStatus::kInterrupted)) +
         ", ended_at = " + TimeIn(d, "ended_at", true) +
         ", error = :error WHERE id = :run_id AND " + IncompleteRunCondition();
}

std::string InterruptAttemptsSql(Dialect d) {
  return "UPDATE task_attempts SET state = " + Literal(TaskStateName(TaskState::kInterrupted)) +
         ", ended_at = " + TimeIn(d, "ended_at", true) +
         ", error = :error WHERE run_id = :run_id AND state IN (" +
         Literal(TaskStateName(TaskState::kQueued)) + ", " +
         Literal(TaskStateName(TaskState::kRunning)) + ")";
}

// One statement, so that of two retries of a run only one finds it ended.
std::string ReopenRunSql(Dialect d) {
  return "UPDATE runs SET status = " + Literal(RunStatusName(RunStatus::kRunning)) +
         ", owner = :owner, ended_at = NULL, error = '', retries = retries + 1, retried_at = " +
         TimeIn(d, "retried_at", true) + " WHERE id = :run_id AND " + EndedRunCondition();
}

// `paused` is BOOLEAN in PostgreSQL and 0/1 in SQLite; the comparison yields either.
std::string UpsertJobSql(Dialect d) {
  return "INSERT INTO jobs (id, paused, last_fire_at, updated_at) VALUES (:job_id, "
         "(CAST(:paused AS INTEGER) <> 0), " +
         TimeIn(d, "last_fire_at", true) + ", " + TimeIn(d, "updated_at", true) +
         ") ON CONFLICT (id) DO UPDATE SET paused = excluded.paused, "
         "last_fire_at = excluded.last_fire_at, updated_at = excluded.updated_at";
}

constexpr char kInsertAttempt[] =
    "INSERT INTO task_attempts (run_id, task_id, attempt, state, queued_at, started_at, ended_at, "
    "exit_code, error, outputs) ";
constexpr char kOnAttemptConflict[] =
    " ON CONFLICT (run_id, task_id, attempt) DO UPDATE SET state = excluded.state, "
    "queued_at = excluded.queued_at, started_at = excluded.started_at, "
    "ended_at = excluded.ended_at, exit_code = excluded.exit_code, error = excluded.error, "
    "outputs = excluded.outputs";

std::string UpsertAttemptArraysSql() {
  constexpr Dialect d = Dialect::kPostgresql;
  return std::string(kInsertAttempt) + "SELECT u.run_id, u.task_id, u.attempt, u.state, " +
         TimeFromMicros(d, "u.queued_at", true) + ", " + TimeFromMicros(d, "u.started_at", true) +
         ", " + TimeFromMicros(d, "u.ended_at", true) +
         ", u.exit_code, u.error, u.outputs FROM unnest(CAST(:run_ids AS TEXT[]), "
         "CAST(:task_ids AS TEXT[]), CAST(:attempts AS BIGINT[]), CAST(:states AS TEXT[]), "
         "CAST(:queued_ats AS BIGINT[]), CAST(:started_ats AS BIGINT[]), "
         "CAST(:ended_ats AS BIGINT[]), CAST(:exit_codes AS INTEGER[]), "
         "CAST(:errors AS TEXT[]), CAST(:outputs AS TEXT[])) AS u(run_id, task_id, attempt, "
         "state, queued_at, started_at, ended_at, exit_code, error, outputs)" +
         kOnAttemptConflict;
}

std::string UpsertAttemptRowsSql(Dialect d, size_t rows) {
  std::string sql = kInsertAttempt;
  sql += "VALUES ";
  for (size_t i = 0; i < rows; ++i) {
    const std::string n = std::to_string(i);
    if (i > 0) sql += ", ";
    sql += "(:run_id" + n + ", :task_id" + n + ", :attempt" + n + ", :state" + n + ", " +
           TimeIn(d, "queued_at" + n, true) + ", " + TimeIn(d, "started_at" + n, true) + ", " +
           TimeIn(d, "ended_at" + n, true) + ", :exit_code" + n + ", :error" + n + ", :outputs" +
           n + ")";
  }
  return sql + kOnAttemptConflict;
}

}  // namespace

WriteStatement UpsertAttemptRows(size_t rows) {
  return static_cast<WriteStatement>(static_cast<size_t>(WriteStatement::kUpsertAttemptRows1) +
                                     static_cast<size_t>(std::countr_zero(rows)));
}

std::string WriteSql(Dialect dialect, WriteStatement statement) {
  switch (statement) {
    case WriteStatement::kInsertRun:
      return InsertRunSql(dialect);
    case WriteStatement::kUpdateRun:
      return UpdateRunSql(dialect);
    case WriteStatement::kInsertLog:
      return InsertLogSql(dialect);
    case WriteStatement::kInterruptRun:
      return InterruptRunSql(dialect);
    case WriteStatement::kInterruptAttempts:
      return InterruptAttemptsSql(dialect);
    case WriteStatement::kReopenRun:
      return ReopenRunSql(dialect);
    case WriteStatement::kUpsertJob:
      return UpsertJobSql(dialect);
    case WriteStatement::kOccurrenceRun:
      return OccurrenceRunSql(dialect);
    case WriteStatement::kActiveRunsOfJob:
      return ActiveRunsOfJobSql();
    case WriteStatement::kSavepoint:
      return "SAVEPOINT petit_write";
    case WriteStatement::kReleaseSavepoint:
      return "RELEASE petit_write";
    case WriteStatement::kUpsertAttemptArrays:
      return UpsertAttemptArraysSql();
    case WriteStatement::kUpsertAttemptRows1:
    case WriteStatement::kUpsertAttemptRows2:
    case WriteStatement::kUpsertAttemptRows4:
    case WriteStatement::kUpsertAttemptRows8:
    case WriteStatement::kUpsertAttemptRows16:
    case WriteStatement::kUpsertAttemptRows32:
    case WriteStatement::kUpsertAttemptRows64:
      break;
  }
  const size_t rows = size_t{1} << (static_cast<size_t>(statement) -
                                    static_cast<size_t>(WriteStatement::kUpsertAttemptRows1));
  return UpsertAttemptRowsSql(dialect, rows);
}

std::string SelectRunSql(Dialect dialect) {
  return "SELECT " + RunColumns(dialect) + " FROM runs WHERE id = :id";
}

std::string ListRunsSql(Dialect dialect, bool of_one_job) {
  std::string sql = "SELECT " + RunColumns(dialect) + " FROM runs";
  if (of_one_job) sql += " WHERE job_id = :job";
  sql += " ORDER BY created_at DESC, id DESC LIMIT :limit";
  return sql;
}

std::string QueryRunsSql(Dialect dialect, const RunQuery& query, std::optional<RunStatus> status) {
  const bool ended = status.has_value() && IsTerminal(*status);
  std::vector<std::string> conditions;
  if (!query.job.empty()) conditions.push_back("job_id = :job");
  if (status.has_value()) {
    conditions.push_back("status = :status");
    // Word for word the condition of the partial index that holds the runs of this status.
    conditions.push_back(ended ? NotIncompleteRunCondition() : IncompleteRunCondition());
  }
  if (query.since_us.has_value()) {
    conditions.push_back("created_at >= " + TimeIn(dialect, "since", false));
  }
  if (query.until_us.has_value()) {
    conditions.push_back("created_at < " + TimeIn(dialect, "until", false));
  }
  if (query.after.has_value()) {
    // Strictly before the cursor in (created_at DESC, id DESC) order. Spelt with a plain upper
    // bound on created_at first, which both planners turn into an index range (a row-value or an
    // OR alone is not always).
    // SOCI binds each name once, so the time comes twice, as :after_created and :after_created2.
    conditions.push_back("created_at <= " + TimeIn(dialect, "after_created", false) +
                         " AND (created_at < " + TimeIn(dialect, "after_created2", false) +
                         " OR id < :after_id)");
  }
  std::string sql = "SELECT " + RunColumns(dialect) + " FROM runs";
  if (dialect == Dialect::kSqlite) {
    // Without statistics SQLite may prefer an index that serves more of the range conditions
    // (status with since, until and a cursor) over the one that serves job and status and the
    // order; named, the index whose key holds every equality is used, as PostgreSQL picks it.
    // Runs not ended are few: those indexes hold only them, and the status is tested on each.
    if (!query.job.empty()) {
      sql += !status.has_value() ? " INDEXED BY runs_by_job_newest_first"
             : ended             ? " INDEXED BY runs_ended_by_job_status_newest_first"
                                 : " INDEXED BY runs_incomplete_by_job";
    } else {
      sql += !status.has_value() ? " INDEXED BY runs_newest_first"
             : ended             ? " INDEXED BY runs_ended_by_status_newest_first"
                                 : " INDEXED BY runs_incomplete_oldest_first";
    }
  }
  for (size_t i = 0; i < conditions.size(); ++i) {
    sql += (i == 0 ? " WHERE " : " AND ") + conditions[i];
  }
  sql += " ORDER BY created_at DESC, id DESC LIMIT :limit";
  return sql;
}

std::string ListIncompleteRunsSql(Dialect dialect) {
  return "SELECT " + RunColumns(dialect) + " FROM runs WHERE " + IncompleteRunCondition() +
         " ORDER BY created_at, id";
}

std::string LastRunSql(Dialect dialect, std::span<const RunStatus> statuses, bool count_unended) {
  std::string sql =
      "SELECT " + RunColumns(dialect) + " FROM runs WHERE job_id = :job AND status IN (";
  for (size_t i = 0; i < statuses.size(); ++i) {
    sql += (i == 0 ? ":status" : ", :status") + std::to_string(i);
  }
  sql += ")";
  // Word for word the condition of the index of ended runs, which then serves the query.
  if (std::all_of(statuses.begin(), statuses.end(),
                  [](RunStatus status) { return IsTerminal(status); })) {
    sql += " AND " + NotIncompleteRunCondition();
  }
  // A run not ended yet has no end time (NULL).
  sql += " AND (ended_at >= " + TimeIn(dialect, "since", false);
  if (count_unended) sql += " OR ended_at IS NULL";
  sql += ") ORDER BY ended_at DESC NULLS LAST, id DESC LIMIT 1";
  return sql;
}

namespace {

// Read from the partial index of the migration "unended_attempts", whose condition it repeats
// word for word (as SQLite requires to use it); each attempt found is checked against its run by
// primary key. (With `run_id IN (SELECT ... ended runs)` both databases walked every ended run.)
std::string StrandedCondition() {
  return "state IN (" + Literal(TaskStateName(TaskState::kQueued)) + ", " +
         Literal(TaskStateName(TaskState::kRunning)) +
         ") AND EXISTS (SELECT 1 FROM runs WHERE runs.id = task_attempts.run_id AND " +
         EndedRunCondition() + ")";
}

}  // namespace

std::string StrandedAttemptsSql() {
  return "SELECT run_id, task_id, attempt FROM task_attempts WHERE " + StrandedCondition() +
         " ORDER BY run_id, task_id, attempt";
}

std::string InterruptStrandedAttemptsSql(Dialect dialect) {
  return "UPDATE task_attempts SET state = " + Literal(TaskStateName(TaskState::kInterrupted)) +
         ", ended_at = " + TimeIn(dialect, "ended_at", true) + ", error = :error WHERE " +
         StrandedCondition();
}

std::string TakeOverRunSql(Dialect dialect) {
  return "UPDATE runs SET status = " + Literal(RunStatusName(RunStatus::kRunning)) +
         ", owner = :owner, retries = retries + 1, retried_at = " +
         TimeIn(dialect, "retried_at", true) + " WHERE id = :run_id AND owner = :dead_owner AND " +
         IncompleteRunCondition();
}

std::string RunStatusSql() { return "SELECT status FROM runs WHERE id = :id"; }

std::string RunJobAndStatusSql() { return "SELECT job_id, status FROM runs WHERE id = :id"; }

// IncompleteRunCondition word for word, so SQLite uses the partial index of migration 005.
std::string ActiveRunsOfJobSql() {
  return "SELECT id FROM runs WHERE job_id = :job AND " + IncompleteRunCondition() +
         " ORDER BY created_at DESC, id DESC";
}

std::string OccurrenceRunSql(Dialect dialect) {
  return "SELECT id, owner FROM runs WHERE job_id = :job AND occurrence_at = " +
         TimeIn(dialect, "occurrence_at", false);
}

std::string AdmissionLockSql() { return "SELECT pg_advisory_xact_lock(CAST(:key AS BIGINT))"; }

std::string ListAttemptsSql(Dialect dialect) {
  return "SELECT task_id, attempt, state, " + TimeOut(dialect, "queued_at") + ", " +
         TimeOut(dialect, "started_at") + ", " + TimeOut(dialect, "ended_at") +
         ", exit_code, error, outputs FROM task_attempts WHERE run_id = :run "
         "ORDER BY task_id, attempt";
}

std::string ReadLogsSql(Dialect dialect, const LogQuery& query) {
  std::string sql = "SELECT task_id, attempt, seq, stream, " + BytesOut(dialect, "data") +
                    " FROM task_logs WHERE run_id = :run";
  if (!query.task.empty()) sql += " AND task_id = :task";
  if (query.attempt != 0) sql += " AND attempt = :attempt";
  // A row-value comparison, which both databases answer from the primary key's order.
  if (query.after.has_value()) {
    sql += " AND (task_id, attempt, seq) > (:after_task, :after_attempt, :after_seq)";
  }
  sql += " ORDER BY task_id, attempt, seq LIMIT :limit";
  return sql;
}

std::string SelectJobSql(Dialect dialect) {
  return "SELECT " + JobColumns(dialect) + " FROM jobs WHERE id = :id";
}

std::string ListJobsSql(Dialect dialect) {
  return "SELECT " + JobColumns(dialect) + " FROM jobs ORDER BY id";
}

// `paused` as in UpsertJobSql.
std::string UpsertSchedulerSql(Dialect dialect) {
  return "INSERT INTO scheduler_state (id, paused, updated_at) VALUES (1, "
         "(CAST(:paused AS INTEGER) <> 0), " +
         TimeIn(dialect, "updated_at", true) +
         ") ON CONFLICT (id) DO UPDATE SET paused = excluded.paused, "
         "updated_at = excluded.updated_at";
}

std::string SelectSchedulerSql(Dialect dialect) {
  return "SELECT CAST(paused AS INTEGER), " + TimeOut(dialect, "updated_at") +
         " FROM scheduler_state WHERE id = 1";
}

}  // namespace petit::storage::internal
