#include "sql/sql_state_store.h"

#include <soci/connection-pool.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <array>
#include <bit>
#include <bitset>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "sql/migrations.h"
#include "sql/soci_support.h"
#include "src/records.h"
#include "src/text_codec.h"

namespace petit::storage::internal {
namespace {

constexpr int kSqliteBusyTimeoutMs = 5000;
// WAL readers never block the writer, so two cover concurrent readers on a 2-core machine;
// PostgreSQL reads take a network round trip each, so a few more overlap usefully.
constexpr size_t kSqliteReaders = 2;
constexpr size_t kPostgresqlReaders = 4;

// A status or state name as an SQL string literal (the names are plain lower-case words).
std::string Literal(std::string_view name) { return "'" + std::string(name) + "'"; }

// The runs recovery looks at. ListIncompleteRuns repeats this text exactly: SQLite uses the
// partial index of migration 002 only when the query names its condition word for word.
std::string IncompleteRunCondition() {
  return "status IN (" + Literal(RunStatusName(RunStatus::kQueued)) + ", " +
         Literal(RunStatusName(RunStatus::kRunning)) + ")";
}

std::string InsertRunSql(Dialect d) {
  return "INSERT INTO runs (id, job_id, status, triggered_by, owner, created_at, started_at, "
         "ended_at, error) VALUES (:run_id, :job_id, :status, :triggered_by, :owner, " +
         TimeIn(d, "created_at", false) + ", " + TimeIn(d, "started_at", true) + ", " +
         TimeIn(d, "ended_at", true) + ", :error)";
}

std::string UpdateRunSql(Dialect d) {
  return "UPDATE runs SET status = :status, started_at = " + TimeIn(d, "started_at", true) +
         ", ended_at = " + TimeIn(d, "ended_at", true) + ", error = :error WHERE id = :run_id";
}

constexpr char kInsertAttempt[] =
    "INSERT INTO task_attempts (run_id, task_id, attempt, state, queued_at, started_at, ended_at, "
    "exit_code, error, outputs) ";
constexpr char kOnAttemptConflict[] =
    " ON CONFLICT (run_id, task_id, attempt) DO UPDATE SET state = excluded.state, "
    "queued_at = excluded.queued_at, started_at = excluded.started_at, "
    "ended_at = excluded.ended_at, exit_code = excluded.exit_code, error = excluded.error, "
    "outputs = excluded.outputs";

// Upserts `rows` attempts, whose keys must be distinct, in one statement; the parameters of row i
// are named with the suffix i.
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

// PostgreSQL only: upserts attempts with distinct keys from ten array literals (one element per
// attempt), one statement and one round trip however many there are. SOCI 4.0 cannot bind an
// array parameter (a vector is one execution per element), so the arrays travel as text.
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

// Changes nothing (0 rows) unless the run is still queued or running.
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

// `paused` is BOOLEAN in PostgreSQL and 0/1 in SQLite; the comparison yields either.
std::string UpsertJobSql(Dialect d) {
  return "INSERT INTO jobs (id, paused, last_fire_at, updated_at) VALUES (:job_id, "
         "(CAST(:paused AS INTEGER) <> 0), " +
         TimeIn(d, "last_fire_at", true) + ", " + TimeIn(d, "updated_at", true) +
         ") ON CONFLICT (id) DO UPDATE SET paused = excluded.paused, "
         "last_fire_at = excluded.last_fire_at, updated_at = excluded.updated_at";
}

std::string JobColumns(Dialect d) {
  return "id, CAST(paused AS INTEGER), " + TimeOut(d, "last_fire_at") + ", " +
         TimeOut(d, "updated_at");
}

std::string InsertLogSql(Dialect d) {
  return "INSERT INTO task_logs (run_id, task_id, attempt, seq, stream, data) VALUES (:run_id, "
         ":task_id, :attempt, :seq, :stream, " +
         BytesIn(d, "data") + ")";
}

std::string RunColumns(Dialect d) {
  return "id, job_id, status, triggered_by, owner, " + TimeOut(d, "created_at") + ", " +
         TimeOut(d, "started_at") + ", " + TimeOut(d, "ended_at") + ", error";
}

// A query executed once, its rows fetched one by one into the bound variables. Unlike a prepared
// statement this is a single round trip on PostgreSQL (PQexecParams, no PREPARE/DEALLOCATE).
class Query {
 public:
  explicit Query(soci::session& session) : statement_(session) {}

  template <typename T>
  Query& Into(T& value) {
    statement_.exchange(soci::into(value));
    return *this;
  }
  template <typename T>
  Query& Into(T& value, soci::indicator& indicator) {
    statement_.exchange(soci::into(value, indicator));
    return *this;
  }
  template <typename T>
  Query& Use(const T& value, const std::string& name) {
    statement_.exchange(soci::use(value, name));
    return *this;
  }

  // Calls `on_row` after each row is fetched.
  template <typename OnRow>
  void ForEachRow(const std::string& sql, OnRow&& on_row) {
    statement_.alloc();
    statement_.prepare(sql, soci::details::st_one_time_query);
    statement_.define_and_bind();
    if (!statement_.execute(true)) return;
    do {
      on_row();
    } while (statement_.fetch());
  }

 private:
  soci::statement statement_;
};

struct RunRow {
  std::string id;
  std::string job;
  std::string status;
  std::string trigger;
  std::string owner;
  std::string error;
  long long created_at = 0;
  long long started_at = 0;
  long long ended_at = 0;

  void Bind(Query& query) {
    query.Into(id)
        .Into(job)
        .Into(status)
        .Into(trigger)
        .Into(owner)
        .Into(created_at)
        .Into(started_at)
        .Into(ended_at)
        .Into(error);
  }

