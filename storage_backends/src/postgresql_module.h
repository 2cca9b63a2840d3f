// The PostgreSQL module's entry (internal_module.h): lib/petit/modules/petit_postgresql.so holds
// the SQL backend with libpq, so that only a process that opens a postgresql: URI maps libpq.
// module/postgresql_module.cc defines the entry; open.cc loads it.
#ifndef PETIT_STORAGE_SRC_POSTGRESQL_MODULE_H_
#define PETIT_STORAGE_SRC_POSTGRESQL_MODULE_H_

#include <memory>
#include <string>

#include "petit/core/state_store.h"
#include "petit/core/status.h"
#include "petit/storage/open.h"

namespace petit::storage::internal {

inline constexpr char kPostgresqlModuleFile[] = "petit_postgresql.so";
inline constexpr char kPostgresqlModuleEntry[] = "petit_postgresql_module_v1";

// What the entry returns; `build` first, as every module's (internal_module.h).
struct PostgresqlModule {
  const char* build;
  // SqlStateStore::Open on PostgreSQL: `conninfo` for libpq, `display` for messages.
  Result<std::unique_ptr<StateStore>> (*open)(std::string conninfo, std::string display,
                                              const OpenOptions& options);
};

}  // namespace petit::storage::internal

#endif  // PETIT_STORAGE_SRC_POSTGRESQL_MODULE_H_
