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
#include <string>
#include <utility>
#include <vector>

#include "petit/core/state_store.h"
#include "petit/core/status.h"
#include "sql/dialect.h"
#include "sql/statements.h"

namespace petit::storage::internal {

// A query executed once, its rows fetched one by one into the bound variables. Unlike a prepared
// statement this is a single round trip on PostgreSQL (PQexecParams, no PREPARE/DEALLOCATE).
// Borrows `session`, which must outlive it.
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

  // Calls `on_row` after each row is fetched. Throws soci::soci_error.
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
  Row row;
  Query query(session);
  row.Bind(query);
  bind(query);
  query.ForEachRow(sql, [&] {
    if (!status.ok()) return;
    Result<Record> record = decode(row);
    if (record.ok()) {
      records.push_back(std::move(record).value());
    } else {
      status = record.status();
    }
  });
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
