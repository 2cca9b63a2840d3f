#include "sql/soci_support.h"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <array>
#include <string>
#include <string_view>

#include "src/text_codec.h"

namespace petit::storage::internal {
namespace {

// SOCI's own words before the database's message; they say nothing to a user.
constexpr std::array<std::string_view, 9> kBoilerplatePrefixes = {
    "Cannot establish connection to the database.",
    "Cannot prepare statement.",
    "sqlite3_statement_backend::prepare:",
    "sqlite3_statement_backend::loadOne:",
    "sqlite3_statement_backend::loadRS:",
    "sqlite3_statement_backend::bindAndExecute:",
    "Cannot execute query.",
    "Fatal error.",
    "ERROR:",
};

// SOCI appends the bound values after the statement; they may be megabytes of log data or
// secrets a task wrote, so the message ends at the statement.
constexpr std::string_view kBoundValuesMarker = "\" with :";
constexpr size_t kMaxMessageBytes = 2000;

// PostgreSQL's generic code for an internal error, for failures that come without a SQLSTATE.
constexpr char kUnknownSqlState[] = "XX000";

void ExecuteSqliteScript(soci::session& session, const std::string& script) {
  auto* backend = static_cast<soci::sqlite3_session_backend*>(session.get_backend());
  char* error = nullptr;
  const int result =
      sqlite_api::sqlite3_exec(backend->conn_, script.c_str(), nullptr, nullptr, &error);
  if (result == SQLITE_OK) return;
  std::string message = error != nullptr ? error : sqlite_api::sqlite3_errstr(result);
  sqlite_api::sqlite3_free(error);
  throw soci::sqlite3_soci_error(message, sqlite_api::sqlite3_extended_errcode(backend->conn_));
}

void ExecutePostgresqlScript(soci::session& session, const std::string& script) {
  auto* backend = static_cast<soci::postgresql_session_backend*>(session.get_backend());
  PGresult* result = PQexec(backend->conn_, script.c_str());
  const ExecStatusType status = PQresultStatus(result);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    PQclear(result);
    return;
  }
  std::string message = result != nullptr ? PQresultErrorMessage(result) : "";
  if (message.empty()) message = PQerrorMessage(backend->conn_);
  const char* sqlstate = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string state = sqlstate != nullptr && std::string_view(sqlstate).size() == 5
                          ? std::string(sqlstate)
                          : std::string(kUnknownSqlState);
  PQclear(result);
  throw soci::postgresql_soci_error(message, state.c_str());
}

SqlFailure ClassifySqlite(const soci::sqlite3_soci_error& error) {
  const int code = error.result();
  switch (code) {
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return SqlFailure::kForeignKeyViolation;
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
      return SqlFailure::kUniqueViolation;
    default:
      break;
  }
  switch (code & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return SqlFailure::kBusy;
    case SQLITE_NOTADB:
      return SqlFailure::kNotADatabase;
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return SqlFailure::kCannotOpen;
    default:
      return SqlFailure::kOther;
  }
}

SqlFailure ClassifyPostgresql(const soci::postgresql_soci_error& error) {
  const std::string state = error.sqlstate();
  if (state == "23505") return SqlFailure::kUniqueViolation;
  if (state == "23503") return SqlFailure::kForeignKeyViolation;
  // Class 08 is "connection exception"; 57P01-57P03 mean the server is shutting down or starting.
  if (state.starts_with("08") || state.starts_with("57P")) return SqlFailure::kConnection;
  return SqlFailure::kOther;
}

}  // namespace

void ExecuteScript(soci::session& session, Dialect dialect, const std::string& script) {
  if (dialect == Dialect::kSqlite) {
    ExecuteSqliteScript(session, script);
  } else {
    ExecutePostgresqlScript(session, script);
  }
}

void EnableExtendedResultCodes(soci::session& session) {
  auto* backend = static_cast<soci::sqlite3_session_backend*>(session.get_backend());
  sqlite_api::sqlite3_extended_result_codes(backend->conn_, 1);
}

bool ConnectionLost(soci::session& session, Dialect dialect) {
  if (dialect != Dialect::kPostgresql) return false;
  auto* backend = static_cast<soci::postgresql_session_backend*>(session.get_backend());
  return backend == nullptr || PQstatus(backend->conn_) != CONNECTION_OK;
}

SqlFailure ClassifyFailure(const std::exception& error, Dialect dialect) {
  if (dialect == Dialect::kSqlite) {
    if (const auto* sqlite = dynamic_cast<const soci::sqlite3_soci_error*>(&error)) {
      return ClassifySqlite(*sqlite);
    }
    return SqlFailure::kOther;
  }
  if (const auto* postgresql = dynamic_cast<const soci::postgresql_soci_error*>(&error)) {
    return ClassifyPostgresql(*postgresql);
  }
  const std::string_view message = error.what();
  if (message.find("Cannot establish connection") != std::string_view::npos ||
      message.find("server closed the connection") != std::string_view::npos ||
      message.find("no connection to the server") != std::string_view::npos) {
    return SqlFailure::kConnection;
  }
  return SqlFailure::kOther;
}

std::string FailureMessage(const std::exception& error) {
  std::string message = OneLine(error.what());
  std::string_view rest = message;
  bool stripped = true;
  while (stripped) {
    stripped = false;
    for (const std::string_view prefix : kBoilerplatePrefixes) {
      if (rest.starts_with(prefix)) {
        rest.remove_prefix(prefix.size());
        while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        stripped = true;
      }
    }
  }
  std::string result = rest.empty() ? message : std::string(rest);
  const size_t values = result.find(kBoundValuesMarker);
  if (values != std::string::npos) result.erase(values + 1).push_back('.');
  if (result.size() > kMaxMessageBytes) result.erase(kMaxMessageBytes).append("...");
  return result;
}

}  // namespace petit::storage::internal
