// What the SOCI backend needs beyond SOCI's portable API: multi-statement scripts, SQLite's
// extended error codes, and turning SOCI exceptions into one-line messages and failure kinds.
#ifndef PETIT_STORAGE_SQL_SOCI_SUPPORT_H_
#define PETIT_STORAGE_SQL_SOCI_SUPPORT_H_

#include <cstdint>
#include <exception>
#include <string>

#include "sql/dialect.h"

namespace soci {
class session;
}  // namespace soci

namespace petit::storage::internal {

// Executes `script` (several statements, no parameters) through the native client, because
// SOCI's SQLite backend runs only the first statement of a string and its PostgreSQL backend
// rewrites every ":word" (even in comments) into a parameter. Throws soci::soci_error.
void ExecuteScript(soci::session& session, Dialect dialect, const std::string& script);

// Makes SQLite report constraint violations by kind (SQLITE_CONSTRAINT_FOREIGNKEY, ...).
void EnableExtendedResultCodes(soci::session& session);

// True when `session` is a PostgreSQL session whose connection is known to be broken (libpq
// notices only when a call fails). Always false for SQLite.
bool ConnectionLost(soci::session& session, Dialect dialect);

enum class SqlFailure : uint8_t {
  kUniqueViolation,
  kForeignKeyViolation,
  kBusy,          // SQLite: the database stayed locked past busy_timeout
  kNotADatabase,  // SQLite: the file is something else
  kCorrupt,       // SQLite: a page read is damaged (SQLITE_CORRUPT)
  kCannotOpen,    // SQLite: the file or its directory cannot be opened or written
  kConnection,    // PostgreSQL: the connection failed or was lost
  kOther,
};

// `error` is what a SOCI call threw (any std::exception).
SqlFailure ClassifyFailure(const std::exception& error, Dialect dialect);

// The exception's message on one line, without SOCI's boilerplate prefixes and without the bound
// values SOCI lists after the statement.
std::string FailureMessage(const std::exception& error);

}  // namespace petit::storage::internal

#endif  // PETIT_STORAGE_SQL_SOCI_SUPPORT_H_
