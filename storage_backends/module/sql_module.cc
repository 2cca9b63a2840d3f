// The entry of an SQL store module (src/sql_module.h), compiled once per module: with
// PETIT_SQL_MODULE_POSTGRESQL for petit_postgresql.so (libpq's client installed in the module's
// copy of the SQL backend), without it for petit_sqlite.so. Each module holds its own copy of the
// SQL backend and of core.
#include <memory>
#include <string>
#include <utility>

#include "petit/storage/internal_module.h"
#include "sql/sql_state_store.h"
#include "src/sql_module.h"
#ifdef PETIT_SQL_MODULE_POSTGRESQL
#include "sql/postgresql_client.h"
#endif

namespace petit::storage::internal {
namespace {

Result<std::unique_ptr<StateStore>> OpenStore(std::string target, std::string display,
                                              const OpenOptions& options) {
#ifdef PETIT_SQL_MODULE_POSTGRESQL
  UseNativePostgresqlClient();
  constexpr Dialect kDialect = Dialect::kPostgresql;
#else
  constexpr Dialect kDialect = Dialect::kSqlite;
#endif
  Result<std::unique_ptr<SqlStateStore>> store =
      SqlStateStore::Open(kDialect, std::move(target), std::move(display), options);
  if (!store.ok()) return store.status();
  return std::unique_ptr<StateStore>(std::move(store).value());
}

const void* Module() {
  static const SqlModule module = {InternalModuleBuild().data(), &OpenStore};
  return &module;
}

}  // namespace
}  // namespace petit::storage::internal

#ifdef PETIT_SQL_MODULE_POSTGRESQL
extern "C" __attribute__((visibility("default"))) const void* petit_postgresql_module_v1() {
  return petit::storage::internal::Module();
}
#else
extern "C" __attribute__((visibility("default"))) const void* petit_sqlite_module_v1() {
  return petit::storage::internal::Module();
}
#endif
