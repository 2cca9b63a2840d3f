#include "sql/postgresql_host_lock.h"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "sql/soci_support.h"
#include "src/records.h"

namespace petit::storage::internal {
namespace {

constexpr Dialect kDialect = Dialect::kPostgresql;

constexpr uint64_t Fnv1a64(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// Every petit must use the same keys; derived from names so that they are unlikely to clash with
// another application's advisory locks on a shared database.
constexpr int64_t kHostLockKey = static_cast<int64_t>(Fnv1a64("petit host lock"));
constexpr int64_t kGateKey = static_cast<int64_t>(Fnv1a64("petit host lock gate"));

// How long an acquire waits for the gate and for the host lock: long enough for the server to
// notice that a killed holder's connection closed, short enough for a refused `petit run` to say
// so at once.
constexpr std::string_view kHolderGrace = "2s";
// PostgreSQL's "lock_not_available": lock_timeout expired.
constexpr std::string_view kLockNotAvailable = "55P03";

// The keepalive settings for the lock's connection (seconds, probes): a dead peer is detected
// after about idle + interval * count seconds of silence.
constexpr std::string_view kSessionSettings =
    "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; "
    "SET tcp_keepalives_count = 3; SET idle_session_timeout = 0";

class PostgresqlHostLock final : public HostLock {
 public:
  explicit PostgresqlHostLock(std::unique_ptr<soci::session> session)
      : session_(std::move(session)) {}
  ~PostgresqlHostLock() override {
    // A lock never taken is not released: the server would print a warning to petit's stderr
    // ("you don't own a lock of type ExclusiveLock") beside the refusal.
    if (!held_) return;
    // Unlocking first makes the release take effect before the destructor returns; closing the
    // connection alone releases it only once the server notices.
    try {
      ExecuteScript(*session_, kDialect,
                    "SELECT pg_advisory_unlock(" + std::to_string(kHostLockKey) + ")");
    } catch (const std::exception&) {
      // The connection is gone, and the lock with it.
    }
  }
  PostgresqlHostLock(const PostgresqlHostLock&) = delete;
  PostgresqlHostLock& operator=(const PostgresqlHostLock&) = delete;

  soci::session& session() { return *session_; }
  void MarkHeld() { held_ = true; }

 private:
  std::unique_ptr<soci::session> session_;
  bool held_ = false;
};

bool IsLockTimeout(const std::exception& error) {
  const auto* postgresql = dynamic_cast<const soci::postgresql_soci_error*>(&error);
  return postgresql != nullptr && postgresql->sqlstate() == kLockNotAvailable;
}

void RollbackQuietly(soci::session& session) {
  try {
    ExecuteScript(session, kDialect, "ROLLBACK");
  } catch (const std::exception&) {
    // What failed before is what the caller reports.
  }
}

// The owner the last holder recorded; empty if none did. Throws soci::soci_error.
std::string ReadHolder(soci::session& session) {
  std::string holder;
  soci::indicator indicator = soci::i_null;
  session << "SELECT owner FROM host_lock WHERE id = 1", soci::into(holder, indicator);
  return session.got_data() && indicator == soci::i_ok ? holder : std::string();
}

// The holder after a refusal outside the gate (another acquirer kept it past kHolderGrace): what
// the table says, which may lag a holder that is taking the lock right now.
std::string ReadHolderQuietly(soci::session& session) {
  try {
    return ReadHolder(session);
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace

Result<std::unique_ptr<HostLock>> AcquirePostgresqlHostLock(std::unique_ptr<soci::session> session,
                                                            std::string_view owner,
                                                            std::string_view display) {
  // Owns the connection from here on: every early return closes it, releasing whatever it took.
  auto lock = std::make_unique<PostgresqlHostLock>(std::move(session));
  soci::session& sql = lock->session();
  bool gate_held = false;
  std::string holder;
  try {
    ExecuteScript(sql, kDialect, std::string(kSessionSettings));
    ExecuteScript(sql, kDialect,
                  "BEGIN; SET LOCAL lock_timeout = '" + std::string(kHolderGrace) +
                      "'; SET LOCAL statement_timeout = 0; SELECT pg_advisory_xact_lock(" +
                      std::to_string(kGateKey) + ")");
    gate_held = true;
    holder = ReadHolder(sql);
    ExecuteScript(sql, kDialect, "SELECT pg_advisory_lock(" + std::to_string(kHostLockKey) + ")");
    std::string recorded(owner);
    sql << "INSERT INTO host_lock (id, owner, acquired_at) VALUES (1, :owner, now()) "
           "ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, "
           "acquired_at = excluded.acquired_at",
        soci::use(recorded, "owner");
    ExecuteScript(sql, kDialect, "COMMIT");
    lock->MarkHeld();
  } catch (const std::exception& error) {
    RollbackQuietly(sql);
    if (IsLockTimeout(error)) {
      return HostLockRefused(display, gate_held ? holder : ReadHolderQuietly(sql));
    }
    const StatusCode code = ClassifyFailure(error, kDialect) == SqlFailure::kConnection
                                ? StatusCode::kUnavailable
                                : StatusCode::kInternal;
    return Status(code,
                  "cannot lock the store " + std::string(display) + ": " + FailureMessage(error));
  }
  return std::unique_ptr<HostLock>(std::move(lock));
}

}  // namespace petit::storage::internal
