// OpenStateStore: the one way to get a StateStore; the URI picks the backend.
//
//   memory:                      kept in this process only, gone when the store is destroyed.
//   sqlite:PATH                  a SQLite file. A leading "//" after the scheme is dropped, so
//                                sqlite:///var/lib/petit/petit.db is the absolute path
//                                /var/lib/petit/petit.db and sqlite://petit.db and sqlite:petit.db
//                                are petit.db in the working directory. Missing parent directories
//                                are created, unless OpenOptions::create is false
//                                (then they are a kNotFound error). The path is taken literally: no
//                                '?' parameters, no
//                                %-escapes; '=' and '"' are refused (SOCI would misread them).
//   postgresql://user@host:5432/db?sslmode=...     a libpq connection URI, passed as written
//   postgresql:host=/run/postgresql dbname=petit   a libpq key=value string after the scheme
//                                ("postgres" works as well as "postgresql").
//
// The SQLite and PostgreSQL stores are in modules beside the executable (internal_module.h), loaded
// on the first open of a store of their kind; a module that is missing or of another build is a
// one-line kFailedPrecondition naming it.
//
// A SQLite file deleted, replaced or made unwritable under the process makes the next write and
// every later one fail with kDataLoss (StateStore::SetLostListener).
//
// The database schema is created or migrated on open; a database written by a newer petit is
// refused. Every failure is one line that names the URI (passwords replaced by "***") and the
// reason, e.g. "cannot connect to PostgreSQL at postgresql://petit@db:5432/petit: connection
// refused".
//
// The caller owns the returned store. Thread-safe: may be called from any thread.
#ifndef PETIT_STORAGE_OPEN_H_
#define PETIT_STORAGE_OPEN_H_

#include <memory>
#include <string_view>

#include "petit/core/state_store.h"
#include "petit/core/status.h"

namespace petit::storage {

struct OpenOptions {
  // False for a process that only reads: it creates nothing. A SQLite path whose directory does
  // not exist is then an error (kNotFound, "... does not exist, so nothing was ever recorded
  // there"), so a mistyped path is reported instead of showing an empty history; a file not
  // there in a directory that is opens as an empty store (in memory), no file made.
  bool create = true;
  // SQLite: run PRAGMA quick_check on open and refuse a damaged file (kDataLoss). It reads the
  // whole file (about 0.5 s per 100 MB here), so a process that only reads may skip it.
  bool quick_check = true;
};

Result<std::unique_ptr<StateStore>> OpenStateStore(std::string_view uri,
                                                   const OpenOptions& options = {});

// OK when `uri` is written as a storage URI (memory:, sqlite:PATH, postgresql:...); nothing is
// opened or reached. Otherwise the kInvalidArgument that OpenStateStore would return for it,
// so that a command refuses a mistyped URI as bad usage before it starts anything.
Status CheckStorageUri(std::string_view uri);

// Whether what a store opened from `uri` records outlives this process (false for memory:, and
// for a URI that does not parse), so that a later process could find and recover its runs.
bool OutlivesProcess(std::string_view uri);

}  // namespace petit::storage

#endif  // PETIT_STORAGE_OPEN_H_
