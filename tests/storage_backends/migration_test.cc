// Schema migrations on a real database: applied once, recorded, an older schema upgraded with its
// data kept, and a newer schema refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <cstdint>
#include <latch>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "petit/core/state_store.h"
#include "petit/storage/open.h"
#include "sql/dialect.h"
#include "sql/migrations.h"
#include "sql/soci_support.h"
#include "storage_backends/test_databases.h"

namespace petit {
namespace {

using storage::internal::Dialect;
using ::testing::HasSubstr;
using ::testing::Not;

std::string DialectParamName(const ::testing::TestParamInfo<Dialect>& info) {
  return info.param == Dialect::kSqlite ? "Sqlite" : "Postgresql";
}

}  // namespace
}  // namespace petit

namespace petit::storage::internal {
// Names the dialect in failure messages and test listings instead of its bytes (found by ADL).
void PrintTo(Dialect dialect, std::ostream* out) { *out << DialectName(dialect); }
}  // namespace petit::storage::internal

namespace petit {
namespace {

struct AppliedMigration {
  long long version = 0;
  std::string name;
  long long applied_at = 0;
  bool operator==(const AppliedMigration&) const = default;
};

class MigrationTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    if (GetParam() == Dialect::kSqlite) {
      dir_ = std::make_unique<testing::TempDir>();
      path_ = dir_->path() + "/petit.db";
      uri_ = "sqlite://" + path_;
      return;
    }
    PETIT_REQUIRE_POSTGRES();
    Result<std::unique_ptr<testing::ScratchPostgresDatabase>> database =
        testing::ScratchPostgresDatabase::Create(*testing::PostgresServerUri());
    ASSERT_TRUE(database.ok()) << database.status().ToString();
    database_ = std::move(database).value();
    uri_ = database_->uri();
  }

  // A session on the same database that bypasses the store.
  std::unique_ptr<soci::session> Raw() const {
    if (GetParam() == Dialect::kSqlite) {
      return std::make_unique<soci::session>(soci::sqlite3, path_);
    }
    return std::make_unique<soci::session>(soci::postgresql, database_->conninfo());
  }

  std::vector<AppliedMigration> Applied() const {
    std::unique_ptr<soci::session> raw = Raw();
    std::vector<AppliedMigration> applied;
    AppliedMigration row;
    soci::statement query =
        (raw->prepare << "SELECT version, name, " +
                             storage::internal::TimeOut(GetParam(), "applied_at") +
                             " FROM schema_migrations ORDER BY version",
         soci::into(row.version), soci::into(row.name), soci::into(row.applied_at));
    if (!query.execute(true)) return applied;
    do {
      applied.push_back(row);
    } while (query.fetch());
    return applied;
  }

  std::vector<AppliedMigration> Embedded() const {
    std::vector<AppliedMigration> expected;
    for (const auto& migration : storage::internal::EmbeddedMigrations(GetParam())) {
      expected.push_back({migration.version, std::string(migration.name), 0});
    }
    return expected;
  }

  static Status OpenAndClose(const std::string& uri) {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri);
    return store.status();
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::string path_;
  std::unique_ptr<testing::ScratchPostgresDatabase> database_;
  std::string uri_;
};

TEST_P(MigrationTest, EmptyDatabaseGetsEveryMigrationRecordedInOrder) {
  ASSERT_TRUE(OpenAndClose(uri_).ok());

  std::vector<AppliedMigration> applied = Applied();
  std::vector<AppliedMigration> expected = Embedded();
  ASSERT_EQ(applied.size(), expected.size());
  for (size_t i = 0; i < applied.size(); ++i) {
    EXPECT_EQ(applied[i].version, expected[i].version);
    EXPECT_EQ(applied[i].name, expected[i].name);
    EXPECT_GT(applied[i].applied_at, 0);
  }
  std::unique_ptr<soci::session> raw = Raw();
  for (const char* table : {"runs", "task_attempts", "task_logs", "jobs"}) {
    int rows = -1;
    *raw << "SELECT COUNT(*) FROM " + std::string(table), soci::into(rows);
    EXPECT_EQ(rows, 0) << table;
  }
}

TEST_P(MigrationTest, ReopeningAMigratedDatabaseChangesNothing) {
  ASSERT_TRUE(OpenAndClose(uri_).ok());
  const std::vector<AppliedMigration> first = Applied();
  ASSERT_FALSE(first.empty());

  ASSERT_TRUE(OpenAndClose(uri_).ok());
  EXPECT_EQ(Applied(), first);
}

TEST_P(MigrationTest, NewerSchemaIsRefusedWithAnUpgradeMessage) {
  ASSERT_TRUE(OpenAndClose(uri_).ok());
  {
    std::unique_ptr<soci::session> raw = Raw();
    const long long applied_at = 1'700'000'000'000'000LL;
    *raw << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', " +
                storage::internal::TimeIn(GetParam(), "now", false) + ")",
        soci::use(applied_at, "now");
  }

  Status status = OpenAndClose(uri_);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
  const std::string latest = std::to_string(storage::internal::LatestSchemaVersion(GetParam()));
  EXPECT_THAT(status.message(), HasSubstr("database schema version 999 is newer than this petit "
                                          "supports (" +
                                          latest + "); upgrade petit"));
  EXPECT_THAT(status.message(), Not(HasSubstr("\n")));
}

