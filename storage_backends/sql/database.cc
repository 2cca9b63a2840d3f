#include "sql/database.h"

#include <soci/connection-pool.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "sql/migrations.h"
#include "sql/postgresql_client.h"
#include "sql/row_mapping.h"
#include "sql/soci_support.h"
#include "src/storage_uri.h"
#include "src/text_codec.h"

namespace petit::storage::internal {
namespace {

constexpr int kSqliteBusyTimeoutMs = 5000;
// WAL readers never block the writer, so two cover concurrent readers on a 2-core machine;
// PostgreSQL reads take a network round trip each, so a few more overlap usefully.
constexpr size_t kSqliteReaders = 2;
constexpr size_t kPostgresqlReaders = 4;
// Up to this much write-ahead log is left for the next process rather than checkpointed when the
// store closes. A checkpoint at close costs two fsyncs, and the next writer then creates a new log
// at two more (its header, its directory): most of a short `petit trigger` against SQLite. What a
// kept log costs instead is the next opener's scan of it to rebuild its index, about 2.6 us a
// page (4 KiB) on a 2-core VM: 0.7 ms at this bound, beyond which a checkpoint is cheaper.
constexpr off_t kKeptLogBytes = off_t{1} << 20;

// Whether closing `session` (a SQLite connection) may checkpoint the log and delete it, which
// SQLite does when the last connection to the database closes.
void CheckpointOnClose(soci::session& session, bool checkpoint) {
  auto* backend = static_cast<soci::sqlite3_session_backend*>(session.get_backend());
  if (backend == nullptr || backend->conn_ == nullptr) return;
  (void)sqlite_api::sqlite3_db_config(backend->conn_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
                                      checkpoint ? 0 : 1, nullptr);
}

// Returns a pooled session to its pool however the read ends.
class Lease {
 public:
  explicit Lease(soci::connection_pool& pool) : pool_(pool), position_(pool.lease()) {}
  ~Lease() { pool_.give_back(position_); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  soci::session& session() { return pool_.at(position_); }
  size_t position() const { return position_; }

 private:
  soci::connection_pool& pool_;
  size_t position_;
};

// A SQLite transaction begun IMMEDIATE, which SOCI's transaction cannot begin: it holds the
// database's write lock from BEGIN (waiting up to busy_timeout for it), so what it reads stays
// true until it commits. Rolled back by the destructor unless committed.
class ImmediateTransaction {
 public:
  explicit ImmediateTransaction(soci::session& session) : session_(session) {
    session_ << "BEGIN IMMEDIATE";
  }
  ~ImmediateTransaction() {
    if (done_) return;
    try {
      session_ << "ROLLBACK";
    } catch (const std::exception&) {
      // Nothing was committed; a failed rollback leaves nothing to undo.
    }
  }
  ImmediateTransaction(const ImmediateTransaction&) = delete;
  ImmediateTransaction& operator=(const ImmediateTransaction&) = delete;

  // Throws soci::soci_error; the destructor then rolls back.
  void Commit() {
    session_ << "COMMIT";
    done_ = true;
  }

