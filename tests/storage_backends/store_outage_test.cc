// Real stores that stop answering: a SQLite database another connection keeps locked, and a
// PostgreSQL server stopped and started again mid-run (a dedicated throw-away server, so other
// tests are unaffected; skipped when the PostgreSQL binaries are absent). The store must
// reconnect by itself, and a run must wait for it and end as if nothing had happened.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/fn_runner.h"
#include "petit/core/execute_run.h"
#include "petit/core/store_outage.h"
#include "petit/storage/open.h"
#include "storage_backends/own_postgres_server.h"
#include "storage_backends/test_databases.h"

namespace petit {
namespace {

using ::testing::HasSubstr;

constexpr auto kBrokenAfter = std::chrono::seconds(120);

class Signal {
 public:
  void Set() {
    std::lock_guard lock(mu_);
    set_ = true;
    cv_.notify_all();
  }
  bool Wait() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kBrokenAfter, [this] { return set_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

using testing::FnRunner;

TaskSpec Spec(const std::string& id, const std::string& type, std::vector<std::string> deps = {}) {
  TaskSpec spec;
  spec.id = TaskId(id);
  spec.name = id;
  spec.type = type;
  for (const std::string& dep : deps) spec.depends_on.emplace_back(dep);
  return spec;
}

// a (held until the test releases it, writing output) -> b.
struct HeldJob {
  HeldJob() {
    job.id = JobId("job");
    job.dag.AddTask(Spec("a", "held"));
    job.dag.AddTask(Spec("b", "ok", {"a"}));
    EXPECT_TRUE(job.dag.Validate().ok());
    EXPECT_TRUE(runners
                    .Register("held", std::make_shared<FnRunner>(
                                          [this](const AttemptRequest&, AttemptControl& control) {
                                            started.Set();
                                            release.Wait();
                                            control.AppendOutput(OutputStream::kStdout, "done\n");
                                            return AttemptResult{AttemptOutcome::kSucceeded, 0, ""};
                                          }))
                    .ok());
    EXPECT_TRUE(
        runners
            .Register("ok", std::make_shared<FnRunner>([](const AttemptRequest&, AttemptControl&) {
                        return AttemptResult{AttemptOutcome::kSucceeded, 0, ""};
                      }))
            .ok());
  }

  Job job;
  TaskRunnerRegistry runners;
  Signal started;
  Signal release;
};

// Every attempt of the run is final and succeeded, and the run is recorded succeeded.
void ExpectRecordedSucceeded(StateStore& store, const RunId& run) {
  Result<std::optional<RunRecord>> stored = store.GetRun(run);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->status, RunStatus::kSucceeded) << (*stored)->error;
  Result<std::vector<AttemptRecord>> attempts = store.ListAttempts(run);
  ASSERT_TRUE(attempts.ok()) << attempts.status().ToString();
  std::map<std::string, TaskState> last;
  for (const AttemptRecord& attempt : *attempts) last[attempt.task.str()] = attempt.state;
  EXPECT_EQ(last["a"], TaskState::kSucceeded);
  EXPECT_EQ(last["b"], TaskState::kSucceeded);
  Result<std::vector<LogChunk>> logs = store.ReadLogs(run, LogQuery{});
  ASSERT_TRUE(logs.ok()) << logs.status().ToString();
  ASSERT_EQ(logs->size(), 1u);
  EXPECT_EQ((*logs)[0].data, "done\n");
}

// A StoreHealth whose changes a test can wait for.
struct WatchedHealth {
  Signal down;
  Signal back;
  StoreHealth health{[this](const StoreHealthChange& change) {
    if (change.available) {
      back.Set();
    } else {
      down.Set();
    }
  }};
};

TEST(SqliteStoreOutageTest, ARunWaitsForADatabaseAnotherWriterKeepsLockedAndThenCarriesOn) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/petit.db";
  Result<std::unique_ptr<StateStore>> opened = storage::OpenStateStore("sqlite://" + path);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  StateStore& store = **opened;

