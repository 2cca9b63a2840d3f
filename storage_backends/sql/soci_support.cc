#include "sql/soci_support.h"

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <array>
#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "sql/postgresql_client.h"
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

std::atomic<const PostgresqlClient*> installed_postgresql_client{nullptr};

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

// The installed client; throws (as SOCI would) when this binary has none, which OpenStateStore
// never lets happen: it opens PostgreSQL stores in the module.
const PostgresqlClient& Postgresql() {
  const PostgresqlClient* client = installed_postgresql_client.load(std::memory_order_acquire);
  if (client == nullptr) {
    throw std::logic_error("this binary has no PostgreSQL client (it is in the PostgreSQL module)");
  }
  return *client;
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
    case SQLITE_CORRUPT:
      return SqlFailure::kCorrupt;
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return SqlFailure::kCannotOpen;
    default:
      return SqlFailure::kOther;
  }
}

}  // namespace

void ExecuteScript(soci::session& session, Dialect dialect, const std::string& script) {
  if (dialect == Dialect::kSqlite) {
    ExecuteSqliteScript(session, script);
  } else {
    Postgresql().ExecuteScript(session, script);
  }
}

void EnableExtendedResultCodes(soci::session& session) {
  auto* backend = static_cast<soci::sqlite3_session_backend*>(session.get_backend());
  sqlite_api::sqlite3_extended_result_codes(backend->conn_, 1);
}

bool ConnectionLost(soci::session& session, Dialect dialect) {
  if (dialect != Dialect::kPostgresql) return false;
  const PostgresqlClient* client = InstalledPostgresqlClient();
  return client != nullptr && client->ConnectionLost(session);
}

SqlFailure ClassifyFailure(const std::exception& error, Dialect dialect) {
  if (dialect == Dialect::kSqlite) {
    if (const auto* sqlite = dynamic_cast<const soci::sqlite3_soci_error*>(&error)) {
      return ClassifySqlite(*sqlite);
    }
    return SqlFailure::kOther;
  }
  if (const PostgresqlClient* client = InstalledPostgresqlClient()) {
    if (const std::optional<SqlFailure> failure = client->Classify(error)) return *failure;
  }
  const std::string_view message = error.what();
  if (message.find("Cannot establish connection") != std::string_view::npos ||
      message.find("server closed the connection") != std::string_view::npos ||
      message.find("no connection to the server") != std::string_view::npos) {
    return SqlFailure::kConnection;
  }
  return SqlFailure::kOther;
}

void InstallPostgresqlClient(const PostgresqlClient& client) {
  installed_postgresql_client.store(&client, std::memory_order_release);
}

const PostgresqlClient* InstalledPostgresqlClient() {
  return installed_postgresql_client.load(std::memory_order_acquire);
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