  Result<RunRecord> ToRecord() const {
    Result<RunId> run_id = RunId::Parse(id);
    if (!run_id.ok()) {
      return Internal("stored run id '" + SanitizeText(id) +
                      "' is not valid: " + run_id.status().message());
    }
    Result<RunStatus> run_status = ParseRunStatus(status);
    if (!run_status.ok()) {
      return Internal("stored " + DescribeRun(*run_id) + ": " + run_status.status().message());
    }
    RunRecord record;
    record.id = std::move(run_id).value();
    record.job = JobId(job);
    record.status = *run_status;
    record.trigger = trigger;
    record.owner = owner;
    record.created_us = created_at;
    record.started_us = started_at;
    record.ended_us = ended_at;
    record.error = error;
    return record;
  }
};

Result<uint32_t> ToUint32(long long value, std::string_view what) {
  if (value < 0 || value > std::numeric_limits<uint32_t>::max()) {
    return Internal("stored " + std::string(what) + " " + std::to_string(value) +
                    " is out of range");
  }
  return static_cast<uint32_t>(value);
}

long long SqlLimit(size_t limit) {
  constexpr auto kMax = static_cast<size_t>(std::numeric_limits<long long>::max());
  return static_cast<long long>(std::min(limit, kMax));
}

// Returns a pooled session to its pool however the read ends.
class Lease {
 public:
  explicit Lease(soci::connection_pool& pool) : pool_(pool), position_(pool.lease()) {}
  ~Lease() { pool_.give_back(position_); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  soci::session& session() { return pool_.at(position_); }

 private:
  soci::connection_pool& pool_;
  size_t position_;
};

// Runs `sql`, which selects RunColumns, with the parameters `bind` adds to the query, and
// replaces `runs` with the rows; a row that does not decode makes the read fail.
template <typename Bind>
Status CollectRuns(soci::session& session, const std::string& sql, Bind&& bind,
                   std::vector<RunRecord>& runs) {
  runs.clear();
  Status row_status;
  RunRow row;
  Query query(session);
  row.Bind(query);
  bind(query);
  query.ForEachRow(sql, [&] {
    Result<RunRecord> record = row.ToRecord();
    if (record.ok()) {
      runs.push_back(std::move(record).value());
    } else if (row_status.ok()) {
      row_status = record.status();
    }
  });
  return row_status;
}

// Runs `sql`, which selects JobColumns, as CollectRuns does.
template <typename Bind>
Status CollectJobs(soci::session& session, const std::string& sql, Bind&& bind,
                   std::vector<JobRecord>& jobs) {
  jobs.clear();
  std::string id;
  long long paused = 0;
  long long last_fire_at = 0;
  long long updated_at = 0;
  Query query(session);
  query.Into(id).Into(paused).Into(last_fire_at).Into(updated_at);
  bind(query);
  query.ForEachRow(sql, [&] {
    JobRecord job;
    job.id = JobId(id);
    job.paused = paused != 0;
    job.last_fire_us = last_fire_at;
    job.updated_us = updated_at;
    jobs.push_back(std::move(job));
  });
  return Status::Ok();
}

// Why the conditional update of MarkInterrupted changed nothing: the run is unknown or already
// ended. Runs on the writer, inside its transaction, so it sees what the update saw.
Status WhyNotInterrupted(soci::session& session, const RunId& run) {
  std::string status;
  bool found = false;
  Query query(session);
  query.Into(status).Use(run.str(), "id").ForEachRow("SELECT status FROM runs WHERE id = :id", [&] {
    found = true;
  });
  if (!found) return NotFound(DescribeRun(run) + " does not exist");
  Result<RunStatus> run_status = ParseRunStatus(status);
  if (!run_status.ok()) {
    return Internal("stored " + DescribeRun(run) + ": " + run_status.status().message());
  }
  return RunAlreadyEnded(run, *run_status);
}

// The statements the writer prepares once and executes many times, besides the multi-row
// attempt upserts.
enum class WriteStatement : uint8_t {
  kInsertRun,
  kUpdateRun,
  kUpsertAttemptArrays,
  kInsertLog,
  kInterruptRun,
  kInterruptAttempts,
  kUpsertJob,
};
constexpr size_t kWriteStatements = 7;

// A batch of attempts is written by multi-row upserts of 64, 32, ..., 2 or 1 rows: any batch takes
// few statements, and only seven are ever prepared. 64 rows of 10 parameters stay below the 999
// parameters the oldest SQLite builds allow.
constexpr size_t kMaxAttemptRows = 64;
constexpr size_t kAttemptRowStatements = 7;  // one per power of two up to kMaxAttemptRows
static_assert(size_t{1} << (kAttemptRowStatements - 1) == kMaxAttemptRows);

// The number of statements that write `rows` attempts: full chunks, then one per set bit.
size_t AttemptRowStatements(size_t rows) {
  return rows / kMaxAttemptRows + static_cast<size_t>(std::popcount(rows % kMaxAttemptRows));
}

// One row of a multi-row attempt upsert.
struct AttemptSlots {
  std::string run_id;
  std::string task_id;
  std::string state;
  std::string error;
  std::string outputs;
  long long attempt = 0;
  long long queued_at = 0;
  long long started_at = 0;
  long long ended_at = 0;
  int exit_code = 0;
  soci::indicator exit_code_indicator = soci::i_null;
};

// The PostgreSQL array literals of kUpsertAttemptArrays, one element per attempt.
struct AttemptArrays {
  std::string run_ids;
  std::string task_ids;
  std::string attempts;
  std::string states;
  std::string queued_ats;
  std::string started_ats;
  std::string ended_ats;
  std::string exit_codes;
  std::string errors;
  std::string outputs;
};

// Builds one PostgreSQL array literal: '{"a\"b",NULL}'. Every text element is quoted, so only
// quotes and backslashes need escaping; text never holds NUL (SanitizeText, CheckId, JSON).
class ArrayLiteral {
 public:
  explicit ArrayLiteral(std::string& out) : out_(out) { out_.assign(1, '{'); }
  ~ArrayLiteral() { out_.push_back('}'); }
  ArrayLiteral(const ArrayLiteral&) = delete;
  ArrayLiteral& operator=(const ArrayLiteral&) = delete;

