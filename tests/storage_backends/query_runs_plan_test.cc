// QueryRuns on SQLite reads every combination of filters in order from an index: the plan of each
// query (EXPLAIN QUERY PLAN, on the schema the migrations build) neither sorts nor scans the run
// table. That is what keeps a page cheap with 100,000 runs in the store; the conformance suite
// checks the answers, this checks how they are found. So too for the sweep of stranded attempts
// that every start of petit makes: it reads only the attempts not ended.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "petit/core/state_store.h"
#include "petit/storage/open.h"
#include "sql/statements.h"
#include "storage_backends/test_databases.h"

namespace petit {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The plan's lines, as the sqlite3 shell prints them without indentation.
std::string Plan(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* statement = nullptr;
  const std::string explain = "EXPLAIN QUERY PLAN " + sql;
  if (sqlite3_prepare_v2(db, explain.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sqlite3_errmsg(db) << " in " << sql;
    return "";
  }
  std::string plan;
  while (sqlite3_step(statement) == SQLITE_ROW) {
    plan += reinterpret_cast<const char*>(sqlite3_column_text(statement, 3));
    plan += "\n";
  }
  sqlite3_finalize(statement);
  return plan;
}

// A store on the schema the migrations build, read through sqlite3 for its plans.
class QueryRunsPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = dir_.path() + "/petit.db";
    {
      Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore("sqlite://" + path);
      ASSERT_TRUE(store.ok()) << store.status().ToString();
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    db_.reset(db);
  }

  testing::TempDir dir_;
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db_{nullptr, &sqlite3_close};
};

TEST_F(QueryRunsPlanTest, EveryFilterCombinationIsReadInOrderFromAnIndex) {
  sqlite3* db = db_.get();

  for (const bool job : {false, true}) {
    for (const std::optional<RunStatus> status :
         {std::optional<RunStatus>(), std::optional<RunStatus>(RunStatus::kFailed),
          std::optional<RunStatus>(RunStatus::kRunning)}) {
      for (const bool since : {false, true}) {
        for (const bool until : {false, true}) {
          for (const bool after : {false, true}) {
            RunQuery query;
            if (job) query.job = JobId("etl");
            if (since) query.since_us = 1;
            if (until) query.until_us = 2;
            if (after) query.after = RunCursor{3, RunId::Generate()};
            const std::string sql =
                storage::internal::QueryRunsSql(storage::internal::Dialect::kSqlite, query, status);
            const std::string plan = Plan(db, sql);
            SCOPED_TRACE(sql);
            EXPECT_THAT(plan, HasSubstr("USING INDEX"));
            EXPECT_THAT(plan, Not(HasSubstr("TEMP B-TREE")));
            if (job) {
              EXPECT_THAT(plan, HasSubstr("job_id=?"));
            }
            if (status == RunStatus::kRunning) {
              // The runs not ended are a handful whatever the history holds: read from the
              // partial index that holds only them, the status tested on each.
              EXPECT_THAT(plan, HasSubstr("USING INDEX runs_incomplete_"));
              continue;
            }
            // Every filter given is part of the index's key, not a test on each row of a scan.
            if (job || status.has_value() || since || until || after) {
              EXPECT_THAT(plan, HasSubstr("SEARCH runs"));
            }
            if (status.has_value()) {
              EXPECT_THAT(plan, HasSubstr("USING INDEX runs_ended_"));
              EXPECT_THAT(plan, HasSubstr("status=?"));
            }
            if (since || until || after) {
              EXPECT_THAT(plan, HasSubstr("created_at"));
            }
          }
        }
      }
    }
  }
}

TEST_F(QueryRunsPlanTest, TheLastEndedRunOfAJobIsReadFromTheIndexOfEndedRuns) {
  sqlite3* db = db_.get();
  const std::vector<RunStatus> succeeded = {RunStatus::kSucceeded};
  const std::vector<RunStatus> finished = {RunStatus::kSucceeded, RunStatus::kFailed,
                                           RunStatus::kCancelled, RunStatus::kInterrupted};
  for (const std::vector<RunStatus>* statuses : {&succeeded, &finished}) {
    for (const bool count_unended : {false, true}) {
      const std::string sql = storage::internal::LastRunSql(storage::internal::Dialect::kSqlite,
                                                            *statuses, count_unended);
      SCOPED_TRACE(sql);
      const std::string plan = Plan(db, sql);
      EXPECT_THAT(plan, HasSubstr("SEARCH runs USING INDEX runs_ended_by_job_status_newest_end"));
      EXPECT_THAT(plan, HasSubstr("job_id=?"));
    }
  }
  // One status: already in the index's order, nothing sorted.
  EXPECT_THAT(
      Plan(db, storage::internal::LastRunSql(storage::internal::Dialect::kSqlite, succeeded, true)),
      Not(HasSubstr("TEMP B-TREE")));
}

TEST_F(QueryRunsPlanTest, TheStrandedAttemptSweepReadsOnlyTheAttemptsNotEnded) {
  sqlite3* db = db_.get();
  for (const std::string& sql :
       {storage::internal::StrandedAttemptsSql(),
        storage::internal::InterruptStrandedAttemptsSql(storage::internal::Dialect::kSqlite)}) {
    SCOPED_TRACE(sql);
    const std::string plan = Plan(db, sql);
    // Not one visit per ended run, nor a scan of every attempt: the partial index, then each
    // attempt's run by its key.
    EXPECT_THAT(plan, HasSubstr("task_attempts_unended"));
    EXPECT_THAT(plan, HasSubstr("SEARCH runs USING PRIMARY KEY"));
    EXPECT_THAT(plan, Not(HasSubstr("SCAN runs")));
    EXPECT_THAT(plan, Not(HasSubstr("USING COVERING INDEX runs_")));
  }
}

}  // namespace
}  // namespace petit
