// The PostgreSQL module's entry point (src/postgresql_module.h). The module holds its own copy of
// the SQL backend and of core, with libpq's client installed in it.
#include <memory>
#include <string>
#include <utility>

#include "petit/storage/internal_module.h"
#include "sql/postgresql_client.h"
#include "sql/sql_state_store.h"
#include "src/postgresql_module.h"

namespace petit::storage::internal {
namespace {

Result<std::unique_ptr<StateStore>> OpenPostgresql(std::string conninfo, std::string display,
                                                   const OpenOptions& options) {
  UseNativePostgresqlClient();
  Result<std::unique_ptr<SqlStateStore>> store =
      SqlStateStore::Open(Dialect::kPostgresql, std::move(conninfo), std::move(display), options);
  if (!store.ok()) return store.status();
  return std::unique_ptr<StateStore>(std::move(store).value());
}

}  // namespace
}  // namespace petit::storage::internal

extern "C" __attribute__((visibility("default"))) const void* petit_postgresql_module_v1() {
  using petit::storage::internal::PostgresqlModule;
  static const PostgresqlModule module = {petit::storage::InternalModuleBuild().data(),
                                          &petit::storage::internal::OpenPostgresql};
  return &module;
}
