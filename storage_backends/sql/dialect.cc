#include "sql/dialect.h"

#include <string>
#include <string_view>

namespace petit::storage::internal {

std::string TimeIn(Dialect dialect, std::string_view name, bool zero_is_null) {
  return TimeFromMicros(dialect, "CAST(:" + std::string(name) + " AS BIGINT)", zero_is_null);
}

std::string TimeFromMicros(Dialect dialect, std::string_view micros, bool zero_is_null) {
  std::string value(micros);
  if (zero_is_null) value = "NULLIF(" + value + ", 0)";
  if (dialect == Dialect::kSqlite) return value;
  // interval * bigint is exact for any |value| < 2^53 us (285 years either side of 1970).
  return "(TIMESTAMPTZ 'epoch' + " + value + " * INTERVAL '1 microsecond')";
}

std::string TimeOut(Dialect dialect, std::string_view column) {
  const std::string col(column);
  if (dialect == Dialect::kSqlite) return "COALESCE(" + col + ", 0)";
  // EXTRACT returns numeric (exact) since PostgreSQL 14.
  return "COALESCE(CAST(EXTRACT(EPOCH FROM " + col + ") * 1000000 AS BIGINT), 0)";
}

std::string BytesIn(Dialect dialect, std::string_view name) {
  const std::string param = ":" + std::string(name);
  if (dialect == Dialect::kSqlite) return "CAST(" + param + " AS BLOB)";
  return "decode(" + param + ", 'hex')";
}

std::string BytesOut(Dialect dialect, std::string_view column) {
  const std::string col(column);
  if (dialect == Dialect::kSqlite) return col;
  return "encode(" + col + ", 'hex')";
}

}  // namespace petit::storage::internal
