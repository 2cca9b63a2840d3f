// Petit's internal modules: parts of petit itself built as shared objects beside the binary and
// loaded with dlopen only by the commands that need them, so that every other command starts
// without their libraries (SOCI and SQLite, libpq and its dozen dependencies, Graphviz). There are
// three, fixed, in lib/petit/modules: petit_sqlite.so and petit_postgresql.so (the SQL stores,
// src/sql_module.h) and petit_graphviz.so (`petit graph --format svg`). This is not a plugin
// system: a module is found at one place relative to the executable, and one built by another
// petit build is refused, since it shares the binary's C++ types.
//
// A module exports one C function, its entry, returning a pointer to a struct of its own whose
// first member is `const char* build`, the module's InternalModuleBuild().
//
// Threads: any thread. A loaded module stays loaded for the life of the process.
#ifndef PETIT_STORAGE_INTERNAL_MODULE_H_
#define PETIT_STORAGE_INTERNAL_MODULE_H_

#include <string>
#include <string_view>

#include "petit/core/status.h"

namespace petit::storage {

// The build a module must come from: petit's version, the compiler and the build type. A C
// string (NUL-terminated) of static storage.
std::string_view InternalModuleBuild();

// Where the modules of this executable are: <its directory>/../lib/petit/modules, the same in the
// build tree (build/bin/petit) and in the installed layout (/usr/bin/petit).
std::string InternalModuleDir();

// Loads the module at `path` and returns what its `entry` function returns. `what` names the
// module in messages ("the PostgreSQL module"). One line on failure: kFailedPrecondition when the
// file is missing, is not a loadable library, has no `entry`, or is of another build.
Result<const void*> LoadInternalModule(const std::string& path, const char* entry,
                                       std::string_view what);

}  // namespace petit::storage

#endif  // PETIT_STORAGE_INTERNAL_MODULE_H_
