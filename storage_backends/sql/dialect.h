// The SQL dialects the SOCI backend speaks. Differences between them are kept to the few SQL
// snippets below (used by statements.cc) and to the migration files.
#ifndef PETIT_STORAGE_SQL_DIALECT_H_
#define PETIT_STORAGE_SQL_DIALECT_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace petit::storage::internal {

enum class Dialect : uint8_t { kSqlite, kPostgresql };

// "SQLite" or "PostgreSQL", for messages.
constexpr std::string_view DialectName(Dialect dialect) {
  return dialect == Dialect::kSqlite ? "SQLite" : "PostgreSQL";
}

// Times cross the API as int64 microseconds since the Unix epoch: INTEGER columns in SQLite,
// TIMESTAMPTZ in PostgreSQL, converted in SQL with exact integer arithmetic.
// The SQL expression that stores the bound parameter `:name`; with `zero_is_null`, 0 ("not yet")
// is stored as NULL.
std::string TimeIn(Dialect dialect, std::string_view name, bool zero_is_null);
// The same for `micros`, any SQL expression of type BIGINT (a column of an unnest() row).
std::string TimeFromMicros(Dialect dialect, std::string_view micros, bool zero_is_null);
// The SQL expression that reads `column` back as microseconds (NULL reads as 0).
std::string TimeOut(Dialect dialect, std::string_view column);

// Byte strings (log data) are BLOB in SQLite and BYTEA in PostgreSQL. SOCI sends PostgreSQL
// parameters as NUL-terminated text, so bytes travel there as hex and are decoded in SQL.
constexpr bool BytesTravelAsHex(Dialect dialect) { return dialect == Dialect::kPostgresql; }
std::string BytesIn(Dialect dialect, std::string_view name);
std::string BytesOut(Dialect dialect, std::string_view column);

}  // namespace petit::storage::internal

#endif  // PETIT_STORAGE_SQL_DIALECT_H_
