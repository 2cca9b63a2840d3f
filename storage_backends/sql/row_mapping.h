// Rows to records and records to rows, for the SQL backend. A query's columns are fetched into a
// *Row (RunRow, AttemptRow, LogRow, JobRow), which decodes them into a record and says what is
// wrong with a row that does not decode; a prepared write binds the members of a *Params, which a
// write fills from a record before it executes the statement. Names, order and meaning of the
// columns and parameters are those statements.h documents.
//
// Ownership: a statement refers to the members of the Row or Params bound to it, so these must
// outlive the statement (a Query, or a prepared statement of the writer session).
// Threads: none of these types is thread-safe; each belongs to the one session that uses it.
#ifndef PETIT_STORAGE_SQL_ROW_MAPPING_H_
#define PETIT_STORAGE_SQL_ROW_MAPPING_H_

#include <soci/soci.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "petit/core/state_store.h"
#include "petit/core/status.h"
#include "sql/dialect.h"
#include "sql/statements.h"

namespace petit::storage::internal {

class Query;

// A read statement a reader session keeps prepared, with the variables it is bound to: the row
// it fetches into (a Row of the query's type, owned here) and a copy of each parameter. SQLite
// parses a query in about as long as it takes to run it on an index (perf of GET
// /api/runs/{id}/tasks: 29% of the API's CPU in sqlite3_prepare_v2), so a reader prepares each
// query text once.
class PreparedRead {
 public:
  explicit PreparedRead(soci::session& session) : statement_(session) {}
  PreparedRead(const PreparedRead&) = delete;
  PreparedRead& operator=(const PreparedRead&) = delete;

  // The row the statement fetches into, made on first use; `Row` is the same on every use (one
  // query text is always read into one Row type).
  template <typename Row>
  Row& row() {
    if (row_ == nullptr) row_ = std::make_shared<Row>();
    return *static_cast<Row*>(row_.get());
  }

 private:
  friend class Query;
  struct SlotBase {
    virtual ~SlotBase() = default;
  };
  template <typename T>
  struct Slot final : SlotBase {
    explicit Slot(const T& v) : value(v) {}
    T value;
  };

  soci::statement statement_;
  std::shared_ptr<void> row_;
  std::vector<std::unique_ptr<SlotBase>> slots_;
  bool prepared_ = false;
};

// The prepared reads of one reader session, by query text. Only the thread that leases the
// session uses it. Cleared when the session reconnects (its statements die with the connection);
// a read that throws drops its statement, which may be left mid-step.
class ReadStatementCache {
 public:
  // Past this many query texts the cache starts over (QueryRuns and ReadLogs build their text
  // from the filters given, so the number of texts is bounded but not small).
  static constexpr size_t kMaxStatements = 64;

  // The statement for `sql` on `session`, prepared on its first execution.
  PreparedRead& Get(soci::session& session, const std::string& sql);
  void Drop(const std::string& sql) { statements_.erase(sql); }
  void Clear() { statements_.clear(); }

  // The cache of the read running on this thread (Database::Read sets it around a read on a
  // SQLite reader session), or null: ReadRows then prepares its query once, as before.
  static ReadStatementCache* Current();
  class Scope {
   public:
    explicit Scope(ReadStatementCache* cache);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    ReadStatementCache* previous_;
  };

 private:
  std::unordered_map<std::string, std::unique_ptr<PreparedRead>> statements_;
};

// A query, its rows fetched one by one into the bound variables. Made on a session it is executed
// once: unlike a prepared statement, a single round trip on PostgreSQL (PQexecParams, no
// PREPARE/DEALLOCATE). Made on a PreparedRead it binds the variables on the first execution and
// after that only copies the parameters into the PreparedRead's. Borrows what it is made on.
class Query {
 public:
  explicit Query(soci::session& session) : one_time_(std::in_place, session) {}
  explicit Query(PreparedRead& prepared) : prepared_(&prepared) {}

  template <typename T>
  Query& Into(T& value) {
    if (Binding()) statement().exchange(soci::into(value));
    return *this;
  }
  template <typename T>
  Query& Into(T& value, soci::indicator& indicator) {
    if (Binding()) statement().exchange(soci::into(value, indicator));
    return *this;
  }
  template <typename T>
  Query& Use(const T& value, const std::string& name) {
    if (prepared_ == nullptr) {
      one_time_->exchange(soci::use(value, name));
      return *this;
    }
    using Slot = PreparedRead::Slot<T>;
    std::vector<std::unique_ptr<PreparedRead::SlotBase>>& slots = prepared_->slots_;
    if (!prepared_->prepared_) {
      slots.push_back(std::make_unique<Slot>(value));
      prepared_->statement_.exchange(soci::use(static_cast<Slot&>(*slots.back()).value, name));
    } else {
      auto* slot = next_use_ < slots.size() ? dynamic_cast<Slot*>(slots[next_use_].get()) : nullptr;
      if (slot == nullptr) throw soci::soci_error("a prepared read's parameters changed: " + name);
      slot->value = value;
    }
    ++next_use_;
    return *this;
  }

  // Calls `on_row` after each row is fetched, until the last. Throws soci::soci_error.
  template <typename OnRow>
  void ForEachRow(const std::string& sql, OnRow&& on_row) {
    soci::statement& st = statement();
    if (prepared_ == nullptr || !prepared_->prepared_) {
      st.alloc();
      st.prepare(sql, prepared_ == nullptr ? soci::details::st_one_time_query
                                           : soci::details::st_repeatable_query);
      st.define_and_bind();
      if (prepared_ != nullptr) prepared_->prepared_ = true;
    } else if (next_use_ != prepared_->slots_.size()) {
      throw soci::soci_error("a prepared read's parameters changed");
    }
    if (!st.execute(true)) return;
    do {
      on_row();
    } while (st.fetch());
  }

