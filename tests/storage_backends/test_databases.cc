#include "storage_backends/test_databases.h"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "sql/postgresql_client.h"
#include "src/storage_uri.h"

namespace petit::testing {

TempDir::TempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "petit-storage-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed for " << pattern;
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::optional<std::string> PostgresServerUri() {
  const char* uri = std::getenv("PETIT_TEST_POSTGRES_URI");
  if (uri == nullptr || *uri == '\0') return std::nullopt;
  return std::string(uri);
}

bool MissingPostgresIsAllowed() {
  const char* allow = std::getenv("PETIT_TEST_ALLOW_NO_POSTGRES");
  return allow != nullptr && std::string_view(allow) == "1";
}

std::string MissingPostgresMessage() {
  return "PETIT_TEST_POSTGRES_URI is not set. Start a throw-away server with "
         "`scripts/pg_test_server.sh start /tmp/petit-pg` and export the URI it prints as "
         "PETIT_TEST_POSTGRES_URI (or set PETIT_TEST_ALLOW_NO_POSTGRES=1 to skip these tests).";
}

ScratchPostgresDatabase::ScratchPostgresDatabase(std::string admin_conninfo, std::string name,
                                                 std::string uri, std::string conninfo)
    : admin_conninfo_(std::move(admin_conninfo)),
      name_(std::move(name)),
      uri_(std::move(uri)),
      conninfo_(std::move(conninfo)) {}

Result<std::unique_ptr<ScratchPostgresDatabase>> ScratchPostgresDatabase::Create(
    std::string_view server_uri) {
  // The stores the tests open go through the PostgreSQL module; the tests that drive the SQL
  // internals on a raw session (ExecuteScript) use the client linked into the test itself.
  storage::internal::UseNativePostgresqlClient();
  Result<storage::internal::StorageUri> parsed = storage::internal::ParseStorageUri(server_uri);
  if (!parsed.ok()) return parsed.status();
  if (parsed->backend != storage::internal::Backend::kPostgresql) {
    return InvalidArgument("PETIT_TEST_POSTGRES_URI is not a PostgreSQL URI: " + parsed->display);
  }
  static std::atomic<int> counter{0};
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  const std::string name = "petit_test_" + std::to_string(getpid()) + "_" +
                           std::to_string(now % 1000000007) + "_" +
                           std::to_string(counter.fetch_add(1));
  const std::string& admin = parsed->target;
  // A later dbname wins over an earlier one in both libpq forms.
  std::string conninfo;
  std::string uri;
  if (admin.starts_with("postgresql://") || admin.starts_with("postgres://")) {
    conninfo = admin + (admin.find('?') == std::string::npos ? "?" : "&") + "dbname=" + name;
    uri = conninfo;
  } else {
    conninfo = admin + " dbname=" + name;
    uri = "postgresql:" + conninfo;
  }
  try {
    soci::session session(soci::postgresql, admin);
    session << "CREATE DATABASE " + name;
  } catch (const std::exception& error) {
    return Unavailable("cannot create a scratch database on " + parsed->display + ": " +
                       error.what());
  }
  return std::unique_ptr<ScratchPostgresDatabase>(
      new ScratchPostgresDatabase(admin, name, std::move(uri), std::move(conninfo)));
}

ScratchPostgresDatabase::~ScratchPostgresDatabase() {
  try {
    soci::session session(soci::postgresql, admin_conninfo_);
    session << "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)";
  } catch (const std::exception& error) {
    ADD_FAILURE() << "cannot drop scratch database " << name_ << ": " << error.what();
  }
}

}  // namespace petit::testing
