#include "sql/postgresql_client.h"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <string>
#include <string_view>
#include <utility>

#include "sql/postgresql_host_lock.h"

namespace petit::storage::internal {
namespace {

// PostgreSQL's generic code for an internal error, for failures that come without a SQLSTATE.
constexpr char kUnknownSqlState[] = "XX000";

class NativeClient final : public PostgresqlClient {
 public:
  void Open(soci::session& session, const std::string& conninfo) const override {
    session.open(soci::postgresql, conninfo);
  }

  void ExecuteScript(soci::session& session, const std::string& script) const override {
    auto* backend = static_cast<soci::postgresql_session_backend*>(session.get_backend());
    PGresult* result = PQexec(backend->conn_, script.c_str());
    const ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      PQclear(result);
      return;
    }
    std::string message = result != nullptr ? PQresultErrorMessage(result) : "";
    if (message.empty()) message = PQerrorMessage(backend->conn_);
    const char* sqlstate =
        result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    std::string state = sqlstate != nullptr && std::string_view(sqlstate).size() == 5
                            ? std::string(sqlstate)
                            : std::string(kUnknownSqlState);
    PQclear(result);
    throw soci::postgresql_soci_error(message, state.c_str());
  }

  bool ConnectionLost(soci::session& session) const override {
    auto* backend = static_cast<soci::postgresql_session_backend*>(session.get_backend());
    return backend == nullptr || PQstatus(backend->conn_) != CONNECTION_OK;
  }

  std::optional<SqlFailure> Classify(const std::exception& error) const override {
    const auto* postgresql = dynamic_cast<const soci::postgresql_soci_error*>(&error);
    if (postgresql == nullptr) return std::nullopt;
    const std::string state = postgresql->sqlstate();
    if (state == "23505") return SqlFailure::kUniqueViolation;
    if (state == "23503") return SqlFailure::kForeignKeyViolation;
    // Class 08 is "connection exception"; 57P01-57P03 mean the server is shutting down or
    // starting.
    if (state.starts_with("08") || state.starts_with("57P")) return SqlFailure::kConnection;
    return SqlFailure::kOther;
  }

  Result<std::unique_ptr<HostLock>> AcquireHostLock(std::unique_ptr<soci::session> session,
                                                    std::string_view owner,
                                                    std::string_view display) const override {
    return AcquirePostgresqlHostLock(std::move(session), owner, display);
  }
};

}  // namespace

const PostgresqlClient& NativePostgresqlClient() {
  static const NativeClient client;
  return client;
}

void UseNativePostgresqlClient() { InstallPostgresqlClient(NativePostgresqlClient()); }

}  // namespace petit::storage::internal
