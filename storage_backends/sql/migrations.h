// Schema migrations: the SQL files under storage_backends/migrations/<dialect>/NNN_name.sql,
// embedded into the binary at build time (cmake/EmbedMigrations.cmake writes the definition of
// EmbeddedMigrations()).
//
// MigrateSchema applies the ones a database lacks, in version order, each in its own transaction
// together with its schema_migrations row; concurrent openers of one database serialise on a lock
// (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock), so each migration is
// applied once. A database whose schema is newer than the newest embedded migration is refused.
#ifndef PETIT_STORAGE_SQL_MIGRATIONS_H_
#define PETIT_STORAGE_SQL_MIGRATIONS_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "petit/core/status.h"
#include "sql/dialect.h"

namespace soci {
class session;
}  // namespace soci

namespace petit::storage::internal {

struct EmbeddedMigration {
  int64_t version;
  std::string_view name;
  std::string_view sql;
};

// In increasing version order; never empty. Defined in the generated embedded_migrations.cc.
std::span<const EmbeddedMigration> EmbeddedMigrations(Dialect dialect);

// The version this binary migrates to.
int64_t LatestSchemaVersion(Dialect dialect);

// `session` must be open and not inside a transaction. Never throws.
Status MigrateSchema(soci::session& session, Dialect dialect);

}  // namespace petit::storage::internal

#endif  // PETIT_STORAGE_SQL_MIGRATIONS_H_