  HeldJob held;
  WatchedHealth watched;
  ManualClock clock(1'700'000'000'000'000);
  RunOptions options;
  options.max_parallel_tasks = 2;
  options.clock = &clock;
  options.store_health = &watched.health;
  const RunId run_id = RunId::Generate();
  std::optional<Result<RunRecord>> result;
  std::thread runner(
      [&] { result.emplace(ExecuteRun(held.job, run_id, held.runners, store, options)); });
  ASSERT_TRUE(held.started.Wait());

  // Another writer holds the write lock: a's end waits busy_timeout, then fails as an outage.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  held.release.Set();
  ASSERT_TRUE(watched.down.Wait());
  EXPECT_THAT(watched.health.snapshot().last_error.message(), HasSubstr("locked"));
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  clock.Advance(std::chrono::microseconds(options.store_outage.max_backoff).count());

  runner.join();
  ASSERT_TRUE(result->ok()) << result->status().ToString();
  EXPECT_EQ((*result)->status, RunStatus::kSucceeded);
  EXPECT_TRUE(watched.health.snapshot().available);
  ExpectRecordedSucceeded(store, run_id);
}

class PostgresRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::OwnPostgresServer::Available())
      GTEST_SKIP() << "no PostgreSQL binaries (set PGBIN)";
    std::optional<std::string> uri = server_.Start();
    ASSERT_TRUE(uri.has_value()) << "the test's own PostgreSQL server did not start";
    Result<std::unique_ptr<StateStore>> opened = storage::OpenStateStore(*uri);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }

  testing::OwnPostgresServer server_{PETIT_PG_TEST_SERVER};
  std::unique_ptr<StateStore> store_;
};

TEST_F(PostgresRestartTest, WritesAndReadsReconnectAfterTheServerRestarts) {
  RunRecord run;
  run.id = RunId::Generate();
  run.job = JobId("job");
  run.status = RunStatus::kRunning;
  run.created_us = 1;
  ASSERT_TRUE(store_->CreateRun(run).ok());
  // Every reader connection is used once, so each has a connection to lose.
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(store_->GetRun(run.id).ok());

  ASSERT_TRUE(server_.Stop());
  run.status = RunStatus::kSucceeded;
  run.ended_us = 2;
  Status down = store_->UpdateRun(run);
  EXPECT_EQ(down.code(), StatusCode::kUnavailable) << down.ToString();
  Result<std::optional<RunRecord>> unread = store_->GetRun(run.id);
  EXPECT_EQ(unread.status().code(), StatusCode::kUnavailable) << unread.status().ToString();

  ASSERT_TRUE(server_.Start().has_value());
  Status written = store_->UpdateRun(run);
  ASSERT_TRUE(written.ok()) << written.ToString();
  for (int i = 0; i < 8; ++i) {
    Result<std::optional<RunRecord>> read = store_->GetRun(run.id);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    ASSERT_TRUE(read->has_value());
    EXPECT_EQ((*read)->status, RunStatus::kSucceeded);
  }
}

TEST_F(PostgresRestartTest, ARunOutlivesAServerRestartAndEndsRecordedAsItRan) {
  HeldJob held;
  WatchedHealth watched;
  RunOptions options;
  options.max_parallel_tasks = 2;
  options.store_health = &watched.health;
  options.store_outage.first_backoff = std::chrono::milliseconds(20);
  options.store_outage.max_backoff = std::chrono::milliseconds(200);
  const RunId run_id = RunId::Generate();
  std::optional<Result<RunRecord>> result;
  std::thread runner(
      [&] { result.emplace(ExecuteRun(held.job, run_id, held.runners, *store_, options)); });
  ASSERT_TRUE(held.started.Wait());

  ASSERT_TRUE(server_.Stop());
  held.release.Set();  // a ends, and writes its output, while the server is down
  ASSERT_TRUE(watched.down.Wait());
  ASSERT_TRUE(server_.Start().has_value());
  ASSERT_TRUE(watched.back.Wait());

  runner.join();
  ASSERT_TRUE(result->ok()) << result->status().ToString();
  EXPECT_EQ((*result)->status, RunStatus::kSucceeded);
  ExpectRecordedSucceeded(*store_, run_id);
  EXPECT_EQ(watched.health.snapshot().pending_writes, 0);
}

}  // namespace
}  // namespace petit
