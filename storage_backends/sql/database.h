// Database: the SOCI sessions the SQL backend holds on one database, and the one place where what
// SOCI throws becomes a Status.
//
// Writes go through one writer session and the statements prepared on it, serialised by a mutex:
// on SQLite that is the one-writer rule (other processes wait up to busy_timeout), on PostgreSQL
// it keeps write order equal to call order. Reads lease a session from a small
// soci::connection_pool and run concurrently with writes and with each other. A PostgreSQL
// connection that died (a server restart) is replaced: a read is retried once on a new
// connection; a write is not, since it may have been applied, so it fails with kUnavailable and
// the next write reconnects.
//
// Every exception a read or a write throws is caught here and returned as a Status naming the
// operation and the statement: a duplicate key is kAlreadyExists and a missing foreign key (an
// unknown run) kNotFound where the write expects them, a lost server or a locked database
// kUnavailable, anything else kInternal.
//
// Ownership: the statements prepared on the writer session refer to the variables their `bind`
// bound; those must outlive the Database.
// Threads: Read and Write may be called from any thread, concurrently.
#ifndef PETIT_STORAGE_SQL_DATABASE_H_
#define PETIT_STORAGE_SQL_DATABASE_H_

#include <array>
#include <bitset>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "petit/core/mutex.h"
#include "petit/core/status.h"
#include "petit/core/thread_annotations.h"
#include "petit/storage/open.h"
#include "sql/dialect.h"
#include "sql/statements.h"
#include "sql/wal_checkpointer.h"

namespace soci {
class connection_pool;
class session;
class statement;
}  // namespace soci

namespace petit::storage::internal {

class ReadStatementCache;

// What a failed write is reported as; the SQL failure kind picks one.
struct WriteErrors {
  std::string operation;       // "cannot create run 0190..."
  std::string on_unique;       // kAlreadyExists message, empty if not expected
  std::string on_foreign_key;  // kNotFound message, empty if not expected
};

// The writer session and the statements prepared on it. Only the `write` callback of
// Database::Write sees it, under the write lock.
class WriterSession {
 public:
  ~WriterSession();
  WriterSession(const WriterSession&) = delete;
  WriterSession& operator=(const WriterSession&) = delete;

  soci::session& session() { return *session_; }

  // `statement`, prepared on first use: `bind` binds its parameters, then its text (WriteSql) is
  // prepared. A statement used by a write that threw is prepared afresh on its next use. Throws
  // soci::soci_error.
  soci::statement& Prepared(WriteStatement statement,
                            const std::function<void(soci::statement&)>& bind);

 private:
  friend class Database;

  explicit WriterSession(Dialect dialect);

  // A SOCI 4.0 statement that threw overwrites (leaks) its parameter buffers on its next
  // execution, and may refer to a table that changed; the next use prepares a fresh one.
  void ForgetUsed();

  std::unique_ptr<soci::session> session_;  // declared first: the statements go before it
  const Dialect dialect_;
  std::array<std::unique_ptr<soci::statement>, kWriteStatements> statements_;  // null until used
  std::bitset<kWriteStatements> used_;  // by the write under way
};

class Database {
 public:
  // Connects the writer and migrates the schema; each reader connects when a read first needs it
  // (a failure to connect is then that read's error). `target` is the SQLite file path
  // (its parent directories are created, or their absence is kNotFound, per `options`) or the
  // libpq connection string; `display` is the URI with secrets removed, used in messages.
  static Result<std::unique_ptr<Database>> Open(Dialect dialect, std::string target,
                                                std::string display,
                                                const OpenOptions& options = {});
  ~Database();

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Dialect dialect() const { return dialect_; }
  // SQLite: the database file's absolute path; PostgreSQL: the libpq connection string.
  const std::string& target() const { return target_; }
  // The URI with secrets removed, for messages.
  const std::string& display() const { return display_; }

  // Runs `write` under the write lock on the writer session, reopening it first if it was
  // dropped; `in_transaction` makes the statements `write` executes one transaction, committed
  // when `write` returns OK and rolled back otherwise. SQLite: first checks that the file at the
  // path is still the one open and writable (CheckSqliteFile); once it is not, this and every
  // later write fail with kDataLoss, writing nothing, and the lost listener hears it once.
  Status Write(const WriteErrors& errors, const std::function<Status(WriterSession&)>& write,
               bool in_transaction = false) EXCLUDES(write_mu_);
  // Write, as one transaction that other processes cannot interleave with from its first
  // statement on: on SQLite it begins IMMEDIATE, taking the database's write lock before `write`
  // reads anything (another process's writer waits up to busy_timeout); on PostgreSQL it is a
  // plain transaction, and `write` takes the locks it needs (an advisory lock, FOR UPDATE).
  Status WriteExclusive(const WriteErrors& errors,
                        const std::function<Status(WriterSession&)>& write) EXCLUDES(write_mu_);
  // Runs `read` on a leased reader session; `operation` says what failed. `read` may return an
  // error of its own (bad data).
  Status Read(std::string_view operation, const std::function<Status(soci::session&)>& read);

  // StateStore::SetLostListener.
  void SetLostListener(std::function<void(const Status&)> listener) EXCLUDES(write_mu_);

