// The host lock of a SQLite store (StateStore::AcquireHostLock): an open file description
// ("OFD") lock on the sidecar file "<database file, symlinks resolved>.lock".
//
// Why this kind of lock: the kernel drops it when the last descriptor of the open file goes, so
// the holder's death (SIGKILL included) releases it at once and the file that stays behind locks
// nothing. Unlike POSIX record locks it conflicts between two opens in one process (a second
// store on the same file in the same process is refused too), and unlike flock() it is a record
// lock over NFS as well. The descriptor is close-on-exec, so task processes the holder starts
// never inherit the lock. SQLite never opens the sidecar, so its own locks on the database file
// are untouched.
//
// Byte 0 of the sidecar is the host lock; byte 1 is a gate, held for a moment by whoever takes
// the host lock or is refused it, so that the owner the holder writes into the file and the lock
// change together: a refused acquirer always reads the name of the process that holds it.
//
// Threads: any thread; the lock may be destroyed on any thread.
#ifndef PETIT_STORAGE_SQL_SQLITE_HOST_LOCK_H_
#define PETIT_STORAGE_SQL_SQLITE_HOST_LOCK_H_

#include <memory>
#include <string>
#include <string_view>

#include "petit/core/state_store.h"
#include "petit/core/status.h"

namespace petit::storage::internal {

// `database_path` names an existing database file; `display` is the store's URI for messages.
// kFailedPrecondition (records.h's HostLockRefused) when another open of the sidecar holds it.
Result<std::unique_ptr<HostLock>> AcquireSqliteHostLock(const std::string& database_path,
                                                        std::string_view owner,
                                                        std::string_view display);

}  // namespace petit::storage::internal

#endif  // PETIT_STORAGE_SQL_SQLITE_HOST_LOCK_H_
