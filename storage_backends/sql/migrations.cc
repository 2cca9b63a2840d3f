#include "sql/migrations.h"

#include <soci/soci.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "sql/soci_support.h"

namespace petit::storage::internal {
namespace {

// Any constant works as long as every petit uses the same one: it names the advisory lock that
// serialises concurrent migrations of one PostgreSQL database.
constexpr int64_t kMigrationLockKey = 0x7065746974;  // "petit"

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// 0 when the database has no schema_migrations table yet.
int64_t CurrentVersion(soci::session& session, Dialect dialect) {
  int tables = 0;
  if (dialect == Dialect::kSqlite) {
    session << "SELECT COUNT(*) FROM sqlite_master "
               "WHERE type = 'table' AND name = 'schema_migrations'",
        soci::into(tables);
  } else {
    // A query on the catalog, not to_regclass(): that one consults the backend's relation cache,
    // which may still say "no such table" after another opener committed the first migration.
    session << "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE tablename = 'schema_migrations' "
               "AND schemaname = ANY (current_schemas(false))",
        soci::into(tables);
  }
  if (tables == 0) return 0;
  long long version = 0;
  session << "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", soci::into(version);
  return version;
}

void Begin(soci::session& session, Dialect dialect) {
  if (dialect == Dialect::kSqlite) {
    // IMMEDIATE takes the write lock now, so two openers cannot both read "version 0".
    ExecuteScript(session, dialect, "BEGIN IMMEDIATE");
  } else {
    ExecuteScript(session, dialect,
                  "BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLockKey) + ")");
  }
}

void RollbackQuietly(soci::session& session, Dialect dialect) {
  try {
    ExecuteScript(session, dialect, "ROLLBACK");
  } catch (const std::exception&) {
    // The original failure is what the caller reports; the rollback failing (no transaction
    // open, connection gone) adds nothing.
  }
}

Status NewerSchema(int64_t found, int64_t latest) {
  return FailedPrecondition("database schema version " + std::to_string(found) +
                            " is newer than this petit supports (" + std::to_string(latest) +
                            "); upgrade petit");
}

void Apply(soci::session& session, Dialect dialect, const EmbeddedMigration& migration) {
  ExecuteScript(session, dialect, std::string(migration.sql));
  long long version = migration.version;
  std::string name(migration.name);
  long long applied_at = NowMicros();
  session << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:version, :name, " +
                 TimeIn(dialect, "applied_at", false) + ")",
      soci::use(version, "version"), soci::use(name, "name"), soci::use(applied_at, "applied_at");
}

StatusCode CodeFor(SqlFailure failure) {
  switch (failure) {
    case SqlFailure::kBusy:
    case SqlFailure::kConnection:
    case SqlFailure::kCannotOpen:
      return StatusCode::kUnavailable;
    case SqlFailure::kNotADatabase:
      return StatusCode::kFailedPrecondition;
    case SqlFailure::kCorrupt:
      return StatusCode::kDataLoss;
    default:
      return StatusCode::kInternal;
  }
}

}  // namespace

int64_t LatestSchemaVersion(Dialect dialect) { return EmbeddedMigrations(dialect).back().version; }

Status MigrateSchema(soci::session& session, Dialect dialect) {
  const int64_t latest = LatestSchemaVersion(dialect);
  std::string step = "cannot read the database schema version";
  bool in_transaction = false;
  try {
    const int64_t found = CurrentVersion(session, dialect);
    if (found > latest) return NewerSchema(found, latest);
    if (found == latest) return Status::Ok();
    for (const EmbeddedMigration& migration : EmbeddedMigrations(dialect)) {
      if (migration.version <= found) continue;
      step = "cannot apply schema migration " + std::to_string(migration.version) + " (" +
             std::string(migration.name) + ")";
      Begin(session, dialect);
      in_transaction = true;
      // Read again under the lock: another process may have migrated meanwhile.
      const int64_t current = CurrentVersion(session, dialect);
      if (current > latest) {
        RollbackQuietly(session, dialect);
        return NewerSchema(current, latest);
      }
      if (current < migration.version) Apply(session, dialect, migration);
      ExecuteScript(session, dialect, "COMMIT");
      in_transaction = false;
    }
    return Status::Ok();
  } catch (const std::exception& error) {
    if (in_transaction) RollbackQuietly(session, dialect);
    return Status(CodeFor(ClassifyFailure(error, dialect)), step + ": " + FailureMessage(error));
  }
}

}  // namespace petit::storage::internal