  // A new session on the database, set up as the writer's, that belongs to the caller alone: for
  // what must keep one connection to itself (the PostgreSQL host lock).
  Result<std::unique_ptr<soci::session>> OpenSession() const;

 private:
  Database(Dialect dialect, std::string target, std::string display);

  // Opens a session on the database and sets it up (pragmas, encoding). Throws soci_error.
  void Connect(soci::session& session, bool read_only) const;
  void SetUpSession(soci::session& session, bool read_only) const;
  void EnableWal(soci::session& session) const;
  Status ConnectFailure(const std::exception& error) const;
  // SQLite: kDataLoss when the file at the path is no longer the one opened (deleted, or another
  // renamed over it: device and inode differ) or has lost every write permission bit (chmod a-w,
  // which stops root too) or, for its owner, the owner's. One stat(2), a microsecond or two
  // against the tens a commit costs.
  Status CheckSqliteFile() const;
  // PRAGMA quick_check on a SQLite database being opened: kDataLoss naming the first problem.
  Status QuickCheck(soci::session& session) const;
  // kDataLoss for a page SQLite found damaged (SQLITE_CORRUPT) while reading or writing.
  Status Damaged(std::string_view sqlite_message) const;
  // After a write failed with `failure`: a damaged store is lost (lost_, the listener told).
  void NoteDamage(const Status& failure) REQUIRES(write_mu_);
  // `quick_check`: run QuickCheck (SQLite) before migrating.
  Result<std::unique_ptr<WriterSession>> OpenWriter(bool quick_check = false) const;

  enum class Transaction : uint8_t { kNone, kDeferred, kImmediate };
  Status WriteIn(Transaction transaction, const WriteErrors& errors,
                 const std::function<Status(WriterSession&)>& write) EXCLUDES(write_mu_, group_mu_);

  // A write waiting for its group's commit (SQLite), on its writer's stack.
  struct PendingWrite {
    PendingWrite(Transaction kind_in, const WriteErrors& errors_in,
                 const std::function<Status(WriterSession&)>& write_in, Mutex& mu)
        : kind(kind_in), errors(errors_in), write(write_in), cv(mu) {}
    const Transaction kind;
    const WriteErrors& errors;
    const std::function<Status(WriterSession&)>& write;
    CondVar cv;          // signalled when done or leads is set; bound to group_mu_
    bool done = false;   // status is its answer (under group_mu_)
    bool leads = false;  // it commits the next group (under group_mu_)
    Status status;
  };
  // SQLite: group commit. Writes that arrive while a group commits queue up; the first of them
  // then commits all of them in one transaction (CommitGroup) and answers each. Order is arrival
  // order, as under the write lock alone; a commit costs a few WAL pages instead of a few per
  // write, and 1,000 runs a second writing their states queue for a few commits, not thousands.
  Status WriteInGroup(Transaction kind, const WriteErrors& errors,
                      const std::function<Status(WriterSession&)>& write)
      EXCLUDES(write_mu_, group_mu_);
  void CommitGroup(const std::vector<PendingWrite*>& group) REQUIRES(write_mu_);
  // Checks the SQLite file and reopens a writer that was dropped; the error without context.
  Status ReadyWriter() REQUIRES(write_mu_);
  // One write in its own transaction of `kind`.
  Status WriteAlone(Transaction kind, const WriteErrors& errors,
                    const std::function<Status(WriterSession&)>& write) REQUIRES(write_mu_);
  // The status of a write that threw; drops the writer if its connection died.
  Status WriteFailed(const std::exception& error, const WriteErrors& errors) REQUIRES(write_mu_);

  // Status for a caught exception; `errors.operation` says what was being done.
  Status FailureStatus(const std::exception& error, const WriteErrors& errors) const;

  const Dialect dialect_;
  const std::string target_;
  const std::string display_;
  // SQLite: the database file's identity when it was opened, set once by Open().
  uint64_t file_device_ = 0;
  uint64_t file_inode_ = 0;

  // SQLite: checkpoints the writer's log off the write lock (declared before writer_, whose
  // connection calls it). Null on PostgreSQL.
  std::unique_ptr<WalCheckpointer> checkpointer_;

  Mutex write_mu_;
  // Null after its connection died.
  std::unique_ptr<WriterSession> writer_ GUARDED_BY(write_mu_) PT_GUARDED_BY(write_mu_);
  // Set once the store is lost for good (CheckSqliteFile); every later write returns it.
  Status lost_ GUARDED_BY(write_mu_);
  std::function<void(const Status&)> lost_listener_ GUARDED_BY(write_mu_);
  std::unique_ptr<soci::connection_pool> readers_;  // thread-safe itself; set once by Open()
  // SQLite: one per reader session (by pool position), used by the read that leases it.
  // Declared after readers_, so that the statements are finalised before their connections close.
  std::vector<std::unique_ptr<ReadStatementCache>> read_caches_;

  Mutex group_mu_;                                          // never held while taking write_mu_
  std::vector<PendingWrite*> group_ GUARDED_BY(group_mu_);  // queued for the next group
  bool group_leader_ GUARDED_BY(group_mu_) = false;         // a writer is committing a group
};

}  // namespace petit::storage::internal

#endif  // PETIT_STORAGE_SQL_DATABASE_H_
