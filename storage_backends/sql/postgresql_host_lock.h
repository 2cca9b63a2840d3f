// The host lock of a PostgreSQL store (StateStore::AcquireHostLock): a session advisory lock held
// on a connection of the lock's own, outside the store's pool, so it lives exactly as long as
// that connection. The holder's owner goes into the one-row host_lock table (migration 003).
//
// A transaction-scoped advisory lock (the gate) is held while the host lock is taken and the row
// written, and while a refused acquirer reads the row, so the row a refused acquirer reads names
// the holder. An acquire waits up to two seconds for the host lock: the server releases the lock
// of a killed holder only when it notices the connection closed, a moment after the kill.
//
// The lock's connection asks the server for TCP keepalives, so a holder whose machine vanished
// without closing the connection loses the lock within about half a minute, and turns off
// idle_session_timeout, which would otherwise end an idle holder's connection and its lock.
//
// Threads: any thread; the lock may be destroyed on any thread.
#ifndef PETIT_STORAGE_SQL_POSTGRESQL_HOST_LOCK_H_
#define PETIT_STORAGE_SQL_POSTGRESQL_HOST_LOCK_H_

#include <memory>
#include <string_view>

#include "petit/core/state_store.h"
#include "petit/core/status.h"

namespace soci {
class session;
}  // namespace soci

namespace petit::storage::internal {

// Takes `session`, a new connection to the store's database that nothing else uses, and keeps it
// in the lock. `owner` has passed CheckHostLockOwner; `display` is the store's URI for messages.
// kFailedPrecondition (records.h's HostLockRefused) when another connection holds the lock.
Result<std::unique_ptr<HostLock>> AcquirePostgresqlHostLock(std::unique_ptr<soci::session> session,
                                                            std::string_view owner,
                                                            std::string_view display);

}  // namespace petit::storage::internal

#endif  // PETIT_STORAGE_SQL_POSTGRESQL_HOST_LOCK_H_
