// WalCheckpointer: checkpoints a SQLite database's write-ahead log on a thread of its own, so that
// no commit waits for a checkpoint. SQLite's automatic checkpoint runs inside the COMMIT that
// takes the log past 1,000 pages, on the writer, under the Database's write lock: every writer
// queued behind it (1,000 runs a second, the scheduler's admissions) waited for it, fsync
// included.
//
// Watch() replaces the automatic checkpoint of the writer's connection with a commit hook
// (sqlite3_wal_hook) that wakes this thread once the log holds kCheckpointPages pages (2,000, not
// SQLite's 1,000); the thread runs a PASSIVE checkpoint on a connection of its own, beside the
// writer and the readers. Should the thread fall behind until the log holds
// kInlineCheckpointPages, or be unable to run, the hook checkpoints on the writer as SQLite would
// have.
//
// Durability is unchanged: a commit is acknowledged once its frames are in the log (synchronous =
// NORMAL in WAL mode, as before), and a checkpoint only copies committed frames into the database
// file, syncing the log first and the file after; which thread does it makes no difference.
//
// Ownership: the hook refers to this object; it must outlive every connection it watches.
// Threads: Watch is called on the thread that owns the watched connection; the hook runs on that
// thread, in a commit; the checkpoint thread starts at the first checkpoint due and is joined by
// the destructor.
#ifndef PETIT_STORAGE_SQL_WAL_CHECKPOINTER_H_
#define PETIT_STORAGE_SQL_WAL_CHECKPOINTER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "petit/core/mutex.h"
#include "petit/core/thread_annotations.h"

namespace soci {
class session;
}  // namespace soci

namespace petit::storage::internal {

class WalCheckpointer {
 public:
  // Twice SQLite's own threshold (1,000 pages). A run's writes touch the same few pages over and
  // over (an index's last leaf, a run's row), so a checkpoint copies about as many pages whenever
  // it runs, and its two fsyncs are most of its cost: at 1,000 pages a run of 1,000 command tasks
  // paid three of them, about 50 us a task on a 2-core VM (12 interleaved runs: 522 ms at 1,000
  // pages, 475 at 2,000, 472 at 4,000, 488 at 8,000). The price is a longer log, up to 8 MiB,
  // which a process that finds it after a crash scans once (about 5 ms).
  static constexpr int kCheckpointPages = 2000;
  // Where the writer checkpoints itself rather than let the log grow further (64 MiB).
  static constexpr int kInlineCheckpointPages = 16000;

  // `connect` opens a session on the database for the checkpoints (on the checkpoint thread, at
  // the first one); it throws soci::soci_error on failure.
  explicit WalCheckpointer(std::function<void(soci::session&)> connect);
  ~WalCheckpointer() EXCLUDES(mu_);

  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Checkpoints the log `session` (a SQLite session) writes, from now on, in the background.
  void Watch(soci::session& session);

  // Checkpoints done by the thread, and by writers because it fell behind or could not run.
  uint64_t background_checkpoints() const { return background_.load(std::memory_order_relaxed); }
  uint64_t inline_checkpoints() const { return inline_.load(std::memory_order_relaxed); }

  // For the commit hook: the log holds `pages` pages after a commit. Returns true when the
  // committing writer must checkpoint itself (and counts it).
  bool OnCommit(int pages) EXCLUDES(mu_);

 private:
  // Wakes the thread, starting it if needed; false if it cannot run.
  bool Request() EXCLUDES(mu_);
  void Loop() EXCLUDES(mu_);

  const std::function<void(soci::session&)> connect_;
  std::atomic<bool> broken_{false};  // the thread could not start or connect: writers checkpoint
  std::atomic<uint64_t> background_{0};
  std::atomic<uint64_t> inline_{0};

  Mutex mu_;
  CondVar cv_{mu_};
  bool due_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_ GUARDED_BY(mu_);
};

}  // namespace petit::storage::internal

#endif  // PETIT_STORAGE_SQL_WAL_CHECKPOINTER_H_
