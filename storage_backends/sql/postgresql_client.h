// PostgresqlClient: what the SQL backend needs from libpq and SOCI's PostgreSQL backend, behind an
// interface so that the code common to both dialects (Database, SqlStateStore, the migrations)
// can be linked into the petit binary without libpq.
//
// The petit binary has no SQL backend of its own: it opens a postgresql: URI through the PostgreSQL
// module (module/sql_module.cc, src/sql_module.h), which holds its own copy of the SQL backend,
// installs NativePostgresqlClient() into that copy and opens the store there; the SQLite module
// installs none.
// Tests that drive the SQL internals on PostgreSQL directly link petit_storage_postgresql_client
// and call UseNativePostgresqlClient() themselves.
//
// Threads: InstallPostgresqlClient before the first PostgreSQL session is opened; the client is
// then read from any thread and must live for the rest of the process.
#ifndef PETIT_STORAGE_SQL_POSTGRESQL_CLIENT_H_
#define PETIT_STORAGE_SQL_POSTGRESQL_CLIENT_H_

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "petit/core/state_store.h"
#include "petit/core/status.h"
#include "sql/soci_support.h"

namespace soci {
class session;
}  // namespace soci

namespace petit::storage::internal {

class PostgresqlClient {
 public:
  virtual ~PostgresqlClient() = default;

  // Opens `session` on the libpq connection string `conninfo`. Throws soci::soci_error.
  virtual void Open(soci::session& session, const std::string& conninfo) const = 0;
  // soci_support.h's ExecuteScript for a PostgreSQL session.
  virtual void ExecuteScript(soci::session& session, const std::string& script) const = 0;
  // soci_support.h's ConnectionLost for a PostgreSQL session.
  virtual bool ConnectionLost(soci::session& session) const = 0;
  // The failure kind of a postgresql_soci_error; nullopt for any other exception.
  virtual std::optional<SqlFailure> Classify(const std::exception& error) const = 0;
  // postgresql_host_lock.h's AcquirePostgresqlHostLock.
  virtual Result<std::unique_ptr<HostLock>> AcquireHostLock(std::unique_ptr<soci::session> session,
                                                            std::string_view owner,
                                                            std::string_view display) const = 0;
};

// Makes `client` the one the SQL backend of this binary (or module) uses for PostgreSQL.
void InstallPostgresqlClient(const PostgresqlClient& client);
// The installed client, or null when this binary has none (the petit binary itself).
const PostgresqlClient* InstalledPostgresqlClient();

// libpq's, defined in postgresql_client.cc (only in the module and in the tests that link it).
const PostgresqlClient& NativePostgresqlClient();
// InstallPostgresqlClient(NativePostgresqlClient()).
void UseNativePostgresqlClient();

}  // namespace petit::storage::internal

#endif  // PETIT_STORAGE_SQL_POSTGRESQL_CLIENT_H_
