// How the SQL backend fails: errors name the operation and the statement on one line, and a
// PostgreSQL connection that died is replaced instead of poisoning the store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "petit/storage/open.h"
#include "storage_backends/test_databases.h"

namespace petit {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string HexEncodeForTest(std::string_view text) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (const char c : text) {
    hex.push_back(kDigits[static_cast<unsigned char>(c) >> 4]);
    hex.push_back(kDigits[static_cast<unsigned char>(c) & 0xF]);
  }
  return hex;
}

RunRecord NewRun() {
  RunRecord run;
  run.id = RunId::Generate();
  run.job = JobId("job");
  run.created_us = 1'700'000'000'000'000;
  return run;
}

enum class SqlBackend { kSqlite, kPostgresql };

std::string SqlBackendName(const ::testing::TestParamInfo<SqlBackend>& info) {
  return info.param == SqlBackend::kSqlite ? "Sqlite" : "Postgresql";
}

void PrintTo(SqlBackend backend, std::ostream* out) {
  *out << (backend == SqlBackend::kSqlite ? "Sqlite" : "Postgresql");
}

class SqlFailureTest : public ::testing::TestWithParam<SqlBackend> {
 protected:
  void SetUp() override {
    if (GetParam() == SqlBackend::kSqlite) {
      dir_ = std::make_unique<testing::TempDir>();
      path_ = dir_->path() + "/petit.db";
      uri_ = "sqlite://" + path_;
    } else {
      PETIT_REQUIRE_POSTGRES();
      Result<std::unique_ptr<testing::ScratchPostgresDatabase>> database =
          testing::ScratchPostgresDatabase::Create(*testing::PostgresServerUri());
      ASSERT_TRUE(database.ok()) << database.status().ToString();
      database_ = std::move(database).value();
      uri_ = database_->uri();
    }
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  std::unique_ptr<soci::session> Raw() const {
    if (GetParam() == SqlBackend::kSqlite) {
      return std::make_unique<soci::session>(soci::sqlite3, path_);
    }
    return std::make_unique<soci::session>(soci::postgresql, database_->conninfo());
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::string path_;
  std::unique_ptr<testing::ScratchPostgresDatabase> database_;
  std::string uri_;
  std::unique_ptr<StateStore> store_;
};

TEST_P(SqlFailureTest, ReadFailureNamesTheOperationAndTheStatementOnOneLine) {
  RunRecord run = NewRun();
  ASSERT_TRUE(store_->CreateRun(run).ok());
  *Raw() << "DROP TABLE task_logs";

  LogQuery every_chunk;
  every_chunk.limit = SIZE_MAX;
  Result<std::vector<LogChunk>> logs = store_->ReadLogs(run.id, every_chunk);
  ASSERT_FALSE(logs.ok());
  EXPECT_EQ(logs.status().code(), StatusCode::kInternal) << logs.status().ToString();
  EXPECT_THAT(logs.status().message(), HasSubstr("cannot read the logs of run " + run.id.str()));
  EXPECT_THAT(logs.status().message(), HasSubstr("task_logs"));
  EXPECT_THAT(logs.status().message(), HasSubstr("SELECT task_id, attempt, seq"));
  EXPECT_THAT(logs.status().message(), Not(HasSubstr("\n")));
}

TEST_P(SqlFailureTest, WriteFailureLeavesOtherWritesWorking) {
  RunRecord run = NewRun();
  ASSERT_TRUE(store_->CreateRun(run).ok());
  *Raw() << "DROP TABLE task_logs";

  LogChunk chunk;
  chunk.run = run.id;
  chunk.task = TaskId("t");
  chunk.data = "secret-token-in-the-output";
  Status failed = store_->AppendLog(chunk);
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.message(), HasSubstr("cannot append log chunk 0 of attempt 0 of task 't'"));
  EXPECT_THAT(failed.message(), HasSubstr("INSERT INTO task_logs"));
  EXPECT_THAT(failed.message(), Not(HasSubstr("\n")));
  // SOCI would list the bound values; the data a task wrote has no place in an error message.
  EXPECT_THAT(failed.message(), Not(HasSubstr("secret-token")));
  EXPECT_THAT(failed.message(), Not(HasSubstr(HexEncodeForTest("secret-token"))));

  run.status = RunStatus::kFailed;
  Status updated = store_->UpdateRun(run);
  EXPECT_TRUE(updated.ok()) << updated.ToString();
  Result<std::optional<RunRecord>> stored = store_->GetRun(run.id);
  ASSERT_TRUE(stored.ok() && stored->has_value()) << stored.status().ToString();
  EXPECT_EQ((*stored)->status, RunStatus::kFailed);
}

INSTANTIATE_TEST_SUITE_P(SqlDialects, SqlFailureTest,
                         ::testing::Values(SqlBackend::kSqlite, SqlBackend::kPostgresql),
                         SqlBackendName);

TEST(PostgresqlConnectionTest, KilledConnectionsAreReplaced) {
  PETIT_REQUIRE_POSTGRES();
  Result<std::unique_ptr<testing::ScratchPostgresDatabase>> database =
      testing::ScratchPostgresDatabase::Create(*testing::PostgresServerUri());
  ASSERT_TRUE(database.ok()) << database.status().ToString();
  Result<std::unique_ptr<StateStore>> opened = storage::OpenStateStore((*database)->uri());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  StateStore& store = **opened;
  RunRecord first = NewRun();
  ASSERT_TRUE(store.CreateRun(first).ok());
  ASSERT_TRUE(store.GetRun(first.id).ok());

  // Every connection of the store dies (as in a server restart); the timeout makes the call wait
  // until each backend has exited.
  int killed = 0;
  soci::session admin(soci::postgresql, (*database)->conninfo());
  admin << "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
           "WHERE datname = current_database() AND pid <> pg_backend_pid()) AS t",
      soci::into(killed);
  ASSERT_GT(killed, 0);

  // Reads are retried on a new connection.
  Result<std::optional<RunRecord>> read = store.GetRun(first.id);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(read->has_value());

  // A write is not retried (it may have been applied before the connection died): it reports
  // kUnavailable, and the next write runs on a new connection.
  RunRecord second = NewRun();
  Status lost = store.CreateRun(second);
  EXPECT_EQ(lost.code(), StatusCode::kUnavailable) << lost.ToString();
  EXPECT_THAT(lost.message(), HasSubstr("lost the connection"));
  EXPECT_THAT(lost.message(), Not(HasSubstr("\n")));
  Status created = store.CreateRun(second);
  EXPECT_TRUE(created.ok()) << created.ToString();
  EXPECT_TRUE(store.GetRun(second.id)->has_value());
}

}  // namespace
}  // namespace petit
