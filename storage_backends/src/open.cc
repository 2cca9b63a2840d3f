#include "petit/storage/open.h"

#include <memory>
#include <string>
#include <utility>

#include "memory/memory_state_store.h"
#include "sql/sql_state_store.h"
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
  const internal::Dialect dialect = target.backend == internal::Backend::kSqlite
                                        ? internal::Dialect::kSqlite
                                        : internal::Dialect::kPostgresql;
  Result<std::unique_ptr<internal::SqlStateStore>> store = internal::SqlStateStore::Open(
      dialect, std::move(target.target), std::move(target.display), options);
  if (!store.ok()) return store.status();
  return std::unique_ptr<StateStore>(std::move(store).value());
}

}  // namespace petit::storage
