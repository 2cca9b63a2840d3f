// SqlStateStore: the StateStore on SQLite or PostgreSQL through SOCI; one implementation, the
// dialect differences confined to a few SQL snippets (sql/dialect.h) and the migration files.
//
// Writes go through one writer session and its prepared statements, serialised by write_mu_: on
// SQLite that is the one-writer rule (other processes wait up to busy_timeout), on PostgreSQL it
// keeps write order equal to call order. Reads lease a session from a small soci::connection_pool
// and run concurrently with writes and with each other. A PostgreSQL connection that died (a
// server restart) is replaced: a read is retried once on a new connection; a write is not, since
// it may have been applied, so it fails with kUnavailable and the next write reconnects.
//
// Every SOCI exception is caught here and returned as a Status naming the operation and the
// statement. Unknown runs are kNotFound, duplicates kAlreadyExists, a lost server or a locked
// database kUnavailable.
//
// Threads: every method may be called from any thread.
#ifndef PETIT_STORAGE_SQL_SQL_STATE_STORE_H_
#define PETIT_STORAGE_SQL_SQL_STATE_STORE_H_

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "petit/core/state_store.h"
#include "sql/dialect.h"

namespace soci {
class connection_pool;
class session;
class statement;
}  // namespace soci

namespace petit::storage::internal {

class SqlStateStore final : public StateStore {
 public:
  // Connects the writer and the readers and migrates the schema. `target` is the SQLite
  // file path (its parent directories are created) or the libpq connection string; `display` is
  // the URI with secrets removed, used in messages.
  static Result<std::unique_ptr<SqlStateStore>> Open(Dialect dialect, std::string target,
                                                     std::string display);
  ~SqlStateStore() override;

  SqlStateStore(const SqlStateStore&) = delete;
  SqlStateStore& operator=(const SqlStateStore&) = delete;

  Status CreateRun(const RunRecord& run) override;
  Status UpdateRun(const RunRecord& run) override;
  Result<std::optional<RunRecord>> GetRun(const RunId& id) override;
  Result<std::vector<RunRecord>> ListRuns(const JobId& job, size_t limit) override;

  Status SaveAttempts(std::span<const AttemptRecord> attempts) override;
  Result<std::vector<AttemptRecord>> ListAttempts(const RunId& run) override;

  Status AppendLog(const LogChunk& chunk) override;
  Result<std::vector<LogChunk>> ReadLogs(const RunId& run, const LogQuery& query) override;

  Result<std::vector<RunRecord>> ListIncompleteRuns() override;
  Status MarkInterrupted(const RunId& run, std::string_view reason, int64_t ended_us) override;
  Result<std::optional<RunRecord>> LastRun(const JobId& job, std::span<const RunStatus> statuses,
                                           int64_t ended_since_us) override;

  Status SaveJob(const JobRecord& job) override;
  Result<std::optional<JobRecord>> GetJob(const JobId& id) override;
  Result<std::vector<JobRecord>> ListJobs() override;

 private:
  // The writer session with its prepared statements (defined in the .cc file).
  struct Writer;
  // What a failed write is reported as; the SQL failure kind picks one.
  struct WriteErrors {
    std::string operation;       // "cannot create run 0190..."
    std::string on_unique;       // kAlreadyExists message, empty if not expected
    std::string on_foreign_key;  // kNotFound message, empty if not expected
  };

  SqlStateStore(Dialect dialect, std::string target, std::string display);

  // Opens a session on the database and sets it up (pragmas, encoding). Throws soci_error.
  void Connect(soci::session& session, bool read_only) const;
  void SetUpSession(soci::session& session, bool read_only) const;
  void EnableWal(soci::session& session) const;
  Status ConnectFailure(const std::exception& error) const;
  Result<std::unique_ptr<Writer>> OpenWriter() const;

  // Runs `write` under write_mu_ on the writer, reopening it first if it was dropped;
  // `in_transaction` makes the statements `write` executes one transaction, committed when `write`
  // returns OK and rolled back otherwise. The statements of a write that threw are prepared afresh
  // on their next use.
  Status Write(const WriteErrors& errors, const std::function<Status(Writer&)>& write,
               bool in_transaction = false);
  // Runs `read` on a leased pool session. `read` may return an error of its own (bad data).
  Status Read(std::string_view operation, const std::function<Status(soci::session&)>& read);

  // Status for a caught exception; `errors.operation` says what was being done.
  Status FailureStatus(const std::exception& error, const WriteErrors& errors) const;

  const Dialect dialect_;
  const std::string target_;
  const std::string display_;

  std::mutex write_mu_;
  std::unique_ptr<Writer> writer_;  // guarded by write_mu_; null after its connection was lost
  std::unique_ptr<soci::connection_pool> readers_;  // thread-safe itself; set once by Open()
};

}  // namespace petit::storage::internal

#endif  // PETIT_STORAGE_SQL_SQL_STATE_STORE_H_
