// The SQL store modules' entries (internal_module.h): lib/petit/modules/petit_sqlite.so holds the
// SQL backend with SOCI and SQLite, petit_postgresql.so the same with libpq, so that a process maps
// a database's client libraries only when it opens a store of that kind (`petit version`,
// `validate`, `status` open none). module/sql_module.cc defines both entries; open.cc loads them.
#ifndef PETIT_STORAGE_SRC_SQL_MODULE_H_
#define PETIT_STORAGE_SRC_SQL_MODULE_H_

#include <memory>
#include <string>

#include "petit/core/state_store.h"
#include "petit/core/status.h"
#include "petit/storage/open.h"

namespace petit::storage::internal {

inline constexpr char kSqliteModuleFile[] = "petit_sqlite.so";
inline constexpr char kSqliteModuleEntry[] = "petit_sqlite_module_v1";
inline constexpr char kPostgresqlModuleFile[] = "petit_postgresql.so";
inline constexpr char kPostgresqlModuleEntry[] = "petit_postgresql_module_v1";

// What an entry returns; `build` first, as every module's (internal_module.h).
struct SqlModule {
  const char* build;
  // SqlStateStore::Open in the module's dialect: `target` for the database (the SQLite path or
  // libpq's connection string), `display` for messages.
  Result<std::unique_ptr<StateStore>> (*open)(std::string target, std::string display,
                                              const OpenOptions& options);
};

}  // namespace petit::storage::internal

#endif  // PETIT_STORAGE_SRC_SQL_MODULE_H_
