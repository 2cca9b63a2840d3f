#include "petit/storage/open.h"

#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "memory/memory_state_store.h"
#include "petit/storage/internal_module.h"
#include "src/sql_module.h"
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
  const bool sqlite = target.backend == internal::Backend::kSqlite;
  // The database's client libraries (SOCI and SQLite, or libpq and what it brings) are mapped
  // only now, by loading the module that holds them.
  Result<const void*> module = LoadInternalModule(
      InternalModuleDir() + "/" +
          (sqlite ? internal::kSqliteModuleFile : internal::kPostgresqlModuleFile),
      sqlite ? internal::kSqliteModuleEntry : internal::kPostgresqlModuleEntry,
      sqlite ? "the SQLite module" : "the PostgreSQL module");
  if (!module.ok()) {
    return module.status().WithContext(std::string("cannot open ") +
                                       (sqlite ? "SQLite" : "PostgreSQL") + " store " +
                                       target.display);
  }
  if (sqlite && !options.create) {
    // A reader creates nothing: a SQLite file never written, in a directory that exists, holds
    // an empty history, and is read as one rather than made (with its log and index) by a read.
    // A missing directory is the module's error to report: a mistyped path, more likely. After
    // the module is loaded, so that an installation without it says so whatever the file.
    std::error_code ignored;
    const std::filesystem::path path = std::filesystem::absolute(target.target, ignored);
    if (std::filesystem::is_directory(path.parent_path(), ignored) &&
        !std::filesystem::exists(path, ignored)) {
      return std::unique_ptr<StateStore>(std::make_unique<internal::MemoryStateStore>());
    }
  }
  const auto* sql = static_cast<const internal::SqlModule*>(*module);
  return sql->open(std::move(target.target), std::move(target.display), options);
}

bool OutlivesProcess(std::string_view uri) {
  Result<internal::StorageUri> parsed = internal::ParseStorageUri(uri);
  return parsed.ok() && parsed->backend != internal::Backend::kMemory;
}

}  // namespace petit::storage
