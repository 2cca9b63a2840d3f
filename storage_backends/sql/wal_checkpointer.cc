#include "sql/wal_checkpointer.h"

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <exception>
#include <system_error>
#include <utility>

namespace petit::storage::internal {
namespace {

// sqlite3_wal_hook's callback (SOCI declares SQLite's API in namespace sqlite_api).
int CommitHook(void* self, sqlite_api::sqlite3* db, const char* name, int pages) {
  if (static_cast<WalCheckpointer*>(self)->OnCommit(pages)) {
    // What SQLite's automatic checkpoint does; a busy or failed checkpoint is tried at a later
    // commit, and does not fail this one.
    (void)sqlite_api::sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                                nullptr);
  }
  return SQLITE_OK;
}

}  // namespace

WalCheckpointer::WalCheckpointer(std::function<void(soci::session&)> connect)
    : connect_(std::move(connect)) {}

WalCheckpointer::~WalCheckpointer() {
  std::thread thread;
  {
    MutexLock lock(mu_);
    stopping_ = true;
    thread = std::move(thread_);
  }
  cv_.SignalAll();
  if (thread.joinable()) thread.join();
}

void WalCheckpointer::Watch(soci::session& session) {
  auto* backend = static_cast<soci::sqlite3_session_backend*>(session.get_backend());
  // Replaces the automatic checkpoint, which SQLite implements as this same hook.
  sqlite_api::sqlite3_wal_hook(backend->conn_, &CommitHook, this);
}

bool WalCheckpointer::OnCommit(int pages) {
  if (pages < kCheckpointPages) return false;
  if (pages < kInlineCheckpointPages && !broken_.load(std::memory_order_relaxed) && Request()) {
    return false;
  }
  inline_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool WalCheckpointer::Request() {
  {
    MutexLock lock(mu_);
    if (stopping_) return false;
    due_ = true;
    if (!thread_.joinable()) {
      try {
        thread_ = std::thread([this] { Loop(); });
      } catch (const std::system_error&) {
        broken_.store(true, std::memory_order_relaxed);
        return false;
      }
    }
  }
  cv_.Signal();
  return true;
}

void WalCheckpointer::Loop() {
  soci::session session;
  try {
    connect_(session);
  } catch (const std::exception&) {
    // The writers checkpoint from now on, as SQLite would have.
    broken_.store(true, std::memory_order_relaxed);
    return;
  }
  MutexLock lock(mu_);
  for (;;) {
    while (!due_ && !stopping_) cv_.Wait(mu_);
    if (stopping_) return;
    due_ = false;
    mu_.Unlock();
    try {
      session << "PRAGMA wal_checkpoint(PASSIVE)";
      background_.fetch_add(1, std::memory_order_relaxed);
    } catch (const std::exception&) {
      // Busy (another process's checkpoint) or failed: the next commit past the threshold asks
      // again, and past kInlineCheckpointPages the writer checkpoints itself.
    }
    mu_.Lock();
  }
}

}  // namespace petit::storage::internal