 private:
  bool Binding() const { return prepared_ == nullptr || !prepared_->prepared_; }
  soci::statement& statement() { return prepared_ == nullptr ? *one_time_ : prepared_->statement_; }

  std::optional<soci::statement> one_time_;
  PreparedRead* prepared_ = nullptr;
  size_t next_use_ = 0;
};

// A row of the queries on runs.
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
  long long retries = 0;
  long long retried_at = 0;
  long long occurrence_at = 0;

  void Bind(Query& query);
  Result<RunRecord> ToRecord() const;
};

// A row of ListAttemptsSql; the run is the one the query named.
struct AttemptRow {
  std::string task;
  std::string state;
  std::string error;
  std::string outputs;
  long long attempt = 0;
  long long queued_at = 0;
  long long started_at = 0;
  long long ended_at = 0;
  int exit_code = 0;
  soci::indicator exit_code_indicator = soci::i_null;

  void Bind(Query& query);
  Result<AttemptRecord> ToRecord(const RunId& run) const;
};

// A row of ReadLogsSql; the run is the one the query named.
struct LogRow {
  std::string task;
  std::string data;  // hex where BytesTravelAsHex
  long long attempt = 0;
  long long seq = 0;
  long long stream = 0;

  void Bind(Query& query);
  // Moves `data` into the chunk.
  Result<LogChunk> ToRecord(const RunId& run, Dialect dialect);
};

// A row of the queries on jobs.
struct JobRow {
  std::string id;
  long long paused = 0;
  long long last_fire_at = 0;
  long long updated_at = 0;

  void Bind(Query& query);
  JobRecord ToRecord() const;
};

// Executes `sql` once, with the parameters `bind(query)` adds, and replaces `records` with its
// rows, each fetched into a Row and decoded by `decode(row)` (a Result<Record>). The first row that
// does not decode ends the read with its error. Throws soci::soci_error.
template <typename Row, typename Record, typename Bind, typename Decode>
Status ReadRows(soci::session& session, const std::string& sql, Bind&& bind, Decode&& decode,
                std::vector<Record>& records) {
  records.clear();
  Status status;
  auto read = [&](Query& query, Row& row) {
    query.ForEachRow(sql, [&] {
      if (!status.ok()) return;
      Result<Record> record = decode(row);
      if (record.ok()) {
        records.push_back(std::move(record).value());
      } else {
        status = record.status();
      }
    });
  };
  ReadStatementCache* cache = ReadStatementCache::Current();
  if (cache == nullptr) {
    Row row;
    Query query(session);
    row.Bind(query);
    bind(query);
    read(query, row);
    return status;
  }
  PreparedRead& prepared = cache->Get(session, sql);
  try {
    Row& row = prepared.row<Row>();
    Query query(prepared);
    row.Bind(query);
    bind(query);
    read(query, row);
  } catch (...) {
    cache->Drop(sql);
    throw;
  }
  return status;
}

// A LIMIT parameter: `limit`, capped to what the column type holds.
long long SqlLimit(size_t limit);

// The parameters of kInsertRun and kUpdateRun.
struct RunParams {
  std::string run_id;
  std::string job_id;
  std::string status;
  std::string triggered_by;
  std::string owner;
  std::string error;
  long long created_at = 0;
  long long started_at = 0;
  long long ended_at = 0;
  long long retries = 0;
  long long retried_at = 0;
  long long occurrence_at = 0;

  void Fill(const RunRecord& run);
};

// The parameters of kInterruptRun and kInterruptAttempts.
struct InterruptParams {
  std::string run_id;
  std::string error;
  long long ended_at = 0;
};

// The parameters of kReopenRun.
struct ReopenParams {
  std::string run_id;
  std::string owner;
  long long retried_at = 0;
};

// The parameters of kInsertLog.
struct LogParams {
  std::string run_id;
  std::string task_id;
  std::string data;
  long long attempt = 0;
  long long seq = 0;
  long long stream = 0;

  // `data` is the chunk's data as it travels (LogDataParam).
  void Fill(const LogChunk& chunk, std::string&& data);
};

// The chunk's data as kInsertLog takes it: hex where BytesTravelAsHex, the bytes elsewhere.
std::string LogDataParam(Dialect dialect, const LogChunk& chunk);

// The parameters of kUpsertJob.
struct JobParams {
  std::string job_id;
  long long paused = 0;
  long long last_fire_at = 0;
  long long updated_at = 0;

  void Fill(const JobRecord& job);
};

// The parameters and the selected columns of kOccurrenceRun and kActiveRunsOfJob.
struct AdmitParams {
  std::string job;
  long long occurrence_at = 0;
  std::string id;     // selected: a run's id
  std::string owner;  // selected by kOccurrenceRun: that run's owner
};

// The parameters of every single-row write, and admission's queries.
struct WriteParams {
  RunParams run;
  InterruptParams interrupt;
  ReopenParams reopen;
  LogParams log;
  JobParams job;
  AdmitParams admit;
};

// Binds the parameters of `statement` (any WriteStatement but the attempt upserts) to the members
// of `params`.
void BindWriteParams(WriteStatement statement, WriteParams& params, soci::statement& prepared);

// One row of a multi-row attempt upsert (kUpsertAttemptRows*).
struct AttemptParams {
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

  // `outputs` is the attempt's outputs encoded (EncodeOutputs).
  void Fill(const AttemptRecord& attempt, std::string&& outputs);
  // Binds this as row `row` of the statement.
  void Bind(size_t row, soci::statement& prepared);
};

}  // namespace petit::storage::internal

#endif  // PETIT_STORAGE_SQL_ROW_MAPPING_H_
