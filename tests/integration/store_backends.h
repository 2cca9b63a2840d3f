// The two durable stores an end-to-end test runs against, as a GoogleTest parameter, and the
// store one such test opens: a SQLite file at a path the test chooses, or a scratch PostgreSQL
// database on the server PETIT_TEST_POSTGRES_URI names (dropped with the BackendStore).
//
// Header-only; one BackendStore per test, on the test's thread.
#ifndef PETIT_TESTS_INTEGRATION_STORE_BACKENDS_H_
#define PETIT_TESTS_INTEGRATION_STORE_BACKENDS_H_

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "storage_backends/test_databases.h"

namespace petit::testing {

enum class Backend { kSqlite, kPostgres };

// For INSTANTIATE_TEST_SUITE_P: the cases are named "Sqlite" and "Postgres".
inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

class BackendStore {
 public:
  // Opens the store of `backend`. Without a PostgreSQL server the current test fails (or is
  // skipped, see test_databases.h); a SetUp that calls this returns when
  // `IsSkipped() || HasFatalFailure()`, and GoogleTest then runs no test body.
  void Open(Backend backend, const std::filesystem::path& sqlite_file) {
    if (backend == Backend::kSqlite) {
      uri_ = "sqlite://" + sqlite_file.string();
      return;
    }
    PETIT_REQUIRE_POSTGRES();
    auto scratch = ScratchPostgresDatabase::Create(*PostgresServerUri());
    ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
    postgres_ = std::move(scratch).value();
    uri_ = postgres_->uri();
  }

  // The storage URI (`--storage`, OpenStateStore); empty before Open succeeds.
  const std::string& uri() const { return uri_; }

 private:
  std::unique_ptr<ScratchPostgresDatabase> postgres_;
  std::string uri_;
};

}  // namespace petit::testing

#endif  // PETIT_TESTS_INTEGRATION_STORE_BACKENDS_H_
