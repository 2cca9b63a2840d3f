#include "petit/storage/open.h"

#include <memory>
#include <string>
#include <utility>

#include "memory/memory_state_store.h"
#include "petit/storage/internal_module.h"
#include "sql/sql_state_store.h"
#include "src/postgresql_module.h"
#include "src/storage_uri.h"

namespace petit::storage {

Result<std::unique_ptr<StateStore>> OpenStateStore(std::string_view uri,
                                                   const OpenOptions& options) {
  Result<internal::StorageUri> parsed = internal::ParseStorageUri(uri);
  if (!parsed.ok()) return parsed.status();
  internal::StorageUri& target = *parsed;
  if (target.backend == internal::Backend::kMemory) {
    return std::unique_ptr<StateStore>(std::make_unique<internal::MemoryStateStore>());
  }
  if (target.backend == internal::Backend::kPostgresql) {
    // libpq and what it brings are mapped only now, by loading the module that holds them.
    Result<const void*> module =
        LoadInternalModule(InternalModuleDir() + "/" + internal::kPostgresqlModuleFile,
                           internal::kPostgresqlModuleEntry, "the PostgreSQL module");
    if (!module.ok()) {
      return module.status().WithContext("cannot open PostgreSQL store " + target.display);
    }
    const auto* postgresql = static_cast<const internal::PostgresqlModule*>(*module);
    return postgresql->open(std::move(target.target), std::move(target.display), options);
  }
  Result<std::unique_ptr<internal::SqlStateStore>> store = internal::SqlStateStore::Open(
      internal::Dialect::kSqlite, std::move(target.target), std::move(target.display), options);
  if (!store.ok()) return store.status();
  return std::unique_ptr<StateStore>(std::move(store).value());
}

}  // namespace petit::storage
