// Parsing of storage URIs (grammar in petit/storage/open.h) and redaction of secrets in them.
#ifndef PETIT_STORAGE_SRC_STORAGE_URI_H_
#define PETIT_STORAGE_SRC_STORAGE_URI_H_

#include <string>
#include <string_view>

#include "petit/core/status.h"

namespace petit::storage::internal {

enum class Backend : uint8_t { kMemory, kSqlite, kPostgresql };

struct StorageUri {
  Backend backend = Backend::kMemory;
  // SQLite: the file path. PostgreSQL: what libpq receives (a URI or a key=value string).
  std::string target;
  // The URI as given, with any password replaced by "***"; safe for messages and logs.
  std::string display;
};

Result<StorageUri> ParseStorageUri(std::string_view uri);

// `conninfo` (a libpq URI or key=value string) with every password replaced by "***".
std::string RedactPostgresConnInfo(std::string_view conninfo);

// `conninfo` with client-side timeouts (connect, keepalives, tcp_user_timeout) added where it sets
// none, so a PostgreSQL server that stops answering fails a write instead of hanging it. A value
// the user gave wins. A server that is alive but does not reply (SIGSTOP) is still waited for:
// libpq has no query timeout on the client side.
std::string WithPostgresClientTimeouts(std::string_view conninfo);

}  // namespace petit::storage::internal

#endif  // PETIT_STORAGE_SRC_STORAGE_URI_H_