TEST_P(MigrationTest, AVersionOneDatabaseIsUpgradedAndKeepsItsRuns) {
  const auto migrations = storage::internal::EmbeddedMigrations(GetParam());
  ASSERT_GE(migrations.size(), 2u);
  ASSERT_EQ(migrations[0].version, 1);
  const std::string run_id = RunId::Generate().str();
  {
    // What petit 0.1 left behind: schema version 1 and a run it never finished.
    std::unique_ptr<soci::session> raw = Raw();
    storage::internal::ExecuteScript(*raw, GetParam(), std::string(migrations[0].sql));
    const long long applied_at = 1'700'000'000'000'000LL;
    *raw << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, 'initial', " +
                storage::internal::TimeIn(GetParam(), "now", false) + ")",
        soci::use(applied_at, "now");
    const long long created_at = 1'700'000'000'000'001LL;
    *raw << "INSERT INTO runs (id, job_id, status, triggered_by, created_at) VALUES (:id, 'etl', "
            "'running', 'manual', " +
                storage::internal::TimeIn(GetParam(), "created", false) + ")",
        soci::use(run_id, "id"), soci::use(created_at, "created");
  }

  Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::vector<AppliedMigration> applied = Applied();
  ASSERT_EQ(applied.size(), migrations.size());
  EXPECT_EQ(applied.back().version, storage::internal::LatestSchemaVersion(GetParam()));
  Result<std::vector<RunRecord>> incomplete = (*store)->ListIncompleteRuns();
  ASSERT_TRUE(incomplete.ok()) << incomplete.status().ToString();
  ASSERT_EQ(incomplete->size(), 1u);
  EXPECT_EQ(incomplete->at(0).id.str(), run_id);
  EXPECT_EQ(incomplete->at(0).owner, "");
  EXPECT_EQ(incomplete->at(0).created_us, 1'700'000'000'000'001LL);
  JobRecord job;
  job.id = JobId("etl");
  EXPECT_TRUE((*store)->SaveJob(job).ok());
}

TEST_P(MigrationTest, AVersionTwoDatabaseIsUpgradedAndItsRunsWereNeverRetried) {
  const auto migrations = storage::internal::EmbeddedMigrations(GetParam());
  ASSERT_GE(migrations.size(), 3u);
  ASSERT_EQ(migrations[0].version, 1);
  ASSERT_EQ(migrations[1].version, 2);
  const std::string run_id = RunId::Generate().str();
  {
    // What a petit without retries left behind: schema version 2 and a run that failed.
    std::unique_ptr<soci::session> raw = Raw();
    const long long applied_at = 1'700'000'000'000'000LL;
    for (size_t i = 0; i < 2; ++i) {
      storage::internal::ExecuteScript(*raw, GetParam(), std::string(migrations[i].sql));
      long long version = migrations[i].version;
      std::string name(migrations[i].name);
      *raw << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:version, "
              ":name, " +
                  storage::internal::TimeIn(GetParam(), "now", false) + ")",
          soci::use(version, "version"), soci::use(name, "name"), soci::use(applied_at, "now");
    }
    const long long created_at = 1'700'000'000'000'001LL;
    const long long ended_at = 1'700'000'000'000'002LL;
    *raw << "INSERT INTO runs (id, job_id, status, triggered_by, owner, created_at, ended_at, "
            "error) VALUES (:id, 'etl', 'failed', 'manual', 'host/1/1', " +
                storage::internal::TimeIn(GetParam(), "created", false) + ", " +
                storage::internal::TimeIn(GetParam(), "ended", false) + ", 'exit 1')",
        soci::use(run_id, "id"), soci::use(created_at, "created"), soci::use(ended_at, "ended");
  }

  Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::vector<AppliedMigration> applied = Applied();
  ASSERT_EQ(applied.size(), migrations.size());
  EXPECT_EQ(applied.back().version, storage::internal::LatestSchemaVersion(GetParam()));
  Result<RunId> id = RunId::Parse(run_id);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  Result<std::optional<RunRecord>> run = (*store)->GetRun(*id);
  ASSERT_TRUE(run.ok() && run->has_value()) << run.status().ToString();
  EXPECT_EQ((*run)->status, RunStatus::kFailed);
  EXPECT_EQ((*run)->owner, "host/1/1");
  EXPECT_EQ((*run)->ended_us, 1'700'000'000'000'002LL);
  EXPECT_EQ((*run)->retries, 0u);
  EXPECT_EQ((*run)->retried_us, 0);

  Status reopened = (*store)->ReopenRun(*id, "host/2/2", 1'700'000'000'000'010LL);
  ASSERT_TRUE(reopened.ok()) << reopened.ToString();
  run = (*store)->GetRun(*id);
  ASSERT_TRUE(run.ok() && run->has_value()) << run.status().ToString();
  EXPECT_EQ((*run)->retries, 1u);
  EXPECT_EQ((*run)->retried_us, 1'700'000'000'000'010LL);
}

TEST_P(MigrationTest, ConcurrentOpenersApplyEachMigrationOnce) {
  constexpr int kOpeners = 4;
  std::latch start(kOpeners);
  std::vector<Status> results(kOpeners);
  std::vector<std::thread> threads;
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      results[i] = OpenAndClose(uri_);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const Status& result : results) EXPECT_TRUE(result.ok()) << result.ToString();
  EXPECT_EQ(Applied().size(), Embedded().size());
}

INSTANTIATE_TEST_SUITE_P(SqlDialects, MigrationTest,
                         ::testing::Values(Dialect::kSqlite, Dialect::kPostgresql),
                         DialectParamName);

}  // namespace
}  // namespace petit
