// SqlStateStore: the StateStore on SQLite or PostgreSQL through SOCI; one implementation, the
// dialect differences confined to a few SQL snippets (sql/dialect.h) and the migration files.
//
// It composes the parts under sql/: the SQL texts (statements.h), rows to records and back
// (row_mapping.h), the batched attempt upserts (attempt_batch.h), and the sessions, with their
// reconnection and their translation of SOCI's exceptions into Status (database.h). What it adds
// is the StateStore contract: records checked and normalised as every backend does
// (src/records.h), unknown runs kNotFound, duplicates kAlreadyExists, a lost server or a locked
// database kUnavailable, and every error naming the operation and the statement.
//
// Threads: every method may be called from any thread; writes are serialised (one writer
// session), reads run concurrently on a small pool (see database.h).
#ifndef PETIT_STORAGE_SQL_SQL_STATE_STORE_H_
#define PETIT_STORAGE_SQL_SQL_STATE_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "petit/core/state_store.h"
#include "petit/storage/open.h"
#include "sql/dialect.h"

namespace petit::storage::internal {

class AttemptBatchWriter;
class Database;
class WriterSession;
struct WriteParams;

class SqlStateStore final : public StateStore {
 public:
  // Opens the database (Database::Open: connects, migrates the schema). `target` is the SQLite
  // file path or the libpq connection string; `display` is the URI with secrets removed, used in
  // messages.
  static Result<std::unique_ptr<SqlStateStore>> Open(Dialect dialect, std::string target,
                                                     std::string display,
                                                     const OpenOptions& options = {});
  ~SqlStateStore() override;

  SqlStateStore(const SqlStateStore&) = delete;
  SqlStateStore& operator=(const SqlStateStore&) = delete;

  Status CreateRun(const RunRecord& run) override;
  Result<RunAdmission> AdmitRun(const RunRecord& run, uint32_t max_active_runs) override;
  std::vector<Result<RunAdmission>> AdmitRuns(std::span<const RunToAdmit> runs) override;
  AdmissionCommit AdmitRunsAndSaveJobs(std::span<const RunToAdmit> runs,
                                       std::span<const JobRecord> jobs) override;
  Status UpdateRun(const RunRecord& run) override;
  Result<std::optional<RunRecord>> GetRun(const RunId& id) override;
  Result<std::vector<RunRecord>> ListRuns(const JobId& job, size_t limit) override;
  // One query per status asked for (or one for all), each answered in order from an index, merged
  // here: an IN list over several statuses would make SQLite sort every matching run.
  Result<RunPage> QueryRuns(const RunQuery& query) override;

  Status SaveAttempts(std::span<const AttemptRecord> attempts) override;
  Status SaveAttemptsAndUpdateRun(std::span<const AttemptRecord> attempts,
                                  const RunRecord& run) override;
  Result<std::vector<AttemptRecord>> ListAttempts(const RunId& run) override;

  Status AppendLog(const LogChunk& chunk) override;
  Result<std::vector<LogChunk>> ReadLogs(const RunId& run, const LogQuery& query) override;

  Result<std::vector<RunRecord>> ListIncompleteRuns() override;
  Status MarkInterrupted(const RunId& run, std::string_view reason, int64_t ended_us) override;
  Result<std::vector<AttemptKey>> InterruptStrandedAttempts(std::string_view reason,
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
  Status SaveJobs(std::span<const JobRecord> jobs) override;
  Result<std::optional<JobRecord>> GetJob(const JobId& id) override;
  Result<std::vector<JobRecord>> ListJobs() override;

  Status SaveScheduler(const SchedulerRecord& scheduler) override;
  Result<SchedulerRecord> GetScheduler() override;

  // SQLite: sql/sqlite_host_lock.h; PostgreSQL: sql/postgresql_host_lock.h.
  Result<std::unique_ptr<HostLock>> AcquireHostLock(std::string_view owner) override;
  void SetLostListener(std::function<void(const Status&)> listener) override;

 private:
  explicit SqlStateStore(std::unique_ptr<Database> database);

  // AdmitRun's work inside its transaction, on `run` as normalised, the job's admissions already
  // locked (LockAdmissions).
  Status AdmitIn(WriterSession& writer, const RunRecord& run, RunAdmission& admission);
  // UpdateRun's work inside a write, on `run` as normalised.
  Status UpdateRunIn(WriterSession& writer, const RunRecord& run);

  const Dialect dialect_;
  // The parameters the writer's prepared statements are bound to: declared before database_, so
  // that they outlive its statements. Touched only inside database_->Write, which serialises
  // writes.
  std::unique_ptr<WriteParams> params_;
  std::unique_ptr<AttemptBatchWriter> attempts_;
  std::unique_ptr<Database> database_;
};

}  // namespace petit::storage::internal

#endif  // PETIT_STORAGE_SQL_SQL_STATE_STORE_H_
