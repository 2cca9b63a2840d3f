// WalCheckpointer: checkpoints a SQLite database's write-ahead log on a thread of its own, so that
// no commit waits for a checkpoint. SQLite's automatic checkpoint runs inside the COMMIT that
// takes the log past 1,000 pages, on the writer, under the Database's write lock: every writer
// queued behind it (1,000 runs a second, the scheduler's admissions) waited for it, fsync
// included.
//
// Watch() replaces the automatic checkpoint of the writer's connection with a commit hook
// (sqlite3_wal_hook) that wakes this thread once the log holds kCheckpointPages pages; the thread
// runs a PASSIVE checkpoint on a connection of its own, beside the writer and the readers. Should
// the thread fall behind until the log holds kInlineCheckpointPages, or be unable to run, the
// hook checkpoints on the writer as SQLite would have.
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
  // SQLite's own threshold for its automatic checkpoint.
  static constexpr int kCheckpointPages = 1000;
  // Where the writer checkpoints itself rather than let the log grow further.
  static constexpr int kInlineCheckpointPages = 16 * kCheckpointPages;

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