  void Text(std::string_view text) {
    Separate();
    out_.push_back('"');
    for (const char c : text) {
      if (c == '"' || c == '\\') out_.push_back('\\');
      out_.push_back(c);
    }
    out_.push_back('"');
  }
  void Number(long long value) {
    Separate();
    out_ += std::to_string(value);
  }
  void Null() {
    Separate();
    out_ += "NULL";
  }

 private:
  void Separate() {
    if (out_.size() > 1) out_.push_back(',');
  }
  std::string& out_;
};

// The indexes of the records to write: the last record of each (run, task, attempt) key, which
// replaces the earlier ones as if all were applied in order. The keys are then distinct, as one
// PostgreSQL upsert statement requires (it cannot change a row twice).
std::vector<size_t> LastOfEachKey(const std::vector<AttemptRecord>& records) {
  std::vector<size_t> rows;
  rows.reserve(records.size());
  if (records.size() == 1) {
    rows.push_back(0);
    return rows;
  }
  // Ids hold no NUL (CheckId), so NUL separates the parts unambiguously.
  std::unordered_set<std::string> seen;
  seen.reserve(records.size());
  for (size_t i = records.size(); i-- > 0;) {
    const AttemptRecord& r = records[i];
    std::string key = r.run.str();
    key.push_back('\0');
    key += r.task.str();
    key.push_back('\0');
    key += std::to_string(r.attempt);
    if (seen.insert(std::move(key)).second) rows.push_back(i);
  }
  std::reverse(rows.begin(), rows.end());
  return rows;
}

void FillRow(const AttemptRecord& a, std::string&& outputs, AttemptSlots& slot) {
  slot.run_id = a.run.str();
  slot.task_id = a.task.str();
  slot.attempt = a.attempt;
  slot.state = TaskStateName(a.state);
  slot.queued_at = a.queued_us;
  slot.started_at = a.started_us;
  slot.ended_at = a.ended_us;
  slot.exit_code = a.exit_code.value_or(0);
  slot.exit_code_indicator = a.exit_code.has_value() ? soci::i_ok : soci::i_null;
  slot.error = a.error;
  slot.outputs = std::move(outputs);
}

void FillArrays(const std::vector<AttemptRecord>& records, const std::vector<std::string>& outputs,
                const std::vector<size_t>& rows, AttemptArrays& arrays) {
  ArrayLiteral run_ids(arrays.run_ids);
  ArrayLiteral task_ids(arrays.task_ids);
  ArrayLiteral attempts(arrays.attempts);
  ArrayLiteral states(arrays.states);
  ArrayLiteral queued_ats(arrays.queued_ats);
  ArrayLiteral started_ats(arrays.started_ats);
  ArrayLiteral ended_ats(arrays.ended_ats);
  ArrayLiteral exit_codes(arrays.exit_codes);
  ArrayLiteral errors(arrays.errors);
  ArrayLiteral output_maps(arrays.outputs);
  for (const size_t row : rows) {
    const AttemptRecord& a = records[row];
    run_ids.Text(a.run.str());
    task_ids.Text(a.task.str());
    attempts.Number(a.attempt);
    states.Text(TaskStateName(a.state));
    queued_ats.Number(a.queued_us);
    started_ats.Number(a.started_us);
    ended_ats.Number(a.ended_us);
    if (a.exit_code.has_value()) {
      exit_codes.Number(*a.exit_code);
    } else {
      exit_codes.Null();
    }
    errors.Text(a.error);
    output_maps.Text(outputs[row]);
  }
}

// A slot keeps its capacity for the next write, unless that would pin a rare huge batch.
void ReleaseIfLarge(std::string& slot) {
  constexpr size_t kKeptBytes = 64 * 1024;
  if (slot.capacity() > kKeptBytes) std::string().swap(slot);
}

// The writer's prepared statements are bound by reference to these; a write fills them, then
// executes.
struct WriteSlots {
  std::string run_id;
  std::string job_id;
  std::string status;
  std::string triggered_by;
  std::string owner;
  std::string error;
  std::string task_id;
  std::string data;
  long long created_at = 0;
  long long started_at = 0;
  long long ended_at = 0;
  long long attempt = 0;
  long long seq = 0;
  long long stream = 0;
  long long paused = 0;
  long long last_fire_at = 0;
  long long updated_at = 0;
  std::array<AttemptSlots, kMaxAttemptRows> attempt_rows;
  AttemptArrays attempt_arrays;
};

// The upsert of the first `rows` attempt rows.
std::unique_ptr<soci::statement> PrepareAttemptRows(soci::session& session, WriteSlots& s,
                                                    size_t rows, Dialect dialect) {
  auto statement = std::make_unique<soci::statement>(session);
  for (size_t i = 0; i < rows; ++i) {
    AttemptSlots& row = s.attempt_rows.at(i);
    const std::string n = std::to_string(i);
    statement->exchange(soci::use(row.run_id, "run_id" + n));
    statement->exchange(soci::use(row.task_id, "task_id" + n));
    statement->exchange(soci::use(row.attempt, "attempt" + n));
    statement->exchange(soci::use(row.state, "state" + n));
    statement->exchange(soci::use(row.queued_at, "queued_at" + n));
    statement->exchange(soci::use(row.started_at, "started_at" + n));
    statement->exchange(soci::use(row.ended_at, "ended_at" + n));
    statement->exchange(soci::use(row.exit_code, row.exit_code_indicator, "exit_code" + n));
    statement->exchange(soci::use(row.error, "error" + n));
    statement->exchange(soci::use(row.outputs, "outputs" + n));
  }
  statement->alloc();
  statement->prepare(UpsertAttemptRowsSql(dialect, rows));
  statement->define_and_bind();
  return statement;
}

std::unique_ptr<soci::statement> Prepare(soci::session& session, WriteSlots& s,
                                         WriteStatement which, Dialect dialect) {
  switch (which) {
    case WriteStatement::kInsertRun:
      return std::make_unique<soci::statement>(
          (session.prepare << InsertRunSql(dialect), soci::use(s.run_id, "run_id"),
           soci::use(s.job_id, "job_id"), soci::use(s.status, "status"),
           soci::use(s.triggered_by, "triggered_by"), soci::use(s.owner, "owner"),
           soci::use(s.created_at, "created_at"), soci::use(s.started_at, "started_at"),
           soci::use(s.ended_at, "ended_at"), soci::use(s.error, "error")));
    case WriteStatement::kUpdateRun:
      return std::make_unique<soci::statement>(
          (session.prepare << UpdateRunSql(dialect), soci::use(s.status, "status"),
           soci::use(s.started_at, "started_at"), soci::use(s.ended_at, "ended_at"),
           soci::use(s.error, "error"), soci::use(s.run_id, "run_id")));
    case WriteStatement::kUpsertAttemptArrays: {
      AttemptArrays& a = s.attempt_arrays;
      return std::make_unique<soci::statement>(
          (session.prepare << UpsertAttemptArraysSql(), soci::use(a.run_ids, "run_ids"),
           soci::use(a.task_ids, "task_ids"), soci::use(a.attempts, "attempts"),
           soci::use(a.states, "states"), soci::use(a.queued_ats, "queued_ats"),
           soci::use(a.started_ats, "started_ats"), soci::use(a.ended_ats, "ended_ats"),
           soci::use(a.exit_codes, "exit_codes"), soci::use(a.errors, "errors"),
           soci::use(a.outputs, "outputs")));
    }
    case WriteStatement::kInsertLog:
      return std::make_unique<soci::statement>(
          (session.prepare << InsertLogSql(dialect), soci::use(s.run_id, "run_id"),
           soci::use(s.task_id, "task_id"), soci::use(s.attempt, "attempt"),
           soci::use(s.seq, "seq"), soci::use(s.stream, "stream"), soci::use(s.data, "data")));
    case WriteStatement::kInterruptRun:
      return std::make_unique<soci::statement>(
          (session.prepare << InterruptRunSql(dialect), soci::use(s.ended_at, "ended_at"),
           soci::use(s.error, "error"), soci::use(s.run_id, "run_id")));
    case WriteStatement::kInterruptAttempts:
      return std::make_unique<soci::statement>(
          (session.prepare << InterruptAttemptsSql(dialect), soci::use(s.ended_at, "ended_at"),
           soci::use(s.error, "error"), soci::use(s.run_id, "run_id")));
    case WriteStatement::kUpsertJob:
      return std::make_unique<soci::statement>(
          (session.prepare << UpsertJobSql(dialect), soci::use(s.job_id, "job_id"),
           soci::use(s.paused, "paused"), soci::use(s.last_fire_at, "last_fire_at"),
           soci::use(s.updated_at, "updated_at")));
  }
  throw soci::soci_error("unknown write statement");
}

}  // namespace

struct SqlStateStore::Writer {
  explicit Writer(Dialect d) : dialect(d) {}