 private:
  soci::session& session_;
  bool done_ = false;
};

}  // namespace

WriterSession::WriterSession(Dialect dialect)
    : session_(std::make_unique<soci::session>()), dialect_(dialect) {}

WriterSession::~WriterSession() = default;

soci::statement& WriterSession::Prepared(WriteStatement statement,
                                         const std::function<void(soci::statement&)>& bind) {
  const auto index = static_cast<size_t>(statement);
  used_.set(index);
  std::unique_ptr<soci::statement>& prepared = statements_.at(index);
  if (prepared == nullptr) {
    auto fresh = std::make_unique<soci::statement>(*session_);
    bind(*fresh);
    fresh->alloc();
    fresh->prepare(WriteSql(dialect_, statement));
    fresh->define_and_bind();
    prepared = std::move(fresh);
  }
  return *prepared;
}

void WriterSession::ForgetUsed() {
  for (size_t i = 0; i < kWriteStatements; ++i) {
    if (used_.test(i)) statements_.at(i).reset();
  }
}

Database::Database(Dialect dialect, std::string target, std::string display)
    : dialect_(dialect), target_(std::move(target)), display_(std::move(display)) {}

Database::~Database() {
  if (dialect_ != Dialect::kSqlite) return;
  // Readers close first (declared after the writer) and never checkpoint; the writer does only
  // when the log has grown past what the next opener scans cheaply.
  struct stat log;
  const bool small_log =
      ::stat((target_ + "-wal").c_str(), &log) != 0 || log.st_size <= kKeptLogBytes;
  MutexLock lock(write_mu_);
  if (writer_ != nullptr) CheckpointOnClose(writer_->session(), !small_log);
}

Result<std::unique_ptr<Database>> Database::Open(Dialect dialect, std::string target,
                                                 std::string display, const OpenOptions& options) {
  if (dialect == Dialect::kSqlite) {
    // Absolute, so that sessions opened later do not depend on the working directory then.
    std::error_code error;
    const std::filesystem::path path = std::filesystem::absolute(target, error);
    const std::filesystem::path parent = path.parent_path();
    if (!error && !options.create) {
      std::error_code ignored;  // a missing directory is the case reported, not an error here
      if (!std::filesystem::is_directory(parent, ignored)) {
        return NotFound("no SQLite database " + display + ": the directory " + parent.string() +
                        " does not exist, so nothing was ever recorded there (check --storage "
                        "or petit.yaml's storage)");
      }
    }
    if (!error && options.create) std::filesystem::create_directories(parent, error);
    if (error) {
      return Unavailable("cannot open SQLite database " + display + ": cannot create directory " +
                         parent.string() + ": " + error.message());
    }
    target = path.string();
  }
  if (dialect == Dialect::kSqlite) {
    // SQLite keeps its log and its shared-memory index beside the name it was opened by, and
    // petit its host lock: through a second name of the same file a second daemon would pass the
    // lock and each would write its own log, one of them lost at the next checkpoint.
    struct stat st;
    if (::stat(target.c_str(), &st) == 0 && st.st_nlink > 1) {
      return FailedPrecondition(
          "the SQLite database " + display + " has " + std::to_string(st.st_nlink) +
          " hard links: SQLite keeps a separate log for each name, so writes through one "
          "would be lost through another; keep one name (a symbolic link is safe)");
    }
  }
  std::unique_ptr<Database> database(new Database(dialect, std::move(target), std::move(display)));
  if (dialect == Dialect::kSqlite) {
    Database* self = database.get();
    database->checkpointer_ = std::make_unique<WalCheckpointer>(
        [self](soci::session& session) { self->Connect(session, /*read_only=*/false); });
  }
  Result<std::unique_ptr<WriterSession>> writer = database->OpenWriter(options.quick_check);
  if (!writer.ok()) return writer.status();
  {
    // Not shared yet, so never contended; taken because writer_ is only ever written under it.
    MutexLock lock(database->write_mu_);
    database->writer_ = std::move(writer).value();
  }
  if (dialect == Dialect::kSqlite) {
    struct stat st;
    if (::stat(database->target_.c_str(), &st) != 0) {
      return Unavailable("cannot open SQLite database " + database->display_ + ": " +
                         std::error_code(errno, std::system_category()).message());
    }
    database->file_device_ = static_cast<uint64_t>(st.st_dev);
    database->file_inode_ = static_cast<uint64_t>(st.st_ino);
  }

  // Readers connect when first leased (Read): a PostgreSQL connection costs the server a process
  // and the client a few milliseconds, which a short `petit trigger` that reads once or twice
  // would pay four times over.
  const size_t readers = dialect == Dialect::kSqlite ? kSqliteReaders : kPostgresqlReaders;
  database->readers_ = std::make_unique<soci::connection_pool>(readers);
  if (dialect == Dialect::kSqlite) {
    // PostgreSQL keeps its one round trip a read (Query); its parse is the server's.
    database->read_caches_.resize(readers);
    for (auto& cache : database->read_caches_) cache = std::make_unique<ReadStatementCache>();
  }
  return database;
}

void Database::Connect(soci::session& session, bool read_only) const {
  if (dialect_ == Dialect::kSqlite) {
    session.open(soci::sqlite3, target_);
  } else {
    const PostgresqlClient* client = InstalledPostgresqlClient();
    if (client == nullptr) {
      throw std::logic_error(
          "this binary has no PostgreSQL client (it is in the PostgreSQL module)");
    }
    client->Open(session, internal::WithPostgresClientTimeouts(target_));
  }
  SetUpSession(session, read_only);
}

void Database::SetUpSession(soci::session& session, bool read_only) const {
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
  if (read_only) CheckpointOnClose(session, false);
  if (!read_only) EnableWal(session);
}

void Database::EnableWal(soci::session& session) const {
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

Status Database::ConnectFailure(const std::exception& error) const {
  const std::string message = FailureMessage(error);
  if (dialect_ == Dialect::kPostgresql) {
    return Unavailable("cannot connect to PostgreSQL at " + display_ + ": " + message);
  }
  const SqlFailure failure = ClassifyFailure(error, dialect_);
  if (failure == SqlFailure::kCorrupt) return Damaged(message);
  const StatusCode code = failure == SqlFailure::kNotADatabase ? StatusCode::kFailedPrecondition
                                                               : StatusCode::kUnavailable;
  return Status(code, "cannot open SQLite database " + display_ + ": " + message);
}

Result<std::unique_ptr<WriterSession>> Database::OpenWriter(bool quick_check) const {
  std::unique_ptr<WriterSession> writer(new WriterSession(dialect_));
  try {
    Connect(writer->session(), /*read_only=*/false);
  } catch (const std::exception& error) {
    return ConnectFailure(error);
  }
  if (quick_check && dialect_ == Dialect::kSqlite) {
    PETIT_RETURN_IF_ERROR(QuickCheck(writer->session()));
  }
  if (checkpointer_ != nullptr) checkpointer_->Watch(writer->session());
  PETIT_RETURN_IF_ERROR(MigrateSchema(writer->session(), dialect_).WithContext(display_));
  return writer;
}

Status Database::QuickCheck(soci::session& session) const {
  // quick_check(1): the first problem is enough to refuse; O(database size), without the index
  // cross-checks of integrity_check.
  std::string result;
  try {
    session << "PRAGMA quick_check(1)", soci::into(result);
  } catch (const std::exception& error) {
    result = FailureMessage(error);
  }
  if (result == "ok") return Status::Ok();
  return DataLoss("the SQLite database " + display_ + " is damaged (PRAGMA quick_check: " +
                  OneLine(result) + "): restore it from a backup or move it away");
}

Status Database::Damaged(std::string_view sqlite_message) const {
  return DataLoss("the SQLite database " + display_ + " is damaged (SQLite: " +
                  std::string(sqlite_message) + "): restore it from a backup or move it away");
}

void Database::SetLostListener(std::function<void(const Status&)> listener) {
  MutexLock lock(write_mu_);
  lost_listener_ = std::move(listener);
}

Status Database::CheckSqliteFile() const {
  // SQLite itself goes on writing to a file that was unlinked or renamed over, through the
  // descriptor it holds, so nothing else would notice.
  struct stat st;
  if (::stat(target_.c_str(), &st) != 0) {
    const int error = errno;
    return DataLoss(
        "the SQLite database " + display_ + " was " +
        (error == ENOENT ? std::string("deleted")
                         : "made unreachable (" +
                               std::error_code(error, std::system_category()).message() + ")") +
        " under this process, which stops writing to it (what it wrote would be read by "
        "nobody); restart petit to open the store at that path");
  }
  if (static_cast<uint64_t>(st.st_dev) != file_device_ ||
      static_cast<uint64_t>(st.st_ino) != file_inode_) {
    return DataLoss("the SQLite database " + display_ +
                    " was replaced by another file under this process, which stops writing to the "
                    "one it opened (what it wrote would be read by nobody); restart petit to open "
                    "the store at that path");
  }
  const bool no_write_bit = (st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) == 0;
  const bool owner_cannot_write = st.st_uid == ::geteuid() && (st.st_mode & S_IWUSR) == 0;
  if (no_write_bit || owner_cannot_write) {
    return DataLoss("the SQLite database " + display_ +
                    " was made unwritable under this process, which stops writing to it; make it "
                    "writable and restart petit");
  }
  return Status::Ok();
}

Result<std::unique_ptr<soci::session>> Database::OpenSession() const {
  auto session = std::make_unique<soci::session>();
  try {
    Connect(*session, /*read_only=*/false);
  } catch (const std::exception& error) {
    return ConnectFailure(error);
  }
  return session;
}

Status Database::FailureStatus(const std::exception& error, const WriteErrors& errors) const {
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
    case SqlFailure::kCorrupt:
      return Damaged(message).WithContext(errors.operation);
    case SqlFailure::kNotADatabase:
    case SqlFailure::kOther:
      break;
  }
  return Internal(errors.operation + ": " + message);
}

Status Database::Write(const WriteErrors& errors,
                       const std::function<Status(WriterSession&)>& write, bool in_transaction) {
  return WriteIn(in_transaction ? Transaction::kDeferred : Transaction::kNone, errors, write);
}

Status Database::WriteExclusive(const WriteErrors& errors,
                                const std::function<Status(WriterSession&)>& write) {
  return WriteIn(dialect_ == Dialect::kSqlite ? Transaction::kImmediate : Transaction::kDeferred,
                 errors, write);
}

Status Database::WriteIn(Transaction kind, const WriteErrors& errors,
                         const std::function<Status(WriterSession&)>& write) {
  if (dialect_ == Dialect::kSqlite) return WriteInGroup(kind, errors, write);
  MutexLock lock(write_mu_);
  if (!lost_.ok()) return lost_.WithContext(errors.operation);
  if (Status ready = ReadyWriter(); !ready.ok()) return ready.WithContext(errors.operation);
  return WriteAlone(kind, errors, write);
}

Status Database::ReadyWriter() {
  if (dialect_ == Dialect::kSqlite) {
    Status file = CheckSqliteFile();
    if (!file.ok()) {
      lost_ = file;
      if (lost_listener_) lost_listener_(lost_);
      return lost_;
    }
  }
  if (writer_ == nullptr) {
    Result<std::unique_ptr<WriterSession>> writer = OpenWriter();
    if (!writer.ok()) return writer.status();
    writer_ = std::move(writer).value();
  }
  return Status::Ok();
}

Status Database::WriteAlone(Transaction kind, const WriteErrors& errors,
                            const std::function<Status(WriterSession&)>& write) {
  writer_->used_.reset();
  try {
    switch (kind) {
      case Transaction::kNone:
        return write(*writer_);
      case Transaction::kDeferred: {
        // Rolled back by the destructor unless committed, also when `write` throws.
        soci::transaction transaction(writer_->session());
        Status status = write(*writer_);
        if (status.ok()) transaction.commit();
        return status;
      }
      case Transaction::kImmediate: {
        ImmediateTransaction transaction(writer_->session());
        Status status = write(*writer_);
        if (status.ok()) transaction.Commit();
        return status;
      }
    }
    return Internal(errors.operation + ": unknown transaction kind");
  } catch (const std::exception& error) {
    return WriteFailed(error, errors);
  }
}

void Database::NoteDamage(const Status& failure) {
  // A damaged page (SQLITE_CORRUPT, FailureStatus's kDataLoss) is lost for good like a file
  // deleted under the process: every later write fails the same way and the listener hears it
  // once, so that petit run drains and exits instead of firing runs that cannot be recorded.
  if (failure.code() != StatusCode::kDataLoss || !lost_.ok()) return;
  lost_ = failure;
  if (lost_listener_) lost_listener_(lost_);
}

Status Database::WriteFailed(const std::exception& error, const WriteErrors& errors) {
  Status status = FailureStatus(error, errors);
  NoteDamage(status);
  if (ConnectionLost(writer_->session(), dialect_)) {
    writer_.reset();
  } else {
    writer_->ForgetUsed();
  }
  return status;
}

Status Database::WriteInGroup(Transaction kind, const WriteErrors& errors,
                              const std::function<Status(WriterSession&)>& write) {
  PendingWrite me{kind, errors, write, group_mu_};
  {
    MutexLock lock(group_mu_);
    group_.push_back(&me);
    if (group_leader_) {
      while (!me.done && !me.leads) me.cv.Wait(group_mu_);
      if (me.done) return std::move(me.status);
    } else {
      group_leader_ = true;
      me.leads = true;
    }
  }
  // The leader: commits what has queued up since the last group (its own write among it), then
  // hands the lead to the first writer that queued meanwhile.
  std::vector<PendingWrite*> group;
  {
    MutexLock lock(group_mu_);
    group.swap(group_);
  }
  {
    MutexLock lock(write_mu_);
    CommitGroup(group);
  }
  MutexLock lock(group_mu_);
  for (PendingWrite* pending : group) {
    if (pending == &me) continue;
    pending->done = true;
    // Under group_mu_: the writer cannot return, and destroy its cv, before this call is over.
    pending->cv.Signal();
  }
  if (group_.empty()) {
    group_leader_ = false;
  } else {
    group_.front()->leads = true;
    group_.front()->cv.Signal();
  }
  return std::move(me.status);
}

void Database::CommitGroup(const std::vector<PendingWrite*>& group) {
  if (!lost_.ok()) {
    for (PendingWrite* pending : group) {
      pending->status = lost_.WithContext(pending->errors.operation);
    }
    return;
  }
  if (Status ready = ReadyWriter(); !ready.ok()) {
    for (PendingWrite* pending : group) {
      pending->status = ready.WithContext(pending->errors.operation);
    }
    return;
  }
  if (group.size() == 1) {
    PendingWrite& only = *group.front();
    only.status = WriteAlone(only.kind, only.errors, only.write);
    return;
  }
  // One IMMEDIATE transaction (what the most demanding write asks for); each write in a savepoint
  // of its own, so that one that fails is undone alone, as its own transaction would have been.
  // Nobody hears OK before the COMMIT: a write is acknowledged once it is as durable as alone.
  soci::session& session = writer_->session();
  try {
    ImmediateTransaction transaction(session);
    for (PendingWrite* pending : group) {
      writer_->used_.reset();
      writer_->Prepared(WriteStatement::kSavepoint, [](soci::statement&) {}).execute(true);
      try {
        pending->status = pending->write(*writer_);
      } catch (const std::exception& error) {
        pending->status = FailureStatus(error, pending->errors);
        NoteDamage(pending->status);
        if (ConnectionLost(session, dialect_)) throw;
        writer_->ForgetUsed();
        session << "ROLLBACK TO petit_write";
        session << "RELEASE petit_write";
        continue;
      }
      // A write in a transaction of its own that says no is rolled back; one without keeps what
      // it did (Write's contract for in_transaction = false).
      if (!pending->status.ok() && pending->kind != Transaction::kNone) {
        session << "ROLLBACK TO petit_write";
      }
      writer_->Prepared(WriteStatement::kReleaseSavepoint, [](soci::statement&) {}).execute(true);
    }
    transaction.Commit();
  } catch (const std::exception& error) {
    // Nothing of the group was committed: each write fails, with its own message.
    for (PendingWrite* pending : group) pending->status = FailureStatus(error, pending->errors);
    if (!group.empty()) NoteDamage(group.front()->status);
    if (writer_ != nullptr) {
      if (ConnectionLost(session, dialect_)) {
        writer_.reset();
      } else {
        writer_->ForgetUsed();
      }
    }
  }
}

Status Database::Read(std::string_view operation,
                      const std::function<Status(soci::session&)>& read) {
  Lease lease(*readers_);
  soci::session& session = lease.session();
  ReadStatementCache* cache =
      read_caches_.empty() ? nullptr : read_caches_.at(lease.position()).get();
  if (session.get_backend() == nullptr) {
    // Statements of a connection that is gone are finalised before the next one opens.
    if (cache != nullptr) cache->Clear();
    try {
      Connect(session, /*read_only=*/true);
    } catch (const std::exception& error) {
      // Closed again, so the next lease of this session starts from scratch.
      session.close();
      return ConnectFailure(error).WithContext(operation);
    }
  }
  ReadStatementCache::Scope scope(cache);
  // Reads are idempotent, so one that failed because the connection had died (a server restart)
  // is tried once more on a fresh connection.
  for (int attempt = 0;; ++attempt) {
    try {
      if (ConnectionLost(session, dialect_)) {
        if (cache != nullptr) cache->Clear();
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

}  // namespace petit::storage::internal
