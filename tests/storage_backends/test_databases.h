// Hermetic databases for the storage tests: a temporary directory for SQLite files, and a scratch
// database per test on the PostgreSQL server named by PETIT_TEST_POSTGRES_URI.
//
// PostgreSQL tests must not pass by doing nothing: when the variable is unset they fail, unless
// PETIT_TEST_ALLOW_NO_POSTGRES=1 turns the failure into a skip (for a quick local run).
#ifndef PETIT_TESTS_STORAGE_BACKENDS_TEST_DATABASES_H_
#define PETIT_TESTS_STORAGE_BACKENDS_TEST_DATABASES_H_

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "petit/core/status.h"

namespace petit::testing {

// A fresh directory under the system temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The storage URI of the test server, or nullopt when PETIT_TEST_POSTGRES_URI is unset or empty.
std::optional<std::string> PostgresServerUri();
bool MissingPostgresIsAllowed();
std::string MissingPostgresMessage();

// Fails the current test (or skips it when allowed) when no PostgreSQL server is configured.
// For SetUp() and test bodies only (it returns from the enclosing function).
#define PETIT_REQUIRE_POSTGRES()                                    \
  do {                                                              \
    if (!::petit::testing::PostgresServerUri().has_value()) {       \
      if (::petit::testing::MissingPostgresIsAllowed()) {           \
        GTEST_SKIP() << ::petit::testing::MissingPostgresMessage(); \
      }                                                             \
      FAIL() << ::petit::testing::MissingPostgresMessage();         \
    }                                                               \
  } while (false)

// A uniquely named database on the test server, dropped (with any open connections) on
// destruction, so each test starts from nothing and leaves nothing behind.
class ScratchPostgresDatabase {
 public:
  static Result<std::unique_ptr<ScratchPostgresDatabase>> Create(std::string_view server_uri);
  ~ScratchPostgresDatabase();
  ScratchPostgresDatabase(const ScratchPostgresDatabase&) = delete;
  ScratchPostgresDatabase& operator=(const ScratchPostgresDatabase&) = delete;

  // The storage URI (for OpenStateStore) and the libpq conninfo (for a raw SOCI session).
  const std::string& uri() const { return uri_; }
  const std::string& conninfo() const { return conninfo_; }

 private:
  ScratchPostgresDatabase(std::string admin_conninfo, std::string name, std::string uri,
                          std::string conninfo);

  std::string admin_conninfo_;
  std::string name_;
  std::string uri_;
  std::string conninfo_;
};

}  // namespace petit::testing

#endif  // PETIT_TESTS_STORAGE_BACKENDS_TEST_DATABASES_H_