  soci::session session;  // declared first: the statements must be destroyed before it
  const Dialect dialect;
  WriteSlots slots;
  // The WriteStatements, then the attempt upserts of 1, 2, 4, ... rows; null until first used.
  static constexpr size_t kStatements = kWriteStatements + kAttemptRowStatements;
  std::array<std::unique_ptr<soci::statement>, kStatements> statements;
  std::bitset<kStatements> used;  // by the write under way

  // The prepared statement, prepared on first use.
  soci::statement& Get(WriteStatement which) {
    const auto index = static_cast<size_t>(which);
    used.set(index);
    std::unique_ptr<soci::statement>& statement = statements.at(index);
    if (statement == nullptr) statement = Prepare(session, slots, which, dialect);
    return *statement;
  }

  // The upsert of the first `rows` slots.attempt_rows; `rows` is a power of two up to
  // kMaxAttemptRows.
  soci::statement& GetAttemptRows(size_t rows) {
    const size_t index = kWriteStatements + static_cast<size_t>(std::countr_zero(rows));
    used.set(index);
    std::unique_ptr<soci::statement>& statement = statements.at(index);
    if (statement == nullptr) statement = PrepareAttemptRows(session, slots, rows, dialect);
    return *statement;
  }

  // A SOCI 4.0 statement that threw overwrites (leaks) its parameter buffers on its next
  // execution, and may refer to a table that changed; the next use prepares a fresh one.
  void ForgetUsed() {
    for (size_t i = 0; i < kStatements; ++i) {
      if (used.test(i)) statements.at(i).reset();
    }
  }
};

SqlStateStore::SqlStateStore(Dialect dialect, std::string target, std::string display)
    : dialect_(dialect), target_(std::move(target)), display_(std::move(display)) {}

SqlStateStore::~SqlStateStore() = default;

Result<std::unique_ptr<SqlStateStore>> SqlStateStore::Open(Dialect dialect, std::string target,
                                                           std::string display) {
  if (dialect == Dialect::kSqlite) {
    // Absolute, so that sessions opened later do not depend on the working directory then.
    std::error_code error;
    const std::filesystem::path path = std::filesystem::absolute(target, error);
    const std::filesystem::path parent = path.parent_path();
    if (!error) std::filesystem::create_directories(parent, error);
    if (error) {
      return Unavailable("cannot open SQLite database " + display + ": cannot create directory " +
                         parent.string() + ": " + error.message());
    }
    target = path.string();
  }
  std::unique_ptr<SqlStateStore> store(
      new SqlStateStore(dialect, std::move(target), std::move(display)));
  Result<std::unique_ptr<Writer>> writer = store->OpenWriter();
  if (!writer.ok()) return writer.status();
  store->writer_ = std::move(writer).value();

  const size_t readers = dialect == Dialect::kSqlite ? kSqliteReaders : kPostgresqlReaders;
  try {
    store->readers_ = std::make_unique<soci::connection_pool>(readers);
    for (size_t i = 0; i < readers; ++i) {
      store->Connect(store->readers_->at(i), /*read_only=*/true);
    }
  } catch (const std::exception& error) {
    return store->ConnectFailure(error);
  }
  return store;
}

void SqlStateStore::Connect(soci::session& session, bool read_only) const {
  if (dialect_ == Dialect::kSqlite) {
    session.open(soci::sqlite3, target_);
  } else {
    session.open(soci::postgresql, target_);
  }
  SetUpSession(session, read_only);
}

void SqlStateStore::SetUpSession(soci::session& session, bool read_only) const {
  if (dialect_ == Dialect::kPostgresql) {
    // Text crosses as UTF-8 whatever the server's or the environment's default.
    ExecuteScript(session, dialect_, "SET client_encoding = 'UTF8'");
    return;
  }
  EnableExtendedResultCodes(session);
  std::string pragmas = "PRAGMA busy_timeout = " + std::to_string(kSqliteBusyTimeoutMs) +
                        "; PRAGMA foreign_keys = ON;";
  // WAL lets readers run beside the one writer; NORMAL keeps commits durable against a crash of
  // this process (only power loss may lose the last commits) without an fsync per commit.
  pragmas += read_only ? " PRAGMA query_only = ON;" : " PRAGMA synchronous = NORMAL;";
  ExecuteScript(session, dialect_, pragmas);
  if (!read_only) EnableWal(session);
}

void SqlStateStore::EnableWal(soci::session& session) const {
  // Switching a new file to WAL needs a moment of exclusive access, and SQLite reports
  // SQLITE_BUSY here without consulting the busy handler when several processes open the same
  // new database at once. Retry for as long as busy_timeout would have waited.
  constexpr auto kRetryEvery = std::chrono::milliseconds(5);
  const auto give_up =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kSqliteBusyTimeoutMs);
  for (;;) {
    try {
      ExecuteScript(session, dialect_, "PRAGMA journal_mode = WAL;");
      return;
    } catch (const std::exception& error) {
      if (ClassifyFailure(error, dialect_) != SqlFailure::kBusy ||
          std::chrono::steady_clock::now() >= give_up) {
        throw;
      }
    }
    std::this_thread::sleep_for(kRetryEvery);
  }
}

Status SqlStateStore::ConnectFailure(const std::exception& error) const {
  const std::string message = FailureMessage(error);
  if (dialect_ == Dialect::kPostgresql) {
    return Unavailable("cannot connect to PostgreSQL at " + display_ + ": " + message);
  }
  const SqlFailure failure = ClassifyFailure(error, dialect_);
  const StatusCode code = failure == SqlFailure::kNotADatabase ? StatusCode::kFailedPrecondition
                                                               : StatusCode::kUnavailable;
  return Status(code, "cannot open SQLite database " + display_ + ": " + message);
}

Result<std::unique_ptr<SqlStateStore::Writer>> SqlStateStore::OpenWriter() const {
  auto writer = std::make_unique<Writer>(dialect_);
  try {
    Connect(writer->session, /*read_only=*/false);
  } catch (const std::exception& error) {
    return ConnectFailure(error);
  }
  PETIT_RETURN_IF_ERROR(MigrateSchema(writer->session, dialect_).WithContext(display_));
  return writer;
}

Status SqlStateStore::FailureStatus(const std::exception& error, const WriteErrors& errors) const {
  const std::string message = FailureMessage(error);
  switch (ClassifyFailure(error, dialect_)) {
    case SqlFailure::kUniqueViolation:
      if (!errors.on_unique.empty()) return AlreadyExists(errors.on_unique);
      break;
    case SqlFailure::kForeignKeyViolation:
      if (!errors.on_foreign_key.empty()) return NotFound(errors.on_foreign_key);
      break;
    case SqlFailure::kBusy:
      return Unavailable(errors.operation + ": the database " + display_ +
                         " stayed locked by another writer: " + message);
    case SqlFailure::kConnection:
      return Unavailable(errors.operation + ": lost the connection to " + display_ + ": " +
                         message);
    case SqlFailure::kCannotOpen:
      return Unavailable(errors.operation + ": " + display_ + ": " + message);
    case SqlFailure::kNotADatabase:
    case SqlFailure::kOther:
      break;
  }
  return Internal(errors.operation + ": " + message);
}

Status SqlStateStore::Write(const WriteErrors& errors, const std::function<Status(Writer&)>& write,
                            bool in_transaction) {
  std::lock_guard lock(write_mu_);
  if (writer_ == nullptr) {
    Result<std::unique_ptr<Writer>> writer = OpenWriter();
    if (!writer.ok()) return writer.status().WithContext(errors.operation);
    writer_ = std::move(writer).value();
  }
  writer_->used.reset();
  try {
    if (!in_transaction) return write(*writer_);
    // Rolled back by the destructor unless committed, also when `write` throws.
    soci::transaction transaction(writer_->session);
    Status status = write(*writer_);
    if (status.ok()) transaction.commit();
    return status;
  } catch (const std::exception& error) {
    Status status = FailureStatus(error, errors);
    if (ConnectionLost(writer_->session, dialect_)) {
      writer_.reset();
    } else {
      writer_->ForgetUsed();
    }
    return status;
  }
}

Status SqlStateStore::Read(std::string_view operation,
                           const std::function<Status(soci::session&)>& read) {
  Lease lease(*readers_);
  soci::session& session = lease.session();
  // Reads are idempotent, so one that failed because the connection had died (a server restart)
  // is tried once more on a fresh connection.
  for (int attempt = 0;; ++attempt) {
    try {
      if (ConnectionLost(session, dialect_)) {
        session.reconnect();
        SetUpSession(session, /*read_only=*/true);
      }
      return read(session);
    } catch (const std::exception& error) {
      if (attempt == 0 && ClassifyFailure(error, dialect_) == SqlFailure::kConnection) continue;
      return FailureStatus(error, WriteErrors{std::string(operation), "", ""});
    }
  }
}

Status SqlStateStore::CreateRun(const RunRecord& run) {
  Result<RunRecord> normalized = NormalizeRun(run);
  if (!normalized.ok()) return normalized.status();
  const RunRecord& r = *normalized;
  const WriteErrors errors{"cannot create " + DescribeRun(r.id),
                           DescribeRun(r.id) + " already exists", ""};
  return Write(errors, [&](Writer& writer) {
    WriteSlots& s = writer.slots;
    s.run_id = r.id.str();
    s.job_id = r.job.str();
    s.status = std::string(RunStatusName(r.status));
    s.triggered_by = r.trigger;
    s.owner = r.owner;
    s.created_at = r.created_us;
    s.started_at = r.started_us;
    s.ended_at = r.ended_us;
    s.error = r.error;
    writer.Get(WriteStatement::kInsertRun).execute(true);
    return Status::Ok();
  });
}

Status SqlStateStore::UpdateRun(const RunRecord& run) {
  Result<RunRecord> normalized = NormalizeRun(run);
  if (!normalized.ok()) return normalized.status();
  const RunRecord& r = *normalized;
  const WriteErrors errors{"cannot update " + DescribeRun(r.id), "", ""};
  return Write(errors, [&](Writer& writer) {
    WriteSlots& s = writer.slots;
    s.run_id = r.id.str();
    s.status = std::string(RunStatusName(r.status));
    s.started_at = r.started_us;
    s.ended_at = r.ended_us;
    s.error = r.error;
    soci::statement& update = writer.Get(WriteStatement::kUpdateRun);
    update.execute(true);
    if (update.get_affected_rows() == 0) {
      return NotFound(DescribeRun(r.id) + " does not exist");
    }
    return Status::Ok();
  });
}

Result<std::optional<RunRecord>> SqlStateStore::GetRun(const RunId& id) {
  std::vector<RunRecord> runs;
  const std::string sql = "SELECT " + RunColumns(dialect_) + " FROM runs WHERE id = :id";
  Status status = Read("cannot read " + DescribeRun(id), [&](soci::session& session) {
    return CollectRuns(
        session, sql, [&](Query& query) { query.Use(id.str(), "id"); }, runs);
  });
  if (!status.ok()) return status;
  if (runs.empty()) return std::optional<RunRecord>();
  return std::optional<RunRecord>(std::move(runs.front()));
}

Result<std::vector<RunRecord>> SqlStateStore::ListRuns(const JobId& job, size_t limit) {
  std::vector<RunRecord> runs;
  if (limit == 0) return runs;
  std::string sql = "SELECT " + RunColumns(dialect_) + " FROM runs";
  if (!job.empty()) sql += " WHERE job_id = :job";
  sql += " ORDER BY created_at DESC, id DESC LIMIT :limit";
  const long long sql_limit = SqlLimit(limit);
  const std::string operation =
      job.empty() ? std::string("cannot list runs") : "cannot list runs of " + DescribeJob(job);
  Status status = Read(operation, [&](soci::session& session) {
    return CollectRuns(
        session, sql,
        [&](Query& query) {
          if (!job.empty()) query.Use(job.str(), "job");
          query.Use(sql_limit, "limit");
        },
        runs);
  });
  if (!status.ok()) return status;
  return runs;
}

Status SqlStateStore::SaveAttempts(std::span<const AttemptRecord> attempts) {
  if (attempts.empty()) return Status::Ok();
  std::vector<AttemptRecord> normalized;
  std::vector<std::string> outputs;
  normalized.reserve(attempts.size());
  outputs.reserve(attempts.size());
  for (const AttemptRecord& attempt : attempts) {
    Result<AttemptRecord> record = NormalizeAttempt(attempt);
    if (!record.ok()) return record.status();
    outputs.push_back(EncodeOutputs(record->outputs));
    normalized.push_back(std::move(record).value());
  }
  const AttemptRecord& first = normalized.front();
  const std::string what =
      normalized.size() == 1
          ? DescribeAttempt(first.run, first.task, first.attempt)
          : std::to_string(normalized.size()) + " task attempts of " + DescribeRun(first.run);
  const WriteErrors errors{"cannot save " + what, "",
                           "cannot save " + what + ": the run does not exist"};
  const std::vector<size_t> rows = LastOfEachKey(normalized);
  // PostgreSQL takes the batch in one round trip with arrays; SQLite, in process, gains nothing
  // from parsing them and takes multi-row statements.
  const bool as_arrays = dialect_ == Dialect::kPostgresql && rows.size() > 1;
  const size_t statements = as_arrays ? 1 : AttemptRowStatements(rows.size());
  return Write(
      errors,
      [&](Writer& writer) {
        if (as_arrays) {
          AttemptArrays& arrays = writer.slots.attempt_arrays;
          FillArrays(normalized, outputs, rows, arrays);
          writer.Get(WriteStatement::kUpsertAttemptArrays).execute(true);
          for (std::string* array :
               {&arrays.run_ids, &arrays.task_ids, &arrays.attempts, &arrays.states,
                &arrays.queued_ats, &arrays.started_ats, &arrays.ended_ats, &arrays.exit_codes,
                &arrays.errors, &arrays.outputs}) {
            ReleaseIfLarge(*array);
          }
          return Status::Ok();
        }
        for (size_t done = 0; done < rows.size();) {
          const size_t chunk = std::bit_floor(std::min(rows.size() - done, kMaxAttemptRows));
          for (size_t i = 0; i < chunk; ++i) {
            const size_t row = rows[done + i];
            FillRow(normalized[row], std::move(outputs[row]), writer.slots.attempt_rows.at(i));
          }
          writer.GetAttemptRows(chunk).execute(true);
          done += chunk;
        }
        for (AttemptSlots& slot : writer.slots.attempt_rows) {
          ReleaseIfLarge(slot.error);
          ReleaseIfLarge(slot.outputs);
        }
        return Status::Ok();
      },
      /*in_transaction=*/statements > 1);
}

Result<std::vector<AttemptRecord>> SqlStateStore::ListAttempts(const RunId& run) {
  std::vector<AttemptRecord> attempts;
  const std::string sql = "SELECT task_id, attempt, state, " + TimeOut(dialect_, "queued_at") +
                          ", " + TimeOut(dialect_, "started_at") + ", " +
                          TimeOut(dialect_, "ended_at") +
                          ", exit_code, error, outputs FROM task_attempts WHERE run_id = :run "
                          "ORDER BY task_id, attempt";
  Status status =
      Read("cannot list the attempts of " + DescribeRun(run), [&](soci::session& session) {
        attempts.clear();
        Status row_status;
        std::string task;
        long long attempt = 0;
        std::string state;
        long long queued_at = 0;
        long long started_at = 0;
        long long ended_at = 0;
        int exit_code = 0;
        soci::indicator exit_code_indicator = soci::i_null;
        std::string error;
        std::string outputs;
        Query query(session);
        query.Into(task)
            .Into(attempt)
            .Into(state)
            .Into(queued_at)
            .Into(started_at)
            .Into(ended_at)
            .Into(exit_code, exit_code_indicator)
            .Into(error)
            .Into(outputs);
        query.Use(run.str(), "run").ForEachRow(sql, [&] {
          if (!row_status.ok()) return;
          AttemptRecord record;
          record.run = run;
          record.task = TaskId(task);
          Result<uint32_t> number = ToUint32(attempt, "attempt number");
          if (!number.ok()) {
            row_status = number.status();
            return;
          }
          record.attempt = *number;
          const std::string what = DescribeAttempt(run, record.task, record.attempt);
          Result<TaskState> task_state = ParseTaskState(state);
          if (!task_state.ok()) {
            row_status = Internal("stored " + what + ": " + task_state.status().message());
            return;
          }
          record.state = *task_state;
          record.queued_us = queued_at;
          record.started_us = started_at;
          record.ended_us = ended_at;
          if (exit_code_indicator == soci::i_ok) record.exit_code = exit_code;
          record.error = error;
          Result<ValueMap> decoded = DecodeOutputs(outputs);
          if (!decoded.ok()) {
            row_status = decoded.status().WithContext("stored " + what);
            return;
          }
          record.outputs = std::move(decoded).value();
          attempts.push_back(std::move(record));
        });
        return row_status;
      });
  if (!status.ok()) return status;
  return attempts;
}

Status SqlStateStore::AppendLog(const LogChunk& chunk) {
  PETIT_RETURN_IF_ERROR(CheckLogChunk(chunk));
  const std::string what = DescribeChunk(chunk);
  const WriteErrors errors{"cannot append " + what, what + " already exists",
                           "cannot append " + what + ": the run does not exist"};
  std::string hex;
  if (BytesTravelAsHex(dialect_)) hex = HexEncode(chunk.data);
  return Write(errors, [&](Writer& writer) {
    WriteSlots& s = writer.slots;
    s.run_id = chunk.run.str();
    s.task_id = chunk.task.str();
    s.attempt = chunk.attempt;
    s.seq = chunk.seq;
    s.stream = static_cast<long long>(chunk.stream);
    if (BytesTravelAsHex(dialect_)) {
      s.data.swap(hex);
    } else {
      s.data = chunk.data;
    }
    writer.Get(WriteStatement::kInsertLog).execute(true);
    // The slot would otherwise keep the largest chunk ever written alive.
    std::string().swap(s.data);
    return Status::Ok();
  });
}

Result<std::vector<LogChunk>> SqlStateStore::ReadLogs(const RunId& run, const LogQuery& query) {
  std::vector<LogChunk> chunks;
  if (query.limit == 0) return chunks;
  std::string sql = "SELECT task_id, attempt, seq, stream, " + BytesOut(dialect_, "data") +
                    " FROM task_logs WHERE run_id = :run";
  if (!query.task.empty()) sql += " AND task_id = :task";
  if (query.attempt != 0) sql += " AND attempt = :attempt";
  // A row-value comparison, which both databases answer from the primary key's order.
  if (query.after.has_value()) {
    sql += " AND (task_id, attempt, seq) > (:after_task, :after_attempt, :after_seq)";
  }
  sql += " ORDER BY task_id, attempt, seq LIMIT :limit";
  const long long attempt = query.attempt;
  const long long after_attempt = query.after.has_value() ? query.after->attempt : 0;
  const long long after_seq = query.after.has_value() ? query.after->seq : 0;
  const long long sql_limit = SqlLimit(query.limit);
  const std::string operation =
      "cannot read the logs of " + (query.task.empty()
                                        ? DescribeRun(run)
                                        : "task '" + query.task.str() + "' of " + DescribeRun(run));
  Status status = Read(operation, [&](soci::session& session) {
    chunks.clear();
    Status row_status;
    std::string task_id;
    long long chunk_attempt = 0;
    long long seq = 0;
    long long stream = 0;
    std::string data;
    Query select(session);
    select.Into(task_id).Into(chunk_attempt).Into(seq).Into(stream).Into(data);
    select.Use(run.str(), "run");
    if (!query.task.empty()) select.Use(query.task.str(), "task");
    if (query.attempt != 0) select.Use(attempt, "attempt");
    if (query.after.has_value()) {
      select.Use(query.after->task.str(), "after_task")
          .Use(after_attempt, "after_attempt")
          .Use(after_seq, "after_seq");
    }
    select.Use(sql_limit, "limit").ForEachRow(sql, [&] {
      if (!row_status.ok()) return;
      LogChunk chunk;
      chunk.run = run;
      chunk.task = TaskId(task_id);
      Result<uint32_t> attempt_number = ToUint32(chunk_attempt, "attempt number");
      Result<uint32_t> seq_number = ToUint32(seq, "log sequence number");
      Result<OutputStream> output_stream = StreamFromStored(stream);
      if (!attempt_number.ok() || !seq_number.ok() || !output_stream.ok()) {
        row_status = !attempt_number.ok() ? attempt_number.status()
                     : !seq_number.ok()   ? seq_number.status()
                                          : output_stream.status();
        return;
      }
      chunk.attempt = *attempt_number;
      chunk.seq = *seq_number;
      chunk.stream = *output_stream;
      if (BytesTravelAsHex(dialect_)) {
        Result<std::string> bytes = HexDecode(data);
        if (!bytes.ok()) {
          row_status = bytes.status().WithContext("stored " + DescribeChunk(chunk));
          return;
        }
        chunk.data = std::move(bytes).value();
      } else {
        chunk.data = std::move(data);
      }
      chunks.push_back(std::move(chunk));
    });
    return row_status;
  });
  if (!status.ok()) return status;
  return chunks;
}

Result<std::vector<RunRecord>> SqlStateStore::ListIncompleteRuns() {
  std::vector<RunRecord> runs;
  const std::string sql = "SELECT " + RunColumns(dialect_) + " FROM runs WHERE " +
                          IncompleteRunCondition() + " ORDER BY created_at, id";
  Status status = Read("cannot list the incomplete runs", [&](soci::session& session) {
    return CollectRuns(
        session, sql, [](Query&) {}, runs);
  });
  if (!status.ok()) return status;
  return runs;
}

Status SqlStateStore::MarkInterrupted(const RunId& run, std::string_view reason, int64_t ended_us) {
  PETIT_RETURN_IF_ERROR(CheckRunId(run));
  const std::string error = SanitizeText(reason);
  const WriteErrors errors{"cannot mark " + DescribeRun(run) + " interrupted", "", ""};
  return Write(
      errors,
      [&](Writer& writer) {
        WriteSlots& s = writer.slots;
        s.run_id = run.str();
        s.ended_at = ended_us;
        s.error = error;
        soci::statement& interrupt_run = writer.Get(WriteStatement::kInterruptRun);
        interrupt_run.execute(true);
        if (interrupt_run.get_affected_rows() == 0) return WhyNotInterrupted(writer.session, run);
        writer.Get(WriteStatement::kInterruptAttempts).execute(true);
        return Status::Ok();
      },
      /*in_transaction=*/true);
}

Result<std::optional<RunRecord>> SqlStateStore::LastRun(const JobId& job,
                                                        std::span<const RunStatus> statuses,
                                                        int64_t ended_since_us) {
  std::vector<RunRecord> runs;
  if (statuses.empty()) return std::optional<RunRecord>();
  std::vector<std::string> names;
  names.reserve(statuses.size());
  std::string sql =
      "SELECT " + RunColumns(dialect_) + " FROM runs WHERE job_id = :job AND status IN (";
  for (size_t i = 0; i < statuses.size(); ++i) {
    names.emplace_back(RunStatusName(statuses[i]));
    sql += (i == 0 ? ":status" : ", :status") + std::to_string(i);
  }
  // A run not ended yet has no end time (NULL) and counts as ended at 0.
  sql += ") AND (ended_at >= " + TimeIn(dialect_, "since", false);
  if (ended_since_us <= 0) sql += " OR ended_at IS NULL";
  sql += ") ORDER BY ended_at DESC NULLS LAST, id DESC LIMIT 1";
  const long long since = ended_since_us;
  Status status =
      Read("cannot find the last run of " + DescribeJob(job), [&](soci::session& session) {
        return CollectRuns(
            session, sql,
            [&](Query& query) {
              query.Use(job.str(), "job");
              for (size_t i = 0; i < names.size(); ++i) {
                query.Use(names[i], "status" + std::to_string(i));
              }
              query.Use(since, "since");
            },
            runs);
      });
  if (!status.ok()) return status;
  if (runs.empty()) return std::optional<RunRecord>();
  return std::optional<RunRecord>(std::move(runs.front()));
}

Status SqlStateStore::SaveJob(const JobRecord& job) {
  PETIT_RETURN_IF_ERROR(CheckJobId(job.id));
  const WriteErrors errors{"cannot save " + DescribeJob(job.id), "", ""};
  return Write(errors, [&](Writer& writer) {
    WriteSlots& s = writer.slots;
    s.job_id = job.id.str();
    s.paused = job.paused ? 1 : 0;
    s.last_fire_at = job.last_fire_us;
    s.updated_at = job.updated_us;
    writer.Get(WriteStatement::kUpsertJob).execute(true);
    return Status::Ok();
  });
}

Result<std::optional<JobRecord>> SqlStateStore::GetJob(const JobId& id) {
  std::vector<JobRecord> jobs;
  const std::string sql = "SELECT " + JobColumns(dialect_) + " FROM jobs WHERE id = :id";
  Status status = Read("cannot read " + DescribeJob(id), [&](soci::session& session) {
    return CollectJobs(
        session, sql, [&](Query& query) { query.Use(id.str(), "id"); }, jobs);
  });
  if (!status.ok()) return status;
  if (jobs.empty()) return std::optional<JobRecord>();
  return std::optional<JobRecord>(std::move(jobs.front()));
}

Result<std::vector<JobRecord>> SqlStateStore::ListJobs() {
  std::vector<JobRecord> jobs;
  const std::string sql = "SELECT " + JobColumns(dialect_) + " FROM jobs ORDER BY id";
  Status status = Read("cannot list jobs", [&](soci::session& session) {
    return CollectJobs(
        session, sql, [](Query&) {}, jobs);
  });
  if (!status.ok()) return status;
  return jobs;
}

}  // namespace petit::storage::internal
