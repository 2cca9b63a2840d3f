// The StateStore conformance suite: every backend runs the same tests (STYLE.md habit 5). A new
// backend is correct when this suite passes against it.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <latch>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "petit/core/state_store.h"
#include "petit/storage/open.h"
#include "storage_backends/test_databases.h"

namespace petit {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

enum class Backend { kMemory, kSqlite, kPostgresql };

std::string BackendName(Backend backend) {
  switch (backend) {
    case Backend::kMemory:
      return "Memory";
    case Backend::kSqlite:
      return "Sqlite";
    case Backend::kPostgresql:
      return "Postgresql";
  }
  return "Unknown";
}

std::string BackendParamName(const ::testing::TestParamInfo<Backend>& info) {
  return BackendName(info.param);
}

// Names the backend in failure messages and test listings instead of its bytes.
void PrintTo(Backend backend, std::ostream* out) { *out << BackendName(backend); }

// A realistic time (2023-11-14T22:13:20.123456Z) with every microsecond digit significant.
constexpr int64_t kT0 = 1'700'000'000'123'456;

RunRecord MakeRun(std::string job, int64_t created_us) {
  RunRecord run;
  run.id = RunId::Generate();
  run.job = JobId(std::move(job));
  run.status = RunStatus::kQueued;
  run.trigger = "manual";
  run.created_us = created_us;
  return run;
}

AttemptRecord MakeAttempt(const RunId& run, std::string task, uint32_t attempt) {
  AttemptRecord record;
  record.run = run;
  record.task = TaskId(std::move(task));
  record.attempt = attempt;
  record.state = TaskState::kQueued;
  record.queued_us = kT0 + 10;
  return record;
}

LogChunk MakeChunk(const RunId& run, std::string task, uint32_t attempt, uint32_t seq,
                   std::string data) {
  LogChunk chunk;
  chunk.run = run;
  chunk.task = TaskId(std::move(task));
  chunk.attempt = attempt;
  chunk.seq = seq;
  chunk.data = std::move(data);
  return chunk;
}

// Host lock owners as the host writes them ("<hostname>/<pid>/<start time>").
constexpr std::string_view kFirstHost = "first-host/1111/2222";
constexpr std::string_view kSecondHost = "second-host/3333/4444";

// A forked child process, killed with SIGKILL and reaped when the test lets go of it, so a failed
// assertion never leaves it behind.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  ~Child() { Kill(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Waits for the child to exit by itself; returns the wait status.
  int Wait() {
    int status = 0;
    if (pid_ > 0) {
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    return status;
  }

  // Returns the wait status.
  int Kill() {
    int status = 0;
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    return status;
  }

 private:
  pid_t pid_;
};

std::vector<std::string> Ids(const std::vector<RunRecord>& runs) {
  std::vector<std::string> ids;
  for (const RunRecord& run : runs) ids.push_back(run.id.str());
  return ids;
}

void ExpectSameRun(const RunRecord& actual, const RunRecord& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.job, expected.job);
  EXPECT_EQ(actual.status, expected.status);
  EXPECT_EQ(actual.trigger, expected.trigger);
  EXPECT_EQ(actual.owner, expected.owner);
  EXPECT_EQ(actual.created_us, expected.created_us);
  EXPECT_EQ(actual.started_us, expected.started_us);
  EXPECT_EQ(actual.ended_us, expected.ended_us);
  EXPECT_EQ(actual.error, expected.error);
}

// ExpectSameRun, and the retry count and time too.
void ExpectSameRunAndRetries(const RunRecord& actual, const RunRecord& expected) {
  ExpectSameRun(actual, expected);
  EXPECT_EQ(actual.retries, expected.retries);
  EXPECT_EQ(actual.retried_us, expected.retried_us);
}

void ExpectSameAttempt(const AttemptRecord& actual, const AttemptRecord& expected) {
  EXPECT_EQ(actual.run, expected.run);
  EXPECT_EQ(actual.task, expected.task);
  EXPECT_EQ(actual.attempt, expected.attempt);
  EXPECT_EQ(actual.state, expected.state);
  EXPECT_EQ(actual.queued_us, expected.queued_us);
  EXPECT_EQ(actual.started_us, expected.started_us);
  EXPECT_EQ(actual.ended_us, expected.ended_us);
  EXPECT_EQ(actual.exit_code, expected.exit_code);
  EXPECT_EQ(actual.error, expected.error);
  EXPECT_EQ(actual.outputs, expected.outputs);
}

class StateStoreConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    switch (GetParam()) {
      case Backend::kMemory:
        uri_ = "memory:";
        break;
      case Backend::kSqlite:
        dir_ = std::make_unique<testing::TempDir>();
        // A missing parent directory, which the store must create.
        uri_ = "sqlite://" + dir_->path() + "/state/petit.db";
        break;
      case Backend::kPostgresql: {
        PETIT_REQUIRE_POSTGRES();
        Result<std::unique_ptr<testing::ScratchPostgresDatabase>> database =
            testing::ScratchPostgresDatabase::Create(*testing::PostgresServerUri());
        ASSERT_TRUE(database.ok()) << database.status().ToString();
        database_ = std::move(database).value();
        uri_ = database_->uri();
        break;
      }
    }
    Reopen();
  }

  void TearDown() override { store_.reset(); }

  // Replaces the store with a new one on the same URI.
  void Reopen() {
    store_.reset();
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  bool persistent() const { return GetParam() != Backend::kMemory; }

  RunRecord CreateRun(std::string job, int64_t created_us) {
    RunRecord run = MakeRun(std::move(job), created_us);
    Status status = store_->CreateRun(run);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return run;
  }

  // Every chunk of `task` (empty = every task) of `run`, in one page.
  std::vector<LogChunk> ReadLogs(const RunId& run, const std::string& task = "") {
    LogQuery query;
    query.task = TaskId(task);
    query.limit = SIZE_MAX;
    Result<std::vector<LogChunk>> chunks = store_->ReadLogs(run, query);
    EXPECT_TRUE(chunks.ok()) << chunks.status().ToString();
    return chunks.ok() ? *chunks : std::vector<LogChunk>{};
  }

  std::vector<LogChunk> ReadPage(const RunId& run, const LogQuery& query) {
    Result<std::vector<LogChunk>> chunks = store_->ReadLogs(run, query);
    EXPECT_TRUE(chunks.ok()) << chunks.status().ToString();
    return chunks.ok() ? *chunks : std::vector<LogChunk>{};
  }

  // Every chunk `query` selects, read in pages of `query.limit`; each page but the last is full.
  std::vector<std::string> ReadAllPages(const RunId& run, LogQuery query) {
    std::vector<std::string> read;
    for (;;) {
      std::vector<LogChunk> page = ReadPage(run, query);
      EXPECT_LE(page.size(), query.limit);
      for (const LogChunk& chunk : page) read.push_back(chunk.data);
      if (page.size() < query.limit) return read;
      const LogChunk& last = page.back();
      query.after = LogQuery::Position{last.task, last.attempt, last.seq};
      if (read.size() > 1000) {
        ADD_FAILURE() << "paging does not end";
        return read;
      }
    }
  }

  RunRecord GetRun(const RunId& id) {
    Result<std::optional<RunRecord>> run = store_->GetRun(id);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    EXPECT_TRUE(run.ok() && run->has_value()) << id.str() << " is missing";
    return run.ok() && run->has_value() ? **run : RunRecord{};
  }

  std::vector<RunRecord> ListIncompleteRuns() {
    Result<std::vector<RunRecord>> runs = store_->ListIncompleteRuns();
    EXPECT_TRUE(runs.ok()) << runs.status().ToString();
    return runs.ok() ? *runs : std::vector<RunRecord>{};
  }

  // The id of LastRun's answer, or "" when it found none.
  std::string LastRunId(const std::string& job, std::vector<RunStatus> statuses,
                        int64_t ended_since_us) {
    Result<std::optional<RunRecord>> run = store_->LastRun(JobId(job), statuses, ended_since_us);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() && run->has_value() ? (*run)->id.str() : "";
  }

  std::vector<AttemptRecord> ListAttempts(const RunId& run) {
    Result<std::vector<AttemptRecord>> attempts = store_->ListAttempts(run);
    EXPECT_TRUE(attempts.ok()) << attempts.status().ToString();
    return attempts.ok() ? *attempts : std::vector<AttemptRecord>{};
  }

  std::string uri_;
  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<testing::ScratchPostgresDatabase> database_;
  std::unique_ptr<StateStore> store_;
};

TEST_P(StateStoreConformanceTest, CreatedRunReadsBackWithEveryField) {
  RunRecord run = MakeRun("etl.daily", kT0);
  run.status = RunStatus::kRunning;
  run.trigger = "schedule";
  run.owner = "build-7.example.org/4242/1234567";
  run.started_us = kT0 + 1;
  run.error = "it's \"quoted\", back\\slashed; DROP TABLE runs; -- é 日本 🚀";
  ASSERT_TRUE(store_->CreateRun(run).ok());

  Result<std::optional<RunRecord>> stored = store_->GetRun(run.id);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_TRUE(stored->has_value());
  ExpectSameRun(**stored, run);
}

TEST_P(StateStoreConformanceTest, UnknownRunReadsAsAbsent) {
  Result<std::optional<RunRecord>> stored = store_->GetRun(RunId::Generate());
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_FALSE(stored->has_value());
}

TEST_P(StateStoreConformanceTest, CreatingAnExistingRunIsAlreadyExistsAndTheStoreStaysUsable) {
  RunRecord run = CreateRun("job", kT0);
  RunRecord again = run;
  again.job = JobId("other");
  Status status = store_->CreateRun(again);
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr(run.id.str()));

  RunRecord next = CreateRun("job", kT0 + 1);
  Result<std::optional<RunRecord>> stored = store_->GetRun(run.id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->job, JobId("job"));
  EXPECT_TRUE(store_->GetRun(next.id)->has_value());
}

TEST_P(StateStoreConformanceTest, UpdateRunReplacesStatusTimesAndErrorOnly) {
  RunRecord run = CreateRun("job", kT0);
  RunRecord update = run;
  update.status = RunStatus::kFailed;
  update.started_us = kT0 + 5;
  update.ended_us = kT0 + 999'999;
  update.error = "task 'load' failed";
  update.job = JobId("ignored");
  update.trigger = "ignored";
  update.owner = "ignored";
  update.created_us = 1;
  ASSERT_TRUE(store_->UpdateRun(update).ok());

  Result<std::optional<RunRecord>> stored = store_->GetRun(run.id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  RunRecord expected = run;
  expected.status = RunStatus::kFailed;
  expected.started_us = kT0 + 5;
  expected.ended_us = kT0 + 999'999;
  expected.error = "task 'load' failed";
  ExpectSameRun(**stored, expected);
}

TEST_P(StateStoreConformanceTest, UpdatingAnUnknownRunIsNotFound) {
  RunRecord run = MakeRun("job", kT0);
  Status status = store_->UpdateRun(run);
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr(run.id.str()));
}

TEST_P(StateStoreConformanceTest, TimesOfZeroMeanNotYetAndReadBackAsZero) {
  RunRecord run = CreateRun("job", 0);
  Result<std::optional<RunRecord>> stored = store_->GetRun(run.id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->created_us, 0);
  EXPECT_EQ((*stored)->started_us, 0);
  EXPECT_EQ((*stored)->ended_us, 0);
}

TEST_P(StateStoreConformanceTest, ListRunsIsNewestFirstAndHonoursTheLimit) {
  // Created out of order; two share a creation time and then sort by id, newest id first.
  RunRecord r2 = CreateRun("a", kT0 + 2);
  RunRecord r0 = CreateRun("b", kT0);
  RunRecord r3 = CreateRun("a", kT0 + 3);
  RunRecord r1 = CreateRun("b", kT0 + 1);
  RunRecord r3_twin = CreateRun("b", kT0 + 3);
  const std::string newest_twin = std::max(r3.id.str(), r3_twin.id.str());
  const std::string older_twin = std::min(r3.id.str(), r3_twin.id.str());

  Result<std::vector<RunRecord>> all = store_->ListRuns(JobId(), 100);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_THAT(Ids(*all),
              ElementsAre(newest_twin, older_twin, r2.id.str(), r1.id.str(), r0.id.str()));

  Result<std::vector<RunRecord>> top = store_->ListRuns(JobId(), 3);
  ASSERT_TRUE(top.ok()) << top.status().ToString();
  EXPECT_THAT(Ids(*top), ElementsAre(newest_twin, older_twin, r2.id.str()));
  ExpectSameRun(top->at(2), r2);
}

TEST_P(StateStoreConformanceTest, ListRunsOfAJobReturnsOnlyThatJob) {
  RunRecord a1 = CreateRun("a", kT0 + 1);
  CreateRun("b", kT0 + 2);
  RunRecord a3 = CreateRun("a", kT0 + 3);
  CreateRun("ab", kT0 + 4);

  Result<std::vector<RunRecord>> runs = store_->ListRuns(JobId("a"), 10);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  EXPECT_THAT(Ids(*runs), ElementsAre(a3.id.str(), a1.id.str()));

  Result<std::vector<RunRecord>> newest = store_->ListRuns(JobId("a"), 1);
  ASSERT_TRUE(newest.ok()) << newest.status().ToString();
  EXPECT_THAT(Ids(*newest), ElementsAre(a3.id.str()));

  Result<std::vector<RunRecord>> none = store_->ListRuns(JobId("missing"), 10);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
}

TEST_P(StateStoreConformanceTest, ListRunsWithLimitZeroIsEmpty) {
  CreateRun("job", kT0);
  Result<std::vector<RunRecord>> runs = store_->ListRuns(JobId(), 0);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  EXPECT_TRUE(runs->empty());
}

TEST_P(StateStoreConformanceTest, SavingAnAttemptReplacesTheRowWithTheSameKey) {
  RunRecord run = CreateRun("job", kT0);
  AttemptRecord attempt = MakeAttempt(run.id, "extract", 1);
  ASSERT_TRUE(store_->SaveAttempts(std::array{attempt}).ok());
  attempt.state = TaskState::kRunning;
  attempt.started_us = kT0 + 20;
  ASSERT_TRUE(store_->SaveAttempts(std::array{attempt}).ok());
  attempt.state = TaskState::kFailed;
  attempt.ended_us = kT0 + 30;
  attempt.exit_code = -9;
  attempt.error = "killed by SIGKILL";
  ASSERT_TRUE(store_->SaveAttempts(std::array{attempt}).ok());
  AttemptRecord retry = MakeAttempt(run.id, "extract", 2);
  ASSERT_TRUE(store_->SaveAttempts(std::array{retry}).ok());

  std::vector<AttemptRecord> attempts = ListAttempts(run.id);
  ASSERT_THAT(attempts, SizeIs(2));
  ExpectSameAttempt(attempts[0], attempt);
  ExpectSameAttempt(attempts[1], retry);
  EXPECT_EQ(attempts[1].exit_code, std::nullopt);
}

TEST_P(StateStoreConformanceTest, ListAttemptsIsOrderedByTaskBytesThenAttempt) {
  RunRecord run = CreateRun("job", kT0);
  RunRecord other = CreateRun("job", kT0 + 1);
  for (const char* task : {"b", "a.x", "B", "a", "_z"}) {
    ASSERT_TRUE(store_->SaveAttempts(std::array{MakeAttempt(run.id, task, 2)}).ok());
    ASSERT_TRUE(store_->SaveAttempts(std::array{MakeAttempt(run.id, task, 1)}).ok());
  }
  ASSERT_TRUE(store_->SaveAttempts(std::array{MakeAttempt(other.id, "a", 1)}).ok());

  std::vector<std::string> order;
  for (const AttemptRecord& attempt : ListAttempts(run.id)) {
    order.push_back(attempt.task.str() + "#" + std::to_string(attempt.attempt));
  }
  EXPECT_THAT(order, ElementsAre("B#1", "B#2", "_z#1", "_z#2", "a#1", "a#2", "a.x#1", "a.x#2",
                                 "b#1", "b#2"));
}

TEST_P(StateStoreConformanceTest, OutputsRoundTripEveryKindOfText) {
  RunRecord run = CreateRun("job", kT0);
  AttemptRecord attempt = MakeAttempt(run.id, "t", 1);
  attempt.state = TaskState::kSucceeded;
  attempt.outputs = {
      {"quotes", "she said \"hi\" and 'bye'"},
      {"backslashes", "C:\\path\\to\\ \\\" \\u0041"},
      {"control", "line1\nline2\r\n\ttab\b\f\x01\x1f\x7f"},
      {"nul", std::string("before\0after", 12)},
      {"unicode", "é 日本語 🚀 \u2028"},
      {"binary", "\xff\xfe\x80 not utf-8 \xc0\xaf"},
      {"looks_like_json", "{\"hex\":\"00\"}"},
      {"empty", ""},
      {"sql", "'); DROP TABLE task_attempts; --"},
      {"clé", "key in unicode"},
  };
  ASSERT_TRUE(store_->SaveAttempts(std::array{attempt}).ok());

  std::vector<AttemptRecord> attempts = ListAttempts(run.id);
  ASSERT_THAT(attempts, SizeIs(1));
  EXPECT_EQ(attempts[0].outputs, attempt.outputs);
}

TEST_P(StateStoreConformanceTest, SavingAnAttemptAgainReplacesItsOutputs) {
  RunRecord run = CreateRun("job", kT0);
  AttemptRecord attempt = MakeAttempt(run.id, "t", 1);
  attempt.outputs = {{"a", "1"}, {"b", "2"}};
  ASSERT_TRUE(store_->SaveAttempts(std::array{attempt}).ok());
  attempt.outputs = {{"b", "3"}};
  ASSERT_TRUE(store_->SaveAttempts(std::array{attempt}).ok());

  std::vector<AttemptRecord> attempts = ListAttempts(run.id);
  ASSERT_THAT(attempts, SizeIs(1));
  EXPECT_EQ(attempts[0].outputs, (ValueMap{{"b", "3"}}));
}

TEST_P(StateStoreConformanceTest, SavingAnAttemptOfAnUnknownRunIsNotFound) {
  const RunId missing = RunId::Generate();
  Status status = store_->SaveAttempts(std::array{MakeAttempt(missing, "t", 1)});
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr(missing.str()));
  EXPECT_TRUE(ListAttempts(missing).empty());
}

TEST_P(StateStoreConformanceTest, SaveAttemptsAppliesTheBatchInOrder) {
  const RunRecord run = CreateRun("job", 1000);
  AttemptRecord a_running = MakeAttempt(run.id, "a", 1);
  a_running.state = TaskState::kRunning;
  AttemptRecord b_running = MakeAttempt(run.id, "b", 1);
  b_running.state = TaskState::kRunning;
  AttemptRecord a_done = MakeAttempt(run.id, "a", 1);
  a_done.state = TaskState::kSucceeded;
  a_done.outputs = {{"k", "v"}};
  const std::vector<AttemptRecord> batch{a_running, b_running, a_done};
  ASSERT_TRUE(store_->SaveAttempts(batch).ok());

  std::vector<AttemptRecord> attempts = ListAttempts(run.id);
  ASSERT_THAT(attempts, SizeIs(2));
  ExpectSameAttempt(attempts[0], a_done);
  ExpectSameAttempt(attempts[1], b_running);
}

// Writes from many threads at once (SQLite commits them in groups): each gets its own answer, a
// failing one undoes only itself, and every acknowledged one is there afterwards.
TEST_P(StateStoreConformanceTest, ConcurrentWritesGetTheirOwnAnswersAndFailuresUndoOnlyThemselves) {
  constexpr int kThreads = 8;
  constexpr int kRunsPerThread = 25;
  std::vector<std::vector<RunId>> created(kThreads);
  std::vector<std::string> failures(kThreads);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto fail = [&](const std::string& what, const Status& status) {
        failures[t] = what + ": " + status.ToString();
      };
      start.arrive_and_wait();
      for (int i = 0; i < kRunsPerThread; ++i) {
        RunRecord run = MakeRun("job" + std::to_string(t), kT0 + i);
        if (Status s = store_->CreateRun(run); !s.ok()) return fail("CreateRun", s);
        created[t].push_back(run.id);
        // Fails as a whole: its good attempt must not be stored.
        const std::vector<AttemptRecord> bad{MakeAttempt(run.id, "bad", 1),
                                             MakeAttempt(RunId::Generate(), "bad", 1)};
        if (Status s = store_->SaveAttempts(bad); s.code() != StatusCode::kNotFound) {
          return fail("SaveAttempts of an unknown run", s);
        }
        if (Status s = store_->CreateRun(run); s.code() != StatusCode::kAlreadyExists) {
          return fail("CreateRun again", s);
        }
        run.status = RunStatus::kRunning;
        run.started_us = kT0 + i + 1;
        if (Status s = store_->UpdateRun(run); !s.ok()) return fail("UpdateRun", s);
        if (Status s = store_->SaveAttempts(std::array{MakeAttempt(run.id, "good", 1)}); !s.ok()) {
          return fail("SaveAttempts", s);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& failure : failures) ASSERT_EQ(failure, "");
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_THAT(created[t], SizeIs(kRunsPerThread));
    for (const RunId& id : created[t]) {
      Result<std::optional<RunRecord>> stored = store_->GetRun(id);
      ASSERT_TRUE(stored.ok()) << stored.status().ToString();
      ASSERT_TRUE(stored->has_value()) << id.str();
      EXPECT_EQ((*stored)->status, RunStatus::kRunning) << id.str();
      EXPECT_EQ((*stored)->job, JobId("job" + std::to_string(t)));
      std::vector<AttemptRecord> attempts = ListAttempts(id);
      ASSERT_THAT(attempts, SizeIs(1)) << id.str();
      EXPECT_EQ(attempts[0].task, TaskId("good"));
    }
  }
}

TEST_P(StateStoreConformanceTest, SaveAttemptsIsAllOrNothing) {
  const RunRecord run = CreateRun("job", 1000);
  const RunId missing = RunId::Generate();
  const std::vector<AttemptRecord> bad_run{MakeAttempt(run.id, "a", 1),
                                           MakeAttempt(missing, "b", 1)};
  Status status = store_->SaveAttempts(bad_run);
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  EXPECT_TRUE(ListAttempts(run.id).empty());

  const std::vector<AttemptRecord> bad_id{MakeAttempt(run.id, "a", 1), MakeAttempt(run.id, "", 1)};
  EXPECT_EQ(store_->SaveAttempts(bad_id).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ListAttempts(run.id).empty());

  // The store is still usable after the rolled-back batch.
  const std::vector<AttemptRecord> good{MakeAttempt(run.id, "a", 1)};
  ASSERT_TRUE(store_->SaveAttempts(good).ok());
  EXPECT_THAT(ListAttempts(run.id), SizeIs(1));
}

TEST_P(StateStoreConformanceTest, SaveAttemptsAndUpdateRunWritesBothOrNeither) {
  RunRecord run = CreateRun("job", kT0);
  AttemptRecord done = MakeAttempt(run.id, "t", 1);
  done.state = TaskState::kSucceeded;
  RunRecord ended = run;
  ended.status = RunStatus::kSucceeded;
  ended.started_us = kT0 + 1;
  ended.ended_us = kT0 + 2;
  ASSERT_TRUE(store_->SaveAttemptsAndUpdateRun(std::array{done}, ended).ok());
  Result<std::optional<RunRecord>> stored = store_->GetRun(run.id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  ExpectSameRun(**stored, ended);
  std::vector<AttemptRecord> attempts = ListAttempts(run.id);
  ASSERT_THAT(attempts, SizeIs(1));
  ExpectSameAttempt(attempts[0], done);

  // The run to update does not exist: the attempts of the other run are not saved either.
  const RunRecord other = CreateRun("job", kT0 + 10);
  const RunRecord unknown = MakeRun("job", kT0 + 20);
  Status status =
      store_->SaveAttemptsAndUpdateRun(std::array{MakeAttempt(other.id, "t", 1)}, unknown);
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr(unknown.id.str()));
  EXPECT_TRUE(ListAttempts(other.id).empty());

  // An attempt of an unknown run: the run keeps its state.
  RunRecord failed = other;
  failed.status = RunStatus::kFailed;
  status =
      store_->SaveAttemptsAndUpdateRun(std::array{MakeAttempt(RunId::Generate(), "t", 1)}, failed);
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  stored = store_->GetRun(other.id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  ExpectSameRun(**stored, other);
}

TEST_P(StateStoreConformanceTest, FreeTextIsStoredAsValidUtf8) {
  RunRecord run = MakeRun("job", kT0);
  run.trigger = std::string("api\0x", 5);
  run.error = "bad \xff byte";
  ASSERT_TRUE(store_->CreateRun(run).ok());
  AttemptRecord attempt = MakeAttempt(run.id, "t", 1);
  attempt.error = std::string("nul\0here \xc3", 10);
  ASSERT_TRUE(store_->SaveAttempts(std::array{attempt}).ok());

  Result<std::optional<RunRecord>> stored = store_->GetRun(run.id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->trigger, "api\uFFFDx");
  EXPECT_EQ((*stored)->error, "bad \uFFFD byte");
  std::vector<AttemptRecord> attempts = ListAttempts(run.id);
  ASSERT_THAT(attempts, SizeIs(1));
  EXPECT_EQ(attempts[0].error, "nul\uFFFDhere \uFFFD");
}

TEST_P(StateStoreConformanceTest, EmptyIdsAreInvalidArguments) {
  RunRecord no_job = MakeRun("", kT0);
  EXPECT_EQ(store_->CreateRun(no_job).code(), StatusCode::kInvalidArgument);
  RunRecord run = CreateRun("job", kT0);
  EXPECT_EQ(store_->SaveAttempts(std::array{MakeAttempt(run.id, "", 1)}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->AppendLog(MakeChunk(run.id, "", 1, 0, "x")).code(),
            StatusCode::kInvalidArgument);
}

TEST_P(StateStoreConformanceTest, LogsReadBackInTaskAttemptSeqOrder) {
  RunRecord run = CreateRun("job", kT0);
  RunRecord other = CreateRun("job", kT0 + 1);
  // Appended interleaved, as concurrent tasks would.
  ASSERT_TRUE(store_->AppendLog(MakeChunk(run.id, "b", 1, 0, "b1-0")).ok());
  ASSERT_TRUE(store_->AppendLog(MakeChunk(run.id, "a", 2, 0, "a2-0")).ok());
  ASSERT_TRUE(store_->AppendLog(MakeChunk(run.id, "a", 1, 0, "a1-0")).ok());
  LogChunk err = MakeChunk(run.id, "a", 1, 1, "a1-1");
  err.stream = OutputStream::kStderr;
  ASSERT_TRUE(store_->AppendLog(err).ok());
  ASSERT_TRUE(store_->AppendLog(MakeChunk(run.id, "b", 1, 1, "b1-1")).ok());
  ASSERT_TRUE(store_->AppendLog(MakeChunk(run.id, "a", 1, 10, "a1-10")).ok());
  ASSERT_TRUE(store_->AppendLog(MakeChunk(run.id, "a", 1, 2, "a1-2")).ok());
  ASSERT_TRUE(store_->AppendLog(MakeChunk(other.id, "a", 1, 0, "other")).ok());

  std::vector<std::string> all;
  for (const LogChunk& chunk : ReadLogs(run.id)) {
    EXPECT_EQ(chunk.run, run.id);
    all.push_back(chunk.data);
  }
  EXPECT_THAT(all, ElementsAre("a1-0", "a1-1", "a1-2", "a1-10", "a2-0", "b1-0", "b1-1"));

  std::vector<LogChunk> only_b = ReadLogs(run.id, "b");
  ASSERT_THAT(only_b, SizeIs(2));
  EXPECT_EQ(only_b[0].data, "b1-0");
  EXPECT_EQ(only_b[1].data, "b1-1");

  std::vector<LogChunk> a = ReadLogs(run.id, "a");
  ASSERT_THAT(a, SizeIs(5));
  EXPECT_EQ(a[1].task, TaskId("a"));
  EXPECT_EQ(a[1].attempt, 1u);
  EXPECT_EQ(a[1].seq, 1u);
  EXPECT_EQ(a[1].stream, OutputStream::kStderr);
  EXPECT_EQ(a[0].stream, OutputStream::kStdout);
}

TEST_P(StateStoreConformanceTest, LogDataKeepsEveryByte) {
  RunRecord run = CreateRun("job", kT0);
  std::string every_byte;
  for (int i = 0; i < 256; ++i) every_byte.push_back(static_cast<char>(i));
  every_byte += every_byte;
  ASSERT_TRUE(store_->AppendLog(MakeChunk(run.id, "t", 1, 0, every_byte)).ok());
  ASSERT_TRUE(store_->AppendLog(MakeChunk(run.id, "t", 1, 1, std::string(1, '\0'))).ok());
  ASSERT_TRUE(store_->AppendLog(MakeChunk(run.id, "t", 1, 2, "")).ok());

  std::vector<LogChunk> chunks = ReadLogs(run.id);
  ASSERT_THAT(chunks, SizeIs(3));
  EXPECT_EQ(chunks[0].data, every_byte);
  EXPECT_EQ(chunks[1].data, std::string(1, '\0'));
  EXPECT_EQ(chunks[2].data, "");
}

TEST_P(StateStoreConformanceTest, LargeLogChunksRoundTrip) {
  RunRecord run = CreateRun("job", kT0);
  constexpr size_t kChunkBytes = 4 << 20;
  std::mt19937 random(42);
  std::string large(kChunkBytes, '\0');
  for (char& c : large) c = static_cast<char>(random());
  ASSERT_TRUE(store_->AppendLog(MakeChunk(run.id, "t", 1, 0, large)).ok());
  ASSERT_TRUE(store_->AppendLog(MakeChunk(run.id, "t", 1, 1, large.substr(7, 65537))).ok());

  std::vector<LogChunk> chunks = ReadLogs(run.id, "t");
  ASSERT_THAT(chunks, SizeIs(2));
  EXPECT_TRUE(chunks[0].data == large) << "4 MiB chunk differs";
  EXPECT_TRUE(chunks[1].data == large.substr(7, 65537)) << "64 KiB chunk differs";
}

TEST_P(StateStoreConformanceTest, AppendingTheSameChunkTwiceIsAlreadyExists) {
  RunRecord run = CreateRun("job", kT0);
  ASSERT_TRUE(store_->AppendLog(MakeChunk(run.id, "t", 1, 0, "first")).ok());
  Status status = store_->AppendLog(MakeChunk(run.id, "t", 1, 0, "second"));
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.ToString();
  std::vector<LogChunk> chunks = ReadLogs(run.id);
  ASSERT_THAT(chunks, SizeIs(1));
  EXPECT_EQ(chunks[0].data, "first");
}

TEST_P(StateStoreConformanceTest, AppendingToAnUnknownRunIsNotFound) {
  const RunId missing = RunId::Generate();
  Status status = store_->AppendLog(MakeChunk(missing, "t", 1, 0, "x"));
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr(missing.str()));
  EXPECT_TRUE(ReadLogs(missing).empty());
}

TEST_P(StateStoreConformanceTest, ConcurrentWritersFromEightThreadsLoseNothing) {
  constexpr int kThreads = 8;
  constexpr int kRunsPerThread = 8;
  constexpr uint32_t kAttemptsPerRun = 2;
  constexpr uint32_t kChunksPerAttempt = 3;
  std::vector<std::vector<RunId>> created(kThreads);
  std::vector<std::string> failures(kThreads);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      auto fail = [&](const Status& status) {
        if (failures[t].empty() && !status.ok()) failures[t] = status.ToString();
        return !status.ok();
      };
      for (int r = 0; r < kRunsPerThread; ++r) {
        RunRecord run = MakeRun("job" + std::to_string(t % 3), kT0 + t * 1000 + r);
        if (fail(store_->CreateRun(run))) return;
        created[t].push_back(run.id);
        for (uint32_t a = 1; a <= kAttemptsPerRun; ++a) {
          AttemptRecord attempt = MakeAttempt(run.id, "task" + std::to_string(a), a);
          attempt.outputs = {{"thread", std::to_string(t)}};
          if (fail(store_->SaveAttempts(std::array{attempt}))) return;
          for (uint32_t s = 0; s < kChunksPerAttempt; ++s) {
            if (fail(store_->AppendLog(MakeChunk(run.id, attempt.task.str(), a, s, "x")))) return;
          }
        }
        run.status = RunStatus::kSucceeded;
        if (fail(store_->UpdateRun(run))) return;
        if (fail(store_->ListRuns(JobId(), 5).status())) return;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& failure : failures) EXPECT_EQ(failure, "");

  Result<std::vector<RunRecord>> runs = store_->ListRuns(JobId(), 1000);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  EXPECT_THAT(*runs, SizeIs(kThreads * kRunsPerThread));
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_THAT(created[t], SizeIs(kRunsPerThread));
    for (const RunId& id : created[t]) {
      Result<std::optional<RunRecord>> run = store_->GetRun(id);
      ASSERT_TRUE(run.ok() && run->has_value());
      EXPECT_EQ((*run)->status, RunStatus::kSucceeded);
      std::vector<AttemptRecord> attempts = ListAttempts(id);
      ASSERT_THAT(attempts, SizeIs(kAttemptsPerRun));
      EXPECT_EQ(attempts[0].outputs.at("thread"), std::to_string(t));
      EXPECT_THAT(ReadLogs(id), SizeIs(kAttemptsPerRun * kChunksPerAttempt));
    }
  }
}

TEST_P(StateStoreConformanceTest, EverythingPersistsAcrossReopen) {
  if (!persistent()) GTEST_SKIP() << "memory: keeps nothing once the store is destroyed";
  RunRecord run = CreateRun("job", kT0);
  run.status = RunStatus::kSucceeded;
  run.ended_us = kT0 + 7;
  ASSERT_TRUE(store_->UpdateRun(run).ok());
  AttemptRecord attempt = MakeAttempt(run.id, "t", 1);
  attempt.state = TaskState::kSucceeded;
  attempt.exit_code = 0;
  attempt.outputs = {{"k", "v"}};
  ASSERT_TRUE(store_->SaveAttempts(std::array{attempt}).ok());
  ASSERT_TRUE(store_->AppendLog(MakeChunk(run.id, "t", 1, 0, "hello\n")).ok());

  Reopen();
  ASSERT_NE(store_, nullptr);
  Result<std::optional<RunRecord>> stored = store_->GetRun(run.id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  ExpectSameRun(**stored, run);
  std::vector<AttemptRecord> attempts = ListAttempts(run.id);
  ASSERT_THAT(attempts, SizeIs(1));
  ExpectSameAttempt(attempts[0], attempt);
  std::vector<LogChunk> chunks = ReadLogs(run.id);
  ASSERT_THAT(chunks, SizeIs(1));
  EXPECT_EQ(chunks[0].data, "hello\n");
}

TEST_P(StateStoreConformanceTest, OwnerRoundTripsAndUpdateRunKeepsIt) {
  RunRecord owned = MakeRun("job", kT0);
  owned.owner = "host-a/123/98765";
  ASSERT_TRUE(store_->CreateRun(owned).ok());
  RunRecord unowned = CreateRun("job", kT0 + 1);

  ExpectSameRun(GetRun(owned.id), owned);
  EXPECT_EQ(GetRun(unowned.id).owner, "");
  Result<std::vector<RunRecord>> listed = store_->ListRuns(JobId("job"), 10);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_THAT(*listed, SizeIs(2));
  EXPECT_EQ(listed->at(1).owner, owned.owner);

  RunRecord update = owned;
  update.status = RunStatus::kRunning;
  update.owner = "host-b/1/1";
  ASSERT_TRUE(store_->UpdateRun(update).ok());
  EXPECT_EQ(GetRun(owned.id).owner, owned.owner);
}

TEST_P(StateStoreConformanceTest, SavedJobReadsBackWithEveryField) {
  JobRecord job;
  job.id = JobId("etl.daily");
  job.paused = true;
  job.last_fire_us = kT0 + 60'000'000;
  job.updated_us = kT0 + 61'000'001;
  ASSERT_TRUE(store_->SaveJob(job).ok());

  Result<std::optional<JobRecord>> stored = store_->GetJob(job.id);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->id, job.id);
  EXPECT_TRUE((*stored)->paused);
  EXPECT_EQ((*stored)->last_fire_us, job.last_fire_us);
  EXPECT_EQ((*stored)->updated_us, job.updated_us);

  Result<std::optional<JobRecord>> missing = store_->GetJob(JobId("etl"));
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_FALSE(missing->has_value());
}

TEST_P(StateStoreConformanceTest, SchedulerRecordIsNotPausedUntilSaved) {
  Result<SchedulerRecord> scheduler = store_->GetScheduler();
  ASSERT_TRUE(scheduler.ok()) << scheduler.status().ToString();
  EXPECT_FALSE(scheduler->paused);
  EXPECT_EQ(scheduler->updated_us, 0);
}

TEST_P(StateStoreConformanceTest, SavedSchedulerRecordReadsBackAndIsReplaced) {
  ASSERT_TRUE(store_->SaveScheduler(SchedulerRecord{.paused = true, .updated_us = kT0 + 1}).ok());
  Result<SchedulerRecord> paused = store_->GetScheduler();
  ASSERT_TRUE(paused.ok()) << paused.status().ToString();
  EXPECT_TRUE(paused->paused);
  EXPECT_EQ(paused->updated_us, kT0 + 1);

  ASSERT_TRUE(store_->SaveScheduler(SchedulerRecord{.paused = false, .updated_us = kT0 + 2}).ok());
  Result<SchedulerRecord> resumed = store_->GetScheduler();
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_FALSE(resumed->paused);
  EXPECT_EQ(resumed->updated_us, kT0 + 2);
}

TEST_P(StateStoreConformanceTest, PausedSchedulerPersistsAcrossReopen) {
  if (!persistent()) GTEST_SKIP() << "memory: keeps nothing once the store is destroyed";
  ASSERT_TRUE(store_->SaveScheduler(SchedulerRecord{.paused = true, .updated_us = kT0}).ok());
  Reopen();
  ASSERT_NE(store_, nullptr);
  Result<SchedulerRecord> scheduler = store_->GetScheduler();
  ASSERT_TRUE(scheduler.ok()) << scheduler.status().ToString();
  EXPECT_TRUE(scheduler->paused);
  EXPECT_EQ(scheduler->updated_us, kT0);
}

TEST_P(StateStoreConformanceTest, SavingAJobAgainReplacesIt) {
  JobRecord job;
  job.id = JobId("j");
  job.paused = true;
  job.last_fire_us = kT0;
  job.updated_us = kT0;
  ASSERT_TRUE(store_->SaveJob(job).ok());
  JobRecord replaced;
  replaced.id = job.id;
  replaced.paused = false;
  replaced.last_fire_us = 0;
  replaced.updated_us = kT0 + 5;
  ASSERT_TRUE(store_->SaveJob(replaced).ok());

  Result<std::vector<JobRecord>> jobs = store_->ListJobs();
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_THAT(*jobs, SizeIs(1));
  EXPECT_EQ(jobs->at(0).id, job.id);
  EXPECT_FALSE(jobs->at(0).paused);
  EXPECT_EQ(jobs->at(0).last_fire_us, 0);
  EXPECT_EQ(jobs->at(0).updated_us, kT0 + 5);
}

TEST_P(StateStoreConformanceTest, ListJobsIsOrderedByIdBytes) {
  for (const char* id : {"b", "a.x", "B", "a", "_z"}) {
    JobRecord job;
    job.id = JobId(id);
    ASSERT_TRUE(store_->SaveJob(job).ok());
  }
  Result<std::vector<JobRecord>> jobs = store_->ListJobs();
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  std::vector<std::string> ids;
  for (const JobRecord& job : *jobs) ids.push_back(job.id.str());
  EXPECT_THAT(ids, ElementsAre("B", "_z", "a", "a.x", "b"));
}

TEST_P(StateStoreConformanceTest, JobWithAnEmptyIdIsAnInvalidArgument) {
  EXPECT_EQ(store_->SaveJob(JobRecord{}).code(), StatusCode::kInvalidArgument);
  Result<std::vector<JobRecord>> jobs = store_->ListJobs();
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_TRUE(jobs->empty());
}

TEST_P(StateStoreConformanceTest, ListIncompleteRunsHoldsQueuedAndRunningRunsOldestFirst) {
  // Created out of order, with every status; two incomplete runs share a creation time and then
  // sort by id.
  auto create = [&](int64_t created_us, RunStatus status) {
    RunRecord run = MakeRun("job" + std::to_string(created_us % 3), created_us);
    run.status = status;
    run.owner = "host/" + std::to_string(created_us);
    if (IsTerminal(status)) run.ended_us = created_us + 100;
    EXPECT_TRUE(store_->CreateRun(run).ok());
    return run;
  };
  RunRecord running_late = create(kT0 + 5, RunStatus::kRunning);
  create(kT0 + 1, RunStatus::kSucceeded);
  RunRecord queued = create(kT0 + 2, RunStatus::kQueued);
  create(kT0 + 3, RunStatus::kFailed);
  RunRecord twin_a = create(kT0 + 4, RunStatus::kRunning);
  RunRecord twin_b = create(kT0 + 4, RunStatus::kQueued);
  create(kT0 + 6, RunStatus::kCancelled);
  create(kT0 + 7, RunStatus::kInterrupted);
  if (twin_b.id < twin_a.id) std::swap(twin_a, twin_b);

  std::vector<RunRecord> incomplete = ListIncompleteRuns();
  EXPECT_THAT(Ids(incomplete), ElementsAre(queued.id.str(), twin_a.id.str(), twin_b.id.str(),
                                           running_late.id.str()));
  ASSERT_THAT(incomplete, SizeIs(4));
  ExpectSameRun(incomplete[0], queued);
  ExpectSameRun(incomplete[3], running_late);
}

TEST_P(StateStoreConformanceTest, ListIncompleteRunsFollowsStatusUpdates) {
  RunRecord run = CreateRun("job", kT0);
  EXPECT_THAT(Ids(ListIncompleteRuns()), ElementsAre(run.id.str()));

  run.status = RunStatus::kRunning;
  run.started_us = kT0 + 1;
  ASSERT_TRUE(store_->UpdateRun(run).ok());
  std::vector<RunRecord> running = ListIncompleteRuns();
  ASSERT_THAT(running, SizeIs(1));
  EXPECT_EQ(running[0].status, RunStatus::kRunning);
  EXPECT_EQ(running[0].started_us, kT0 + 1);

  run.status = RunStatus::kSucceeded;
  run.ended_us = kT0 + 2;
  ASSERT_TRUE(store_->UpdateRun(run).ok());
  EXPECT_TRUE(ListIncompleteRuns().empty());
}

TEST_P(StateStoreConformanceTest, MarkInterruptedFlipsTheRunAndItsUnfinishedAttemptsTogether) {
  RunRecord run = MakeRun("job", kT0);
  run.status = RunStatus::kRunning;
  run.owner = "dead-host/77/1";
  run.started_us = kT0 + 1;
  ASSERT_TRUE(store_->CreateRun(run).ok());
  RunRecord other = CreateRun("job", kT0 + 1);

  AttemptRecord done = MakeAttempt(run.id, "a", 1);
  done.state = TaskState::kSucceeded;
  done.started_us = kT0 + 20;
  done.ended_us = kT0 + 30;
  done.exit_code = 0;
  AttemptRecord failed = MakeAttempt(run.id, "b", 1);
  failed.state = TaskState::kFailed;
  failed.ended_us = kT0 + 31;
  failed.error = "exit 1";
  AttemptRecord retrying = MakeAttempt(run.id, "b", 2);
  retrying.state = TaskState::kRunning;
  retrying.started_us = kT0 + 40;
  AttemptRecord queued = MakeAttempt(run.id, "c", 1);
  AttemptRecord pending = MakeAttempt(run.id, "d", 0);
  pending.state = TaskState::kPending;
  AttemptRecord elsewhere = MakeAttempt(other.id, "a", 1);
  elsewhere.state = TaskState::kRunning;
  const std::vector<AttemptRecord> attempts{done, failed, retrying, queued, pending, elsewhere};
  ASSERT_TRUE(store_->SaveAttempts(attempts).ok());

  const int64_t ended = kT0 + 1'000;
  Status status =
      store_->MarkInterrupted(run.id, "the host process dead-host/77/1 died \xff", ended);
  ASSERT_TRUE(status.ok()) << status.ToString();

  RunRecord expected_run = run;
  expected_run.status = RunStatus::kInterrupted;
  expected_run.ended_us = ended;
  expected_run.error = "the host process dead-host/77/1 died \uFFFD";
  ExpectSameRun(GetRun(run.id), expected_run);

  for (AttemptRecord* unfinished : {&retrying, &queued}) {
    unfinished->state = TaskState::kInterrupted;
    unfinished->ended_us = ended;
    unfinished->error = expected_run.error;
  }
  std::vector<AttemptRecord> stored = ListAttempts(run.id);
  ASSERT_THAT(stored, SizeIs(5));
  ExpectSameAttempt(stored[0], done);
  ExpectSameAttempt(stored[1], failed);
  ExpectSameAttempt(stored[2], retrying);
  ExpectSameAttempt(stored[3], queued);
  ExpectSameAttempt(stored[4], pending);

  std::vector<AttemptRecord> untouched = ListAttempts(other.id);
  ASSERT_THAT(untouched, SizeIs(1));
  ExpectSameAttempt(untouched[0], elsewhere);
  ExpectSameRun(GetRun(other.id), other);
  EXPECT_THAT(Ids(ListIncompleteRuns()), ElementsAre(other.id.str()));
}

TEST_P(StateStoreConformanceTest,
       InterruptStrandedAttemptsRepairsOnlyUnfinishedAttemptsOfEndedRuns) {
  RunRecord ended = MakeRun("job", kT0);
  ended.status = RunStatus::kSucceeded;
  ended.ended_us = kT0 + 500;
  ASSERT_TRUE(store_->CreateRun(ended).ok());
  RunRecord cancelled = MakeRun("job", kT0 + 1);
  cancelled.status = RunStatus::kCancelled;
  cancelled.ended_us = kT0 + 501;
  ASSERT_TRUE(store_->CreateRun(cancelled).ok());
  RunRecord live = CreateRun("job", kT0 + 2);

  AttemptRecord running = MakeAttempt(ended.id, "b", 1);
  running.state = TaskState::kRunning;
  running.started_us = kT0 + 20;
  AttemptRecord done = MakeAttempt(ended.id, "a", 1);
  done.state = TaskState::kSucceeded;
  done.ended_us = kT0 + 30;
  AttemptRecord queued = MakeAttempt(cancelled.id, "c", 2);
  AttemptRecord live_running = MakeAttempt(live.id, "a", 1);
  live_running.state = TaskState::kRunning;
  const std::vector<AttemptRecord> attempts{running, done, queued, live_running};
  ASSERT_TRUE(store_->SaveAttempts(attempts).ok());

  const int64_t repaired_at = kT0 + 2'000;
  Result<std::vector<AttemptKey>> stranded =
      store_->InterruptStrandedAttempts("stranded by a lost store \xff", repaired_at);
  ASSERT_TRUE(stranded.ok()) << stranded.status().ToString();
  ASSERT_THAT(*stranded, SizeIs(2));
  // Ordered by run id: `ended` was generated first.
  std::vector<AttemptKey> expected{{ended.id, TaskId("b"), 1}, {cancelled.id, TaskId("c"), 2}};
  std::sort(expected.begin(), expected.end(),
            [](const AttemptKey& x, const AttemptKey& y) { return x.run < y.run; });
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ((*stranded)[i].run, expected[i].run);
    EXPECT_EQ((*stranded)[i].task, expected[i].task);
    EXPECT_EQ((*stranded)[i].attempt, expected[i].attempt);
  }

  for (AttemptRecord* repaired : {&running, &queued}) {
    repaired->state = TaskState::kInterrupted;
    repaired->ended_us = repaired_at;
    repaired->error = "stranded by a lost store \uFFFD";
  }
  std::vector<AttemptRecord> stored = ListAttempts(ended.id);
  ASSERT_THAT(stored, SizeIs(2));
  ExpectSameAttempt(stored[0], done);
  ExpectSameAttempt(stored[1], running);
  stored = ListAttempts(cancelled.id);
  ASSERT_THAT(stored, SizeIs(1));
  ExpectSameAttempt(stored[0], queued);
  stored = ListAttempts(live.id);
  ASSERT_THAT(stored, SizeIs(1));
  ExpectSameAttempt(stored[0], live_running);

  Result<std::vector<AttemptKey>> again = store_->InterruptStrandedAttempts("again", kT0 + 3'000);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_THAT(*again, SizeIs(0));
}

TEST_P(StateStoreConformanceTest,
       MarkInterruptedOfAnEndedRunIsFailedPreconditionAndChangesNothing) {
  RunRecord run = MakeRun("job", kT0);
  run.status = RunStatus::kSucceeded;
  run.ended_us = kT0 + 5;
  ASSERT_TRUE(store_->CreateRun(run).ok());
  // Inconsistent on purpose: had the run been flipped, this attempt would have been too.
  AttemptRecord attempt = MakeAttempt(run.id, "t", 1);
  attempt.state = TaskState::kRunning;
  ASSERT_TRUE(store_->SaveAttempts(std::array{attempt}).ok());

  Status status = store_->MarkInterrupted(run.id, "late", kT0 + 9);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr(run.id.str()));
  EXPECT_THAT(status.message(), HasSubstr("succeeded"));
  ExpectSameRun(GetRun(run.id), run);
  std::vector<AttemptRecord> attempts = ListAttempts(run.id);
  ASSERT_THAT(attempts, SizeIs(1));
  ExpectSameAttempt(attempts[0], attempt);

  // An interrupted run is terminal too: a second recovery does not overwrite the first.
  RunRecord running = MakeRun("job", kT0 + 1);
  running.status = RunStatus::kRunning;
  ASSERT_TRUE(store_->CreateRun(running).ok());
  ASSERT_TRUE(store_->MarkInterrupted(running.id, "first", kT0 + 10).ok());
  EXPECT_EQ(store_->MarkInterrupted(running.id, "second", kT0 + 20).code(),
            StatusCode::kFailedPrecondition);
  RunRecord stored = GetRun(running.id);
  EXPECT_EQ(stored.error, "first");
  EXPECT_EQ(stored.ended_us, kT0 + 10);
}

TEST_P(StateStoreConformanceTest, MarkInterruptedOfAnUnknownRunIsNotFound) {
  const RunId missing = RunId::Generate();
  Status status = store_->MarkInterrupted(missing, "gone", kT0);
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr(missing.str()));
  EXPECT_FALSE(store_->GetRun(missing)->has_value());
}

TEST_P(StateStoreConformanceTest, ReopenRunMakesAnEndedRunRunningAgainForItsNewOwner) {
  for (const RunStatus ended : {RunStatus::kSucceeded, RunStatus::kFailed, RunStatus::kCancelled,
                                RunStatus::kInterrupted}) {
    SCOPED_TRACE(RunStatusName(ended));
    RunRecord run = MakeRun("etl", kT0);
    run.status = ended;
    run.trigger = "schedule";
    run.owner = "old-host/1/1";
    run.started_us = kT0 + 1;
    run.ended_us = kT0 + 100;
    run.error = "task 'load' failed";
    ASSERT_TRUE(store_->CreateRun(run).ok());
    AttemptRecord kept = MakeAttempt(run.id, "extract", 1);
    kept.state = TaskState::kSucceeded;
    kept.ended_us = kT0 + 50;
    kept.exit_code = 0;
    kept.outputs = {{"rows", "42"}};
    AttemptRecord lost = MakeAttempt(run.id, "load", 2);
    lost.state = TaskState::kFailed;
    lost.ended_us = kT0 + 99;
    lost.error = "exit 1";
    ASSERT_TRUE(store_->SaveAttempts(std::vector<AttemptRecord>{kept, lost}).ok());

    Status status = store_->ReopenRun(run.id, "new-host/2/2", kT0 + 500);
    ASSERT_TRUE(status.ok()) << status.ToString();

    RunRecord expected = run;
    expected.status = RunStatus::kRunning;
    expected.owner = "new-host/2/2";
    expected.ended_us = 0;
    expected.error = "";
    expected.retries = 1;
    expected.retried_us = kT0 + 500;
    ExpectSameRunAndRetries(GetRun(run.id), expected);
    std::vector<AttemptRecord> attempts = ListAttempts(run.id);
    ASSERT_THAT(attempts, SizeIs(2));
    ExpectSameAttempt(attempts[0], kept);
    ExpectSameAttempt(attempts[1], lost);
    EXPECT_THAT(Ids(ListIncompleteRuns()), ElementsAre(run.id.str()));
    // Out of the way of the next status.
    ASSERT_TRUE(store_->MarkInterrupted(run.id, "next", kT0 + 600).ok());
  }
}

TEST_P(StateStoreConformanceTest, ReopeningAgainCountsEveryRetryAndKeepsTheFirstStart) {
  RunRecord run = MakeRun("etl", kT0);
  run.status = RunStatus::kFailed;
  run.started_us = kT0 + 1;
  run.ended_us = kT0 + 2;
  ASSERT_TRUE(store_->CreateRun(run).ok());

  ASSERT_TRUE(store_->ReopenRun(run.id, "host-a/1/1", kT0 + 10).ok());
  RunRecord ended = GetRun(run.id);
  ended.status = RunStatus::kCancelled;
  ended.started_us = kT0 + 1;
  ended.ended_us = kT0 + 20;
  ended.error = "cancelled";
  ASSERT_TRUE(store_->UpdateRun(ended).ok());
  ASSERT_TRUE(store_->ReopenRun(run.id, "host-b/2/2", kT0 + 30).ok());

  RunRecord stored = GetRun(run.id);
  EXPECT_EQ(stored.status, RunStatus::kRunning);
  EXPECT_EQ(stored.owner, "host-b/2/2");
  EXPECT_EQ(stored.created_us, kT0);
  EXPECT_EQ(stored.started_us, kT0 + 1);
  EXPECT_EQ(stored.ended_us, 0);
  EXPECT_EQ(stored.error, "");
  EXPECT_EQ(stored.retries, 2u);
  EXPECT_EQ(stored.retried_us, kT0 + 30);
}

TEST_P(StateStoreConformanceTest, UpdateRunKeepsTheRetryCount) {
  RunRecord run = MakeRun("etl", kT0);
  run.status = RunStatus::kFailed;
  run.ended_us = kT0 + 2;
  ASSERT_TRUE(store_->CreateRun(run).ok());
  ASSERT_TRUE(store_->ReopenRun(run.id, "host/1/1", kT0 + 10).ok());

  RunRecord update = GetRun(run.id);
  update.status = RunStatus::kSucceeded;
  update.ended_us = kT0 + 20;
  update.retries = 7;
  update.retried_us = 1;
  ASSERT_TRUE(store_->UpdateRun(update).ok());

  RunRecord stored = GetRun(run.id);
  EXPECT_EQ(stored.status, RunStatus::kSucceeded);
  EXPECT_EQ(stored.ended_us, kT0 + 20);
  EXPECT_EQ(stored.retries, 1u);
  EXPECT_EQ(stored.retried_us, kT0 + 10);
}

TEST_P(StateStoreConformanceTest,
       ReopeningARunThatHasNotEndedIsFailedPreconditionAndChangesNothing) {
  for (const RunStatus unended : {RunStatus::kQueued, RunStatus::kRunning}) {
    SCOPED_TRACE(RunStatusName(unended));
    RunRecord run = MakeRun("etl", kT0);
    run.status = unended;
    run.owner = "live-host/1/1";
    if (unended == RunStatus::kRunning) run.started_us = kT0 + 1;
    ASSERT_TRUE(store_->CreateRun(run).ok());
    AttemptRecord attempt = MakeAttempt(run.id, "t", 1);
    ASSERT_TRUE(store_->SaveAttempts(std::array{attempt}).ok());

    Status status = store_->ReopenRun(run.id, "other-host/2/2", kT0 + 10);
    EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
    EXPECT_THAT(status.message(), HasSubstr(run.id.str()));
    EXPECT_THAT(status.message(), HasSubstr(RunStatusName(unended)));
    ExpectSameRunAndRetries(GetRun(run.id), run);
    std::vector<AttemptRecord> attempts = ListAttempts(run.id);
    ASSERT_THAT(attempts, SizeIs(1));
    ExpectSameAttempt(attempts[0], attempt);
  }
}

TEST_P(StateStoreConformanceTest, ReopeningAnUnknownRunIsNotFoundAndAnInvalidIdAnInvalidArgument) {
  const RunId missing = RunId::Generate();
  Status status = store_->ReopenRun(missing, "host/1/1", kT0);
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr(missing.str()));
  EXPECT_FALSE(store_->GetRun(missing)->has_value());

  EXPECT_EQ(store_->ReopenRun(RunId(), "host/1/1", kT0).code(), StatusCode::kInvalidArgument);
}

// What keeps two `petit retry` of one run from both starting it.
TEST_P(StateStoreConformanceTest, OfConcurrentReopeningsOfOneRunExactlyOneSucceeds) {
  constexpr int kThreads = 8;
  RunRecord run = MakeRun("etl", kT0);
  run.status = RunStatus::kFailed;
  run.ended_us = kT0 + 1;
  ASSERT_TRUE(store_->CreateRun(run).ok());

  std::vector<Status> results(kThreads);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      results[t] = store_->ReopenRun(run.id, "host/" + std::to_string(t) + "/1", kT0 + 10 + t);
    });
  }
  for (std::thread& thread : threads) thread.join();

  int winner = -1;
  for (int t = 0; t < kThreads; ++t) {
    if (results[t].ok()) {
      EXPECT_EQ(winner, -1) << "threads " << winner << " and " << t << " both reopened the run";
      winner = t;
    } else {
      EXPECT_EQ(results[t].code(), StatusCode::kFailedPrecondition) << results[t].ToString();
    }
  }
  ASSERT_NE(winner, -1);
  RunRecord stored = GetRun(run.id);
  EXPECT_EQ(stored.status, RunStatus::kRunning);
  EXPECT_EQ(stored.owner, "host/" + std::to_string(winner) + "/1");
  EXPECT_EQ(stored.retries, 1u);
  EXPECT_EQ(stored.retried_us, kT0 + 10 + winner);
}

TEST_P(StateStoreConformanceTest, ReopenRunStoresTheOwnerAsValidUtf8) {
  RunRecord run = MakeRun("etl", kT0);
  run.status = RunStatus::kInterrupted;
  ASSERT_TRUE(store_->CreateRun(run).ok());
  ASSERT_TRUE(store_->ReopenRun(run.id, std::string("host\xff/1\0/2", 10), kT0 + 1).ok());
  EXPECT_EQ(GetRun(run.id).owner, "host\uFFFD/1\uFFFD/2");
}

TEST_P(StateStoreConformanceTest, RetriesRoundTripThroughEveryQueryOnRuns) {
  RunRecord never = MakeRun("etl", kT0);
  never.status = RunStatus::kSucceeded;
  never.ended_us = kT0 + 5;
  ASSERT_TRUE(store_->CreateRun(never).ok());
  RunRecord retried = MakeRun("etl", kT0 + 1);
  retried.status = RunStatus::kFailed;
  retried.ended_us = kT0 + 10;
  retried.retries = 3;
  retried.retried_us = kT0 + 8;
  ASSERT_TRUE(store_->CreateRun(retried).ok());
  // Every uint32 count fits.
  RunRecord running = MakeRun("etl", kT0 + 2);
  running.status = RunStatus::kRunning;
  running.retries = std::numeric_limits<uint32_t>::max();
  running.retried_us = kT0 + 9;
  ASSERT_TRUE(store_->CreateRun(running).ok());

  ExpectSameRunAndRetries(GetRun(never.id), never);
  EXPECT_EQ(GetRun(never.id).retries, 0u);
  EXPECT_EQ(GetRun(never.id).retried_us, 0);
  ExpectSameRunAndRetries(GetRun(retried.id), retried);
  ExpectSameRunAndRetries(GetRun(running.id), running);

  Result<std::vector<RunRecord>> listed = store_->ListRuns(JobId("etl"), 10);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_THAT(*listed, SizeIs(3));
  ExpectSameRunAndRetries(listed->at(0), running);
  ExpectSameRunAndRetries(listed->at(1), retried);
  ExpectSameRunAndRetries(listed->at(2), never);

  std::vector<RunRecord> incomplete = ListIncompleteRuns();
  ASSERT_THAT(incomplete, SizeIs(1));
  ExpectSameRunAndRetries(incomplete[0], running);

  Result<std::optional<RunRecord>> last =
      store_->LastRun(JobId("etl"), std::vector<RunStatus>{RunStatus::kFailed}, 0);
  ASSERT_TRUE(last.ok() && last->has_value());
  ExpectSameRunAndRetries(**last, retried);
}

TEST_P(StateStoreConformanceTest, RetriesPersistAcrossReopen) {
  if (!persistent()) GTEST_SKIP() << "memory: keeps nothing once the store is destroyed";
  RunRecord created = MakeRun("etl", kT0);
  created.status = RunStatus::kFailed;
  created.ended_us = kT0 + 3;
  created.retries = 5;
  created.retried_us = kT0 + 2;
  ASSERT_TRUE(store_->CreateRun(created).ok());
  RunRecord reopened = MakeRun("etl", kT0 + 1);
  reopened.status = RunStatus::kInterrupted;
  reopened.started_us = kT0 + 2;
  reopened.ended_us = kT0 + 4;
  reopened.error = "host died";
  ASSERT_TRUE(store_->CreateRun(reopened).ok());
  ASSERT_TRUE(store_->ReopenRun(reopened.id, "host/9/9", kT0 + 40).ok());

  Reopen();
  ASSERT_NE(store_, nullptr);
  ExpectSameRunAndRetries(GetRun(created.id), created);
  RunRecord expected = reopened;
  expected.status = RunStatus::kRunning;
  expected.owner = "host/9/9";
  expected.ended_us = 0;
  expected.error = "";
  expected.retries = 1;
  expected.retried_us = kT0 + 40;
  ExpectSameRunAndRetries(GetRun(reopened.id), expected);
  // A retried run that ends can be reopened again after the restart.
  RunRecord ended = expected;
  ended.status = RunStatus::kSucceeded;
  ended.ended_us = kT0 + 50;
  ASSERT_TRUE(store_->UpdateRun(ended).ok());
  ASSERT_TRUE(store_->ReopenRun(reopened.id, "host/9/9", kT0 + 60).ok());
  EXPECT_EQ(GetRun(reopened.id).retries, 2u);
}

TEST_P(StateStoreConformanceTest, LastRunIsTheNewestByEndTimeAmongTheGivenStatuses) {
  auto ended = [&](const std::string& job, int64_t created_us, RunStatus status, int64_t ended_us) {
    RunRecord run = MakeRun(job, created_us);
    run.status = status;
    run.started_us = created_us;
    run.ended_us = ended_us;
    EXPECT_TRUE(store_->CreateRun(run).ok());
    return run;
  };
  // Creation order differs from end order: the answer goes by end time.
  RunRecord ok_late = ended("etl", kT0 + 1, RunStatus::kSucceeded, kT0 + 300);
  ended("etl", kT0 + 2, RunStatus::kSucceeded, kT0 + 100);
  RunRecord failed = ended("etl", kT0 + 3, RunStatus::kFailed, kT0 + 400);
  ended("etl", kT0 + 4, RunStatus::kCancelled, kT0 + 500);
  ended("etl.other", kT0 + 5, RunStatus::kSucceeded, kT0 + 900);
  ended("et", kT0 + 6, RunStatus::kSucceeded, kT0 + 901);

  EXPECT_EQ(LastRunId("etl", {RunStatus::kSucceeded}, 0), ok_late.id.str());
  EXPECT_EQ(LastRunId("etl", {RunStatus::kSucceeded, RunStatus::kFailed}, 0), failed.id.str());
  EXPECT_EQ(LastRunId("etl", {RunStatus::kInterrupted}, 0), "");
  EXPECT_EQ(LastRunId("etl", {}, 0), "");
  EXPECT_EQ(LastRunId("missing", {RunStatus::kSucceeded}, 0), "");

  Result<std::optional<RunRecord>> full =
      store_->LastRun(JobId("etl"), std::vector<RunStatus>{RunStatus::kSucceeded}, 0);
  ASSERT_TRUE(full.ok() && full->has_value());
  ExpectSameRun(**full, ok_late);
}

TEST_P(StateStoreConformanceTest, LastRunCountsOnlyRunsEndedAtOrAfterTheBound) {
  auto ended = [&](int64_t created_us, int64_t ended_us) {
    RunRecord run = MakeRun("etl", created_us);
    run.status = RunStatus::kSucceeded;
    run.ended_us = ended_us;
    EXPECT_TRUE(store_->CreateRun(run).ok());
    return run;
  };
  RunRecord early = ended(kT0, kT0 + 100);
  RunRecord late = ended(kT0 + 1, kT0 + 300);
  const std::vector<RunStatus> succeeded{RunStatus::kSucceeded};

  EXPECT_EQ(LastRunId("etl", succeeded, kT0 + 300), late.id.str());
  EXPECT_EQ(LastRunId("etl", succeeded, kT0 + 301), "");
  early.ended_us = kT0 + 400;
  ASSERT_TRUE(store_->UpdateRun(early).ok());
  EXPECT_EQ(LastRunId("etl", succeeded, kT0 + 301), early.id.str());
}

TEST_P(StateStoreConformanceTest, LastRunCountsARunNotEndedYetAsEndedAtZero) {
  RunRecord running = MakeRun("etl", kT0);
  running.status = RunStatus::kRunning;
  ASSERT_TRUE(store_->CreateRun(running).ok());

  EXPECT_EQ(LastRunId("etl", {RunStatus::kRunning}, 0), running.id.str());
  EXPECT_EQ(LastRunId("etl", {RunStatus::kRunning}, 1), "");

  RunRecord done = MakeRun("etl", kT0 + 1);
  done.status = RunStatus::kSucceeded;
  done.ended_us = kT0 + 2;
  ASSERT_TRUE(store_->CreateRun(done).ok());
  EXPECT_EQ(LastRunId("etl", {RunStatus::kRunning, RunStatus::kSucceeded}, 0), done.id.str());
}

TEST_P(StateStoreConformanceTest, LogPagesCoverEveryChunkOnceInOrder) {
  RunRecord run = CreateRun("job", kT0);
  RunRecord other = CreateRun("job", kT0 + 1);
  // Appended interleaved across tasks and attempts, seq numbers out of order.
  for (uint32_t seq : {3u, 0u, 2u, 1u}) {
    for (const char* task : {"c", "a", "b"}) {
      for (uint32_t attempt : {2u, 1u}) {
        const std::string data =
            std::string(task) + std::to_string(attempt) + "-" + std::to_string(seq);
        ASSERT_TRUE(store_->AppendLog(MakeChunk(run.id, task, attempt, seq, data)).ok());
      }
    }
  }
  ASSERT_TRUE(store_->AppendLog(MakeChunk(other.id, "a", 1, 0, "other")).ok());
  std::vector<std::string> everything;
  for (const LogChunk& chunk : ReadLogs(run.id)) everything.push_back(chunk.data);
  ASSERT_THAT(everything, SizeIs(24));
  EXPECT_EQ(everything.front(), "a1-0");
  EXPECT_EQ(everything.back(), "c2-3");

  for (size_t limit : {1u, 2u, 5u, 24u, 25u, 1000u}) {
    LogQuery query;
    query.limit = limit;
    EXPECT_EQ(ReadAllPages(run.id, query), everything) << "limit " << limit;
  }

  LogQuery b_only;
  b_only.task = TaskId("b");
  b_only.limit = 3;
  EXPECT_THAT(ReadAllPages(run.id, b_only),
              ElementsAre("b1-0", "b1-1", "b1-2", "b1-3", "b2-0", "b2-1", "b2-2", "b2-3"));
}

TEST_P(StateStoreConformanceTest, LogQueryAttemptFilterKeepsOnlyThatAttempt) {
  RunRecord run = CreateRun("job", kT0);
  for (const char* task : {"b", "a"}) {
    for (uint32_t attempt : {1u, 2u, 3u}) {
      for (uint32_t seq : {0u, 1u}) {
        const std::string data =
            std::string(task) + std::to_string(attempt) + "-" + std::to_string(seq);
        ASSERT_TRUE(store_->AppendLog(MakeChunk(run.id, task, attempt, seq, data)).ok());
      }
    }
  }

  LogQuery second;
  second.attempt = 2;
  second.limit = 1;
  EXPECT_THAT(ReadAllPages(run.id, second), ElementsAre("a2-0", "a2-1", "b2-0", "b2-1"));

  LogQuery second_of_b = second;
  second_of_b.task = TaskId("b");
  second_of_b.limit = 100;
  std::vector<LogChunk> page = ReadPage(run.id, second_of_b);
  ASSERT_THAT(page, SizeIs(2));
  EXPECT_EQ(page[0].task, TaskId("b"));
  EXPECT_EQ(page[0].attempt, 2u);
  EXPECT_EQ(page[0].seq, 0u);
  EXPECT_EQ(page[1].data, "b2-1");

  LogQuery missing_attempt;
  missing_attempt.attempt = 4;
  EXPECT_TRUE(ReadPage(run.id, missing_attempt).empty());
}

TEST_P(StateStoreConformanceTest, LogQueryStartsAfterAPositionEvenOneOfAnotherTask) {
  RunRecord run = CreateRun("job", kT0);
  for (const char* task : {"a", "b", "c"}) {
    for (uint32_t seq : {0u, 1u}) {
      const std::string data = std::string(task) + "-" + std::to_string(seq);
      ASSERT_TRUE(store_->AppendLog(MakeChunk(run.id, task, 1, seq, data)).ok());
    }
  }
  auto data = [](const std::vector<LogChunk>& chunks) {
    std::vector<std::string> out;
    for (const LogChunk& chunk : chunks) out.push_back(chunk.data);
    return out;
  };

  LogQuery query;
  query.after = LogQuery::Position{TaskId("a"), 1, 1};
  EXPECT_THAT(data(ReadPage(run.id, query)), ElementsAre("b-0", "b-1", "c-0", "c-1"));
  // A position between stored chunks (no chunk "bb") works like any other.
  query.after = LogQuery::Position{TaskId("bb"), 0, 0};
  EXPECT_THAT(data(ReadPage(run.id, query)), ElementsAre("c-0", "c-1"));
  // Before the filtered task: the page starts at its first chunk; past it: nothing.
  query.task = TaskId("b");
  query.after = LogQuery::Position{TaskId("a"), 9, 9};
  EXPECT_THAT(data(ReadPage(run.id, query)), ElementsAre("b-0", "b-1"));
  query.after = LogQuery::Position{TaskId("c"), 0, 0};
  EXPECT_TRUE(ReadPage(run.id, query).empty());
}

TEST_P(StateStoreConformanceTest, LogQueryWithLimitZeroOrAnUnknownRunIsEmpty) {
  RunRecord run = CreateRun("job", kT0);
  ASSERT_TRUE(store_->AppendLog(MakeChunk(run.id, "t", 1, 0, "x")).ok());
  LogQuery none;
  none.limit = 0;
  EXPECT_TRUE(ReadPage(run.id, none).empty());
  EXPECT_TRUE(ReadPage(RunId::Generate(), LogQuery{}).empty());
}

TEST_P(StateStoreConformanceTest, JobsOwnersAndInterruptionsPersistAcrossReopen) {
  if (!persistent()) GTEST_SKIP() << "memory: keeps nothing once the store is destroyed";
  JobRecord job;
  job.id = JobId("etl");
  job.paused = true;
  job.last_fire_us = kT0 + 3;
  job.updated_us = kT0 + 4;
  ASSERT_TRUE(store_->SaveJob(job).ok());
  RunRecord interrupted = MakeRun("etl", kT0);
  interrupted.status = RunStatus::kRunning;
  interrupted.owner = "host/1/2";
  ASSERT_TRUE(store_->CreateRun(interrupted).ok());
  AttemptRecord attempt = MakeAttempt(interrupted.id, "t", 1);
  attempt.state = TaskState::kRunning;
  ASSERT_TRUE(store_->SaveAttempts(std::array{attempt}).ok());
  ASSERT_TRUE(store_->MarkInterrupted(interrupted.id, "host died", kT0 + 50).ok());
  RunRecord queued = MakeRun("etl", kT0 + 1);
  queued.owner = "host/3/4";
  ASSERT_TRUE(store_->CreateRun(queued).ok());

  Reopen();
  ASSERT_NE(store_, nullptr);
  Result<std::optional<JobRecord>> stored_job = store_->GetJob(job.id);
  ASSERT_TRUE(stored_job.ok() && stored_job->has_value());
  EXPECT_TRUE((*stored_job)->paused);
  EXPECT_EQ((*stored_job)->last_fire_us, kT0 + 3);
  EXPECT_EQ((*stored_job)->updated_us, kT0 + 4);
  RunRecord stored_run = GetRun(interrupted.id);
  EXPECT_EQ(stored_run.status, RunStatus::kInterrupted);
  EXPECT_EQ(stored_run.owner, "host/1/2");
  EXPECT_EQ(stored_run.ended_us, kT0 + 50);
  std::vector<AttemptRecord> attempts = ListAttempts(interrupted.id);
  ASSERT_THAT(attempts, SizeIs(1));
  EXPECT_EQ(attempts[0].state, TaskState::kInterrupted);
  std::vector<RunRecord> incomplete = ListIncompleteRuns();
  ASSERT_THAT(incomplete, SizeIs(1));
  ExpectSameRun(incomplete[0], queued);
  EXPECT_EQ(LastRunId("etl", {RunStatus::kInterrupted}, kT0 + 50), interrupted.id.str());
}

// The engine saves everything one wake-up decided in one call, often the same attempt more than
// once (queued, then running); the batch must read back as if saved record by record.
TEST_P(StateStoreConformanceTest, ABatchOfAThousandWithRepeatedKeysKeepsTheLastOfEachKey) {
  const std::vector<RunRecord> runs{CreateRun("job", kT0), CreateRun("job", kT0 + 1)};
  std::mt19937 random(20260126);
  std::vector<AttemptRecord> batch;
  // Per run, by (task, attempt): what saving the batch in order leaves.
  std::vector<std::map<std::pair<std::string, uint32_t>, AttemptRecord>> expected(runs.size());
  for (int i = 0; i < 1000; ++i) {
    const size_t run = random() % runs.size();
    AttemptRecord record = MakeAttempt(runs[run].id, "t" + std::to_string(random() % 150),
                                       static_cast<uint32_t>(1 + random() % 2));
    record.state = i % 2 == 0 ? TaskState::kRunning : TaskState::kSucceeded;
    record.queued_us = kT0 + i;
    record.started_us = i % 3 == 0 ? 0 : kT0 + 2 * i;
    record.ended_us = i % 2 == 0 ? 0 : kT0 + 3 * i;
    if (i % 4 != 0) record.exit_code = i - 500;
    record.error = i % 5 == 0 ? "" : "error " + std::to_string(i);
    record.outputs = {{"i", std::to_string(i)}};
    expected[run][{record.task.str(), record.attempt}] = record;
    batch.push_back(std::move(record));
  }
  Status status = store_->SaveAttempts(batch);
  ASSERT_TRUE(status.ok()) << status.ToString();

  for (size_t run = 0; run < runs.size(); ++run) {
    std::vector<AttemptRecord> attempts = ListAttempts(runs[run].id);
    ASSERT_EQ(attempts.size(), expected[run].size());
    size_t i = 0;
    for (const auto& [key, record] : expected[run]) ExpectSameAttempt(attempts[i++], record);
  }
}

// Text that the array or multi-row encodings of a batch could get wrong, across more rows than one
// statement of a backend may hold.
TEST_P(StateStoreConformanceTest, ABatchRoundTripsAwkwardTextAndAbsentExitCodes) {
  const RunRecord run = CreateRun("job", kT0);
  const std::vector<std::string> values{
      "",
      "NULL",
      "{\"a\",\"b\"}",
      "back\\slash \\\" quote\" ,comma {brace} (paren)",
      std::string("nul\0byte", 8),
      "\xff\xfe\x80 not utf-8 \xc0\xaf",
      "é 日本語 🚀",
      "'); DROP TABLE task_attempts; --",
      "$1 :name ? %s",
  };
  std::vector<AttemptRecord> batch;
  for (size_t i = 0; i < 150; ++i) {
    const std::string& value = values[i % values.size()];
    AttemptRecord record = MakeAttempt(run.id, "task-" + std::to_string(i), 1);
    record.state = TaskState::kFailed;
    record.queued_us = i % 2 == 0 ? 0 : kT0 + static_cast<int64_t>(i);
    record.ended_us = kT0 + 1000;
    if (i % 3 != 0) record.exit_code = i % 3 == 1 ? -9 : static_cast<int32_t>(i);
    record.error = i % 7 == 0 ? "" : "failed: \"" + std::to_string(i) + "\" \\ {x,y} NULL";
    record.outputs = {{"value", value}, {"key \"" + std::to_string(i) + "\"", value + "!"}};
    batch.push_back(std::move(record));
  }
  Status status = store_->SaveAttempts(batch);
  ASSERT_TRUE(status.ok()) << status.ToString();

  std::vector<AttemptRecord> attempts = ListAttempts(run.id);
  ASSERT_EQ(attempts.size(), batch.size());
  std::sort(batch.begin(), batch.end(), [](const AttemptRecord& a, const AttemptRecord& b) {
    return a.task.str() < b.task.str();
  });
  for (size_t i = 0; i < batch.size(); ++i) ExpectSameAttempt(attempts[i], batch[i]);
}

TEST_P(StateStoreConformanceTest, ABigBatchWithAnUnknownRunInTheMiddleWritesNothing) {
  const RunRecord run = CreateRun("job", kT0);
  const AttemptRecord before = MakeAttempt(run.id, "t0", 1);
  ASSERT_TRUE(store_->SaveAttempts(std::array{before}).ok());
  const RunId missing = RunId::Generate();
  std::vector<AttemptRecord> batch;
  for (int i = 0; i < 1000; ++i) {
    AttemptRecord record = MakeAttempt(i == 500 ? missing : run.id, "t" + std::to_string(i), 1);
    record.state = TaskState::kSucceeded;
    record.exit_code = 0;
    batch.push_back(std::move(record));
  }
  Status status = store_->SaveAttempts(batch);
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr("cannot save"));
  std::vector<AttemptRecord> attempts = ListAttempts(run.id);
  ASSERT_THAT(attempts, SizeIs(1));
  ExpectSameAttempt(attempts[0], before);
  EXPECT_TRUE(ListAttempts(missing).empty());

  // The store is still usable, and the statements that failed work again.
  batch[500].run = run.id;
  status = store_->SaveAttempts(batch);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_THAT(ListAttempts(run.id), SizeIs(1000));
}

TEST_P(StateStoreConformanceTest, ASecondHostLockIsRefusedAndNamesTheHolder) {
  Result<std::unique_ptr<HostLock>> first = store_->AcquireHostLock(kFirstHost);
  ASSERT_TRUE(first.ok()) << first.status().ToString();

  Result<std::unique_ptr<HostLock>> second = store_->AcquireHostLock(kSecondHost);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition) << second.status().ToString();
  EXPECT_THAT(second.status().message(), HasSubstr("is in use by " + std::string(kFirstHost)));
  EXPECT_THAT(second.status().message(), Not(HasSubstr(kSecondHost)));

  if (!persistent()) return;
  // What a second `petit run` does: its own store on the same database.
  Result<std::unique_ptr<StateStore>> other = storage::OpenStateStore(uri_);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  // The refusal is the one line the caller prints: nothing of the database's own on stderr (a
  // server warning about releasing a lock never taken, for instance).
  ::testing::internal::CaptureStderr();
  {
    Result<std::unique_ptr<HostLock>> third = (*other)->AcquireHostLock(kSecondHost);
    ASSERT_FALSE(third.ok());
    EXPECT_EQ(third.status().code(), StatusCode::kFailedPrecondition) << third.status().ToString();
    EXPECT_THAT(third.status().message(), HasSubstr("is in use by " + std::string(kFirstHost)));
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST_P(StateStoreConformanceTest, AReleasedHostLockCanBeTakenAgainAndNamesTheNewHolder) {
  Result<std::unique_ptr<HostLock>> first = store_->AcquireHostLock(kFirstHost);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  first->reset();

  Result<std::unique_ptr<HostLock>> second = store_->AcquireHostLock(kSecondHost);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  Result<std::unique_ptr<HostLock>> refused = store_->AcquireHostLock(kFirstHost);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("is in use by " + std::string(kSecondHost)));
}

TEST_P(StateStoreConformanceTest, TheHostLockLeavesTheStoreWritableByOthers) {
  Result<std::unique_ptr<HostLock>> lock = store_->AcquireHostLock(kFirstHost);
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  // `petit trigger` beside a daemon: a store that does not hold the lock reads and writes.
  std::unique_ptr<StateStore> other_store;
  StateStore* other = store_.get();
  if (persistent()) {
    Result<std::unique_ptr<StateStore>> opened = storage::OpenStateStore(uri_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    other_store = std::move(opened).value();
    other = other_store.get();
  }
  const RunRecord run = MakeRun("etl", kT0);
  ASSERT_TRUE(other->CreateRun(run).ok());
  ExpectSameRun(GetRun(run.id), run);
}

TEST_P(StateStoreConformanceTest, AnEmptyHostLockOwnerIsAnInvalidArgument) {
  Result<std::unique_ptr<HostLock>> lock = store_->AcquireHostLock("");
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().code(), StatusCode::kInvalidArgument) << lock.status().ToString();
  // It took nothing.
  Result<std::unique_ptr<HostLock>> taken = store_->AcquireHostLock(kFirstHost);
  EXPECT_TRUE(taken.ok()) << taken.status().ToString();
}

TEST_P(StateStoreConformanceTest, TheHostLockOfAProcessKilledWithSigkillIsFreeAtOnce) {
  if (!persistent()) GTEST_SKIP() << "a memory: store lives in one process";
  // Closed before the fork: SQLite's per-process lock bookkeeping must not be shared with the
  // child, which opens the database itself.
  store_.reset();
  int ready[2];
  int hold[2];
  ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(hold, O_CLOEXEC), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child: takes the lock, says whether it did, and holds it until it is killed (or the
    // parent is gone).
    close(ready[0]);
    close(hold[1]);
    char took = 'n';
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri_);
    std::unique_ptr<HostLock> lock;
    if (store.ok()) {
      Result<std::unique_ptr<HostLock>> acquired = (*store)->AcquireHostLock(kFirstHost);
      if (acquired.ok()) {
        lock = std::move(acquired).value();
        took = 'y';
      }
    }
    if (write(ready[1], &took, 1) != 1) _exit(1);
    char never = 0;
    while (read(hold[0], &never, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  Child child(pid);
  close(ready[1]);
  close(hold[0]);
  char took = 0;
  ASSERT_EQ(read(ready[0], &took, 1), 1);
  close(ready[0]);
  ASSERT_EQ(took, 'y') << "the child could not take the host lock";

  Reopen();
  Result<std::unique_ptr<HostLock>> refused = store_->AcquireHostLock(kSecondHost);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("is in use by " + std::string(kFirstHost)));

  const int status = child.Kill();
  close(hold[1]);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  Result<std::unique_ptr<HostLock>> taken = store_->AcquireHostLock(kSecondHost);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
}

// A run of `job` for the schedule occurrence `occurrence_us`, as the scheduler admits one.
RunRecord MakeScheduledRun(std::string job, int64_t occurrence_us) {
  RunRecord run = MakeRun(std::move(job), occurrence_us + 5);
  run.trigger = "schedule";
  run.occurrence_us = occurrence_us;
  return run;
}

TEST_P(StateStoreConformanceTest, AdmitRunCreatesTheRunWhileTheJobIsBelowItsLimit) {
  RunRecord running = CreateRun("etl", kT0);
  running.status = RunStatus::kRunning;
  ASSERT_TRUE(store_->UpdateRun(running).ok());
  RunRecord run = MakeScheduledRun("etl", kT0 + 60'000'000);
  run.owner = std::string(kFirstHost);

  Result<RunAdmission> admission = store_->AdmitRun(run, 2);
  ASSERT_TRUE(admission.ok()) << admission.status().ToString();
  EXPECT_TRUE(admission->admitted()) << admission->Describe();
  EXPECT_EQ(admission->Describe(), "");
  RunRecord stored = GetRun(run.id);
  ExpectSameRun(stored, run);
  EXPECT_EQ(stored.occurrence_us, run.occurrence_us);
  EXPECT_THAT(Ids(ListIncompleteRuns()), ElementsAre(running.id.str(), run.id.str()));
}

TEST_P(StateStoreConformanceTest,
       AdmitRunAtTheLimitIsRefusedNamesTheNewestActiveRunAndCreatesNothing) {
  RunRecord older = CreateRun("etl", kT0);
  RunRecord newer = CreateRun("etl", kT0 + 1);
  newer.status = RunStatus::kRunning;
  ASSERT_TRUE(store_->UpdateRun(newer).ok());
  // Neither an ended run of the job nor an active run of another job counts.
  RunRecord ended = CreateRun("etl", kT0 + 2);
  ended.status = RunStatus::kFailed;
  ASSERT_TRUE(store_->UpdateRun(ended).ok());
  CreateRun("other", kT0 + 3);

  RunRecord run = MakeRun("etl", kT0 + 10);
  Result<RunAdmission> admission = store_->AdmitRun(run, 2);
  ASSERT_TRUE(admission.ok()) << admission.status().ToString();
  EXPECT_EQ(admission->verdict, RunAdmission::Verdict::kAtLimit);
  EXPECT_EQ(admission->active_runs, 2u);
  EXPECT_EQ(admission->max_active_runs, 2u);
  EXPECT_EQ(admission->other, newer.id);
  EXPECT_EQ(admission->Describe(),
            "refused: 2 active runs of max 2 (max_concurrency), newest " + newer.id.str());
  Result<std::optional<RunRecord>> absent = store_->GetRun(run.id);
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());

  // A run that ends frees its slot at once.
  older.status = RunStatus::kSucceeded;
  ASSERT_TRUE(store_->UpdateRun(older).ok());
  admission = store_->AdmitRun(run, 2);
  ASSERT_TRUE(admission.ok()) << admission.status().ToString();
  EXPECT_TRUE(admission->admitted()) << admission->Describe();
  // So does an interrupted one, and a reopened one takes its slot back.
  ASSERT_TRUE(store_->MarkInterrupted(newer.id, "host died", kT0 + 20).ok());
  RunRecord third = MakeRun("etl", kT0 + 30);
  admission = store_->AdmitRun(third, 2);
  ASSERT_TRUE(admission.ok() && admission->admitted());
  ASSERT_TRUE(store_->ReopenRun(ended.id, kFirstHost, kT0 + 40).ok());
  admission = store_->AdmitRun(MakeRun("etl", kT0 + 50), 3);
  ASSERT_TRUE(admission.ok());
  EXPECT_EQ(admission->verdict, RunAdmission::Verdict::kAtLimit);
  EXPECT_EQ(admission->active_runs, 3u);
}

TEST_P(StateStoreConformanceTest, AdmitRunWithNoLimitAdmitsWhateverIsActive) {
  for (int i = 0; i < 5; ++i) CreateRun("etl", kT0 + i);
  Result<RunAdmission> admission = store_->AdmitRun(MakeRun("etl", kT0 + 10), 0);
  ASSERT_TRUE(admission.ok()) << admission.status().ToString();
  EXPECT_TRUE(admission->admitted());
  EXPECT_THAT(ListIncompleteRuns(), SizeIs(6));
}

TEST_P(StateStoreConformanceTest, ASecondRunOfOneOccurrenceIsRefusedEvenAfterTheFirstEnded) {
  RunRecord first = MakeScheduledRun("etl", kT0);
  first.owner = std::string(kFirstHost);
  Result<RunAdmission> admission = store_->AdmitRun(first, 0);
  ASSERT_TRUE(admission.ok() && admission->admitted());
  first.status = RunStatus::kSucceeded;
  ASSERT_TRUE(store_->UpdateRun(first).ok());

  RunRecord second = MakeScheduledRun("etl", kT0);
  second.owner = std::string(kSecondHost);
  admission = store_->AdmitRun(second, 0);
  ASSERT_TRUE(admission.ok()) << admission.status().ToString();
  EXPECT_EQ(admission->verdict, RunAdmission::Verdict::kOccurrenceTaken);
  EXPECT_EQ(admission->other, first.id);
  EXPECT_EQ(admission->other_owner, kFirstHost);
  EXPECT_EQ(admission->Describe(), "refused: occurrence already created by " +
                                       std::string(kFirstHost) + " as run " + first.id.str());
  Result<std::optional<RunRecord>> absent = store_->GetRun(second.id);
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());
  // Refused as taken, not as at the limit, when both hold.
  RunRecord third = MakeScheduledRun("etl", kT0);
  CreateRun("etl", kT0 + 100);
  admission = store_->AdmitRun(third, 1);
  ASSERT_TRUE(admission.ok());
  EXPECT_EQ(admission->verdict, RunAdmission::Verdict::kOccurrenceTaken);

  // Another occurrence of the job, and the same occurrence of another job, are their own.
  admission = store_->AdmitRun(MakeScheduledRun("etl", kT0 + 1), 0);
  ASSERT_TRUE(admission.ok());
  EXPECT_TRUE(admission->admitted()) << admission->Describe();
  admission = store_->AdmitRun(MakeScheduledRun("other", kT0), 0);
  ASSERT_TRUE(admission.ok());
  EXPECT_TRUE(admission->admitted()) << admission->Describe();
}

TEST_P(StateStoreConformanceTest, AManualRunAtTheTimeOfAnOccurrenceIsNotThatOccurrence) {
  Result<RunAdmission> admission = store_->AdmitRun(MakeScheduledRun("etl", kT0), 0);
  ASSERT_TRUE(admission.ok() && admission->admitted());
  for (int i = 0; i < 2; ++i) {
    // Created at the very microsecond of the occurrence, as a manual trigger may be.
    RunRecord manual = MakeRun("etl", kT0);
    admission = store_->AdmitRun(manual, 0);
    ASSERT_TRUE(admission.ok()) << admission.status().ToString();
    EXPECT_TRUE(admission->admitted()) << admission->Describe();
    EXPECT_EQ(GetRun(manual.id).occurrence_us, 0);
  }
  EXPECT_TRUE(store_->CreateRun(MakeRun("etl", kT0)).ok());
}

TEST_P(StateStoreConformanceTest, CreatingASecondRunOfAnOccurrenceIsAlreadyExists) {
  RunRecord first = MakeScheduledRun("etl", kT0);
  ASSERT_TRUE(store_->CreateRun(first).ok());
  Status status = store_->CreateRun(MakeScheduledRun("etl", kT0));
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.ToString();
  EXPECT_TRUE(store_->CreateRun(MakeScheduledRun("etl", kT0 + 1)).ok());
}

TEST_P(StateStoreConformanceTest, AdmittingAnExistingRunIdIsAlreadyExistsAndAnEmptyJobInvalid) {
  RunRecord run = CreateRun("etl", kT0);
  run.status = RunStatus::kSucceeded;
  ASSERT_TRUE(store_->UpdateRun(run).ok());
  Result<RunAdmission> again = store_->AdmitRun(run, 0);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists) << again.status().ToString();
  RunRecord no_job = MakeRun("", kT0);
  Result<RunAdmission> invalid = store_->AdmitRun(no_job, 1);
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().code(), StatusCode::kInvalidArgument);
  // The store stays usable.
  Result<RunAdmission> admission = store_->AdmitRun(MakeRun("etl", kT0 + 1), 1);
  ASSERT_TRUE(admission.ok() && admission->admitted());
}

std::vector<RunAdmission::Verdict> Verdicts(const std::vector<Result<RunAdmission>>& answers) {
  std::vector<RunAdmission::Verdict> verdicts;
  for (const Result<RunAdmission>& answer : answers) {
    EXPECT_TRUE(answer.ok()) << answer.status().ToString();
    verdicts.push_back(answer.ok() ? answer->verdict : RunAdmission::Verdict::kAtLimit);
  }
  return verdicts;
}

TEST_P(StateStoreConformanceTest, AdmitRunsAnswersEachInOrderAndCountsTheBatchItself) {
  RunRecord running = CreateRun("etl", kT0);
  running.status = RunStatus::kRunning;
  ASSERT_TRUE(store_->UpdateRun(running).ok());
  const std::vector<RunToAdmit> batch = {
      {MakeRun("etl", kT0 + 10), 2},           // 1 active of 2: admitted
      {MakeRun("etl", kT0 + 11), 2},           // the one above counts: at the limit
      {MakeScheduledRun("cron", kT0), 0},      // admitted
      {MakeScheduledRun("cron", kT0), 0},      // the one above took the occurrence
      {MakeScheduledRun("cron", kT0 + 1), 1},  // the first cron run holds the one slot
      {MakeRun("other", kT0 + 12), 1},         // another job's slot: admitted
  };
  std::vector<Result<RunAdmission>> answers = store_->AdmitRuns(batch);
  ASSERT_THAT(answers, SizeIs(batch.size()));
  using V = RunAdmission::Verdict;
  EXPECT_THAT(Verdicts(answers), ElementsAre(V::kAdmitted, V::kAtLimit, V::kAdmitted,
                                             V::kOccurrenceTaken, V::kAtLimit, V::kAdmitted));
  ASSERT_TRUE(answers[1].ok() && answers[3].ok());
  EXPECT_EQ(answers[1]->other, batch[0].run.id);
  EXPECT_EQ(answers[1]->max_active_runs, 2u);
  EXPECT_EQ(answers[3]->other, batch[2].run.id);
  for (size_t i : {0, 2, 5}) ExpectSameRun(GetRun(batch[i].run.id), batch[i].run);
  for (size_t i : {1, 3, 4}) {
    Result<std::optional<RunRecord>> absent = store_->GetRun(batch[i].run.id);
    ASSERT_TRUE(absent.ok());
    EXPECT_FALSE(absent->has_value()) << "run " << i << " of the batch was created";
  }
  EXPECT_THAT(store_->AdmitRuns({}), SizeIs(0));
  // A batch of one is AdmitRun.
  answers = store_->AdmitRuns(std::vector<RunToAdmit>{{MakeScheduledRun("cron", kT0), 0}});
  ASSERT_THAT(answers, SizeIs(1));
  ASSERT_TRUE(answers[0].ok());
  EXPECT_EQ(answers[0]->verdict, V::kOccurrenceTaken);
}

TEST_P(StateStoreConformanceTest, AdmitRunsGivesABadRunItsErrorAndAdmitsTheOthers) {
  RunRecord existing = CreateRun("etl", kT0);
  const std::vector<RunToAdmit> batch = {
      {MakeScheduledRun("etl", kT0 + 1'000'000), 0},
      {existing, 0},          // its id exists
      {MakeRun("", kT0), 0},  // no job
      {MakeScheduledRun("etl", kT0 + 2'000'000), 0},
  };
  std::vector<Result<RunAdmission>> answers = store_->AdmitRuns(batch);
  ASSERT_THAT(answers, SizeIs(batch.size()));
  ASSERT_TRUE(answers[0].ok()) << answers[0].status().ToString();
  EXPECT_TRUE(answers[0]->admitted());
  ASSERT_FALSE(answers[1].ok());
  EXPECT_EQ(answers[1].status().code(), StatusCode::kAlreadyExists)
      << answers[1].status().ToString();
  ASSERT_FALSE(answers[2].ok());
  EXPECT_EQ(answers[2].status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(answers[3].ok()) << answers[3].status().ToString();
  EXPECT_TRUE(answers[3]->admitted());
  ExpectSameRun(GetRun(batch[0].run.id), batch[0].run);
  ExpectSameRun(GetRun(batch[3].run.id), batch[3].run);
  EXPECT_THAT(ListIncompleteRuns(), SizeIs(3));
}

JobRecord MakeJobRecord(std::string job, int64_t last_fire_us) {
  return JobRecord{
      .id = JobId(std::move(job)), .last_fire_us = last_fire_us, .updated_us = last_fire_us + 7};
}

// The job's stored last_fire_us; -1 when it has no record.
int64_t StoredLastFire(StateStore& store, const JobId& job) {
  Result<std::optional<JobRecord>> stored = store.GetJob(job);
  EXPECT_TRUE(stored.ok()) << stored.status().ToString();
  if (!stored.ok() || !stored->has_value()) return -1;
  return (*stored)->last_fire_us;
}

TEST_P(StateStoreConformanceTest, AdmitRunsAndSaveJobsAnswersEachRunAndSavesEveryJob) {
  RunRecord running = CreateRun("etl", kT0);
  running.status = RunStatus::kRunning;
  ASSERT_TRUE(store_->UpdateRun(running).ok());
  const std::vector<RunToAdmit> runs = {
      {MakeScheduledRun("cron", kT0), 0},             // admitted
      {MakeScheduledRun("cron", kT0), 0},             // the one above took the occurrence
      {MakeScheduledRun("etl", kT0 + 1'000'000), 1},  // the running etl run holds the one slot
  };
  // A refusal is an answer: the records of refused occurrences are saved all the same, and so is
  // the record of an occurrence with no run at all (refused before admission).
  const std::vector<JobRecord> jobs = {MakeJobRecord("cron", kT0),
                                       MakeJobRecord("etl", kT0 + 1'000'000),
                                       MakeJobRecord("skipped", kT0 + 2'000'000)};
  AdmissionCommit commit = store_->AdmitRunsAndSaveJobs(runs, jobs);
  EXPECT_TRUE(commit.jobs_saved.ok()) << commit.jobs_saved.ToString();
  using V = RunAdmission::Verdict;
  ASSERT_THAT(commit.admissions, SizeIs(runs.size()));
  EXPECT_THAT(Verdicts(commit.admissions),
              ElementsAre(V::kAdmitted, V::kOccurrenceTaken, V::kAtLimit));
  ExpectSameRun(GetRun(runs[0].run.id), runs[0].run);
  for (size_t i : {1, 2}) {
    Result<std::optional<RunRecord>> absent = store_->GetRun(runs[i].run.id);
    ASSERT_TRUE(absent.ok());
    EXPECT_FALSE(absent->has_value()) << "refused run " << i << " was created";
  }
  for (const JobRecord& job : jobs) {
    Result<std::optional<JobRecord>> stored = store_->GetJob(job.id);
    ASSERT_TRUE(stored.ok() && stored->has_value()) << job.id.str();
    EXPECT_EQ((*stored)->last_fire_us, job.last_fire_us);
    EXPECT_EQ((*stored)->updated_us, job.updated_us);
  }
  // Either part may be empty.
  commit = store_->AdmitRunsAndSaveJobs({}, std::vector<JobRecord>{MakeJobRecord("cron", kT0 + 9)});
  EXPECT_TRUE(commit.jobs_saved.ok()) << commit.jobs_saved.ToString();
  EXPECT_THAT(commit.admissions, SizeIs(0));
  EXPECT_EQ(StoredLastFire(*store_, JobId("cron")), kT0 + 9);
  const std::vector<RunToAdmit> alone = {{MakeScheduledRun("cron", kT0 + 60'000'000), 0}};
  commit = store_->AdmitRunsAndSaveJobs(alone, {});
  EXPECT_TRUE(commit.jobs_saved.ok());
  ASSERT_THAT(commit.admissions, SizeIs(1));
  ASSERT_TRUE(commit.admissions[0].ok());
  EXPECT_TRUE(commit.admissions[0]->admitted());
}

TEST_P(StateStoreConformanceTest, AdmitRunsAndSaveJobsGivesBadRunsAndBadJobsTheirOwnErrors) {
  RunRecord existing = CreateRun("etl", kT0);
  std::vector<RunToAdmit> runs = {
      {MakeScheduledRun("etl", kT0 + 1'000'000), 0},
      {existing, 0},          // its id exists: the one transaction fails, the two steps do not
      {MakeRun("", kT0), 0},  // no job
  };
  AdmissionCommit commit =
      store_->AdmitRunsAndSaveJobs(runs, std::vector<JobRecord>{MakeJobRecord("etl", kT0 + 1)});
  EXPECT_TRUE(commit.jobs_saved.ok()) << commit.jobs_saved.ToString();
  EXPECT_EQ(StoredLastFire(*store_, JobId("etl")), kT0 + 1);
  ASSERT_THAT(commit.admissions, SizeIs(runs.size()));
  ASSERT_TRUE(commit.admissions[0].ok()) << commit.admissions[0].status().ToString();
  EXPECT_TRUE(commit.admissions[0]->admitted());
  ExpectSameRun(GetRun(runs[0].run.id), runs[0].run);
  ASSERT_FALSE(commit.admissions[1].ok());
  EXPECT_EQ(commit.admissions[1].status().code(), StatusCode::kAlreadyExists);
  ASSERT_FALSE(commit.admissions[2].ok());
  EXPECT_EQ(commit.admissions[2].status().code(), StatusCode::kInvalidArgument);

  // A job record the store refuses (no id) fails the save (as SaveJobs does); the runs are
  // admitted all the same.
  runs = {{MakeScheduledRun("etl", kT0 + 2'000'000), 0}};
  commit = store_->AdmitRunsAndSaveJobs(
      runs, std::vector<JobRecord>{MakeJobRecord("etl", kT0 + 2), MakeJobRecord("", kT0)});
  EXPECT_EQ(commit.jobs_saved.code(), StatusCode::kInvalidArgument) << commit.jobs_saved.ToString();
  ASSERT_THAT(commit.admissions, SizeIs(1));
  ASSERT_TRUE(commit.admissions[0].ok()) << commit.admissions[0].status().ToString();
  EXPECT_TRUE(commit.admissions[0]->admitted());
}

// Atomicity as another reader sees it: a writer commits ticks, each the run of occurrence i and
// the job record saying i was dealt with; a reader on another connection never sees the record
// of an occurrence without its run, nor a run without its occurrence's record. (Two commits, in
// either order, fail one of the two checks.)
TEST_P(StateStoreConformanceTest, AReaderSeesATicksRunsAndJobRecordsTogether) {
  std::unique_ptr<StateStore> reader_store;
  if (persistent()) {
    Result<std::unique_ptr<StateStore>> opened = storage::OpenStateStore(uri_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    reader_store = std::move(opened).value();
  }
  StateStore& reader = persistent() ? *reader_store : *store_;
  constexpr int kTicks = 150;
  const JobId job("cron");
  std::atomic<bool> done{false};
  // The writer starts once the reader is reading, so their work overlaps however the two threads
  // are scheduled (a fast store could otherwise finish every tick before the first read).
  std::atomic<bool> reading{false};
  std::string failure;
  std::thread writer([&] {
    while (!reading) std::this_thread::yield();
    for (int i = 1; i <= kTicks && failure.empty(); ++i) {
      const int64_t occurrence_us = kT0 + i * 1'000'000LL;
      const std::vector<RunToAdmit> runs = {{MakeScheduledRun("cron", occurrence_us), 0},
                                            {MakeScheduledRun("other", occurrence_us), 0}};
      AdmissionCommit commit = store_->AdmitRunsAndSaveJobs(
          runs, std::vector<JobRecord>{MakeJobRecord("other", occurrence_us),
                                       MakeJobRecord("cron", occurrence_us)});
      if (!commit.jobs_saved.ok()) failure = commit.jobs_saved.ToString();
      for (const Result<RunAdmission>& answer : commit.admissions) {
        if (!answer.ok() || !answer->admitted()) failure = "tick " + std::to_string(i) + " refused";
      }
    }
    done = true;
  });
  // The newest run's occurrence; 0 without runs.
  auto newest_occurrence = [&]() -> int64_t {
    Result<std::vector<RunRecord>> newest = reader.ListRuns(job, 1);
    EXPECT_TRUE(newest.ok()) << newest.status().ToString();
    return newest.ok() && !newest->empty() ? newest->front().occurrence_us : 0;
  };
  int reads = 0;
  bool torn = false;
  while ((!done || reads < 2) && !torn) {
    ++reads;
    reading = true;
    // Record first: the run of what it says was dealt with is there.
    const int64_t recorded = StoredLastFire(reader, job);
    if (recorded > 0 && newest_occurrence() < recorded) {
      ADD_FAILURE() << "the record of occurrence " << recorded << " without its run";
      torn = true;
    }
    // Run first: the record says its occurrence was dealt with.
    const int64_t run = newest_occurrence();
    if (run > 0 && StoredLastFire(reader, job) < run) {
      ADD_FAILURE() << "the run of occurrence " << run << " without its record";
      torn = true;
    }
  }
  writer.join();
  EXPECT_EQ(failure, "");
  EXPECT_EQ(StoredLastFire(reader, job), kT0 + kTicks * 1'000'000LL);
}

TEST_P(StateStoreConformanceTest, SaveJobsSavesEveryJobAndRefusesABadOne) {
  std::vector<JobRecord> jobs(3);
  for (size_t i = 0; i < jobs.size(); ++i) {
    jobs[i].id = JobId("job" + std::to_string(i));
    jobs[i].last_fire_us = kT0 + static_cast<int64_t>(i);
    jobs[i].updated_us = kT0 + 10;
  }
  jobs[1].paused = true;
  ASSERT_TRUE(store_->SaveJobs(jobs).ok());
  jobs[2].last_fire_us = kT0 + 60'000'000;
  ASSERT_TRUE(store_->SaveJobs(jobs).ok());
  for (const JobRecord& job : jobs) {
    Result<std::optional<JobRecord>> stored = store_->GetJob(job.id);
    ASSERT_TRUE(stored.ok() && stored->has_value()) << job.id.str();
    EXPECT_EQ((*stored)->last_fire_us, job.last_fire_us);
    EXPECT_EQ((*stored)->paused, job.paused);
  }
  std::vector<JobRecord> bad = {jobs[0], JobRecord{}};
  EXPECT_EQ(store_->SaveJobs(bad).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->SaveJobs({}).ok());
}

TEST_P(StateStoreConformanceTest, TheOccurrencePersistsAcrossReopenAndStillRefusesARepeat) {
  RunRecord run = MakeScheduledRun("etl", kT0);
  ASSERT_TRUE(store_->AdmitRun(run, 1).ok());
  if (persistent()) Reopen();
  EXPECT_EQ(GetRun(run.id).occurrence_us, kT0);
  Result<std::vector<RunRecord>> listed = store_->ListRuns(JobId("etl"), 10);
  ASSERT_TRUE(listed.ok() && listed->size() == 1);
  EXPECT_EQ(listed->front().occurrence_us, kT0);
  Result<RunAdmission> admission = store_->AdmitRun(MakeScheduledRun("etl", kT0), 0);
  ASSERT_TRUE(admission.ok());
  EXPECT_EQ(admission->verdict, RunAdmission::Verdict::kOccurrenceTaken);
}

TEST_P(StateStoreConformanceTest, AdmitReopenReopensAnEndedRunOnlyWhileItsJobHasAFreeSlot) {
  RunRecord ended = CreateRun("etl", kT0);
  ended.status = RunStatus::kFailed;
  ended.ended_us = kT0 + 5;
  ASSERT_TRUE(store_->UpdateRun(ended).ok());
  RunRecord running = CreateRun("etl", kT0 + 10);
  running.status = RunStatus::kRunning;
  ASSERT_TRUE(store_->UpdateRun(running).ok());

  Result<RunAdmission> refused = store_->AdmitReopen(ended.id, kFirstHost, kT0 + 20, 1);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(refused->verdict, RunAdmission::Verdict::kAtLimit);
  EXPECT_EQ(refused->active_runs, 1u);
  EXPECT_EQ(refused->other, running.id);
  ExpectSameRunAndRetries(GetRun(ended.id), ended);

  Result<RunAdmission> admitted = store_->AdmitReopen(ended.id, kFirstHost, kT0 + 30, 2);
  ASSERT_TRUE(admitted.ok()) << admitted.status().ToString();
  EXPECT_TRUE(admitted->admitted()) << admitted->Describe();
  RunRecord reopened = GetRun(ended.id);
  EXPECT_EQ(reopened.status, RunStatus::kRunning);
  EXPECT_EQ(reopened.owner, kFirstHost);
  EXPECT_EQ(reopened.retries, 1u);
  EXPECT_EQ(reopened.retried_us, kT0 + 30);
  EXPECT_EQ(reopened.ended_us, 0);

  // As ReopenRun: a run that has not ended, or an unknown one, is an error, changing nothing.
  Result<RunAdmission> not_ended = store_->AdmitReopen(running.id, kSecondHost, kT0 + 40, 0);
  ASSERT_FALSE(not_ended.ok());
  EXPECT_EQ(not_ended.status().code(), StatusCode::kFailedPrecondition);
  Result<RunAdmission> unknown = store_->AdmitReopen(RunId::Generate(), kSecondHost, kT0, 0);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
}

TEST_P(StateStoreConformanceTest, TakeOverRunInterruptsTheLostAttemptsAndKeepsTheRunActive) {
  for (const RunStatus active : {RunStatus::kQueued, RunStatus::kRunning}) {
    SCOPED_TRACE(RunStatusName(active));
    RunRecord run = MakeRun("etl", kT0);
    run.status = active;
    run.trigger = "schedule";
    run.owner = "dead-host/77/1";
    run.started_us = active == RunStatus::kRunning ? kT0 + 1 : 0;
    ASSERT_TRUE(store_->CreateRun(run).ok());
    RunRecord other = CreateRun("etl", kT0 + 1);
    AttemptRecord done = MakeAttempt(run.id, "a", 1);
    done.state = TaskState::kSucceeded;
    done.ended_us = kT0 + 30;
    done.exit_code = 0;
    done.outputs = {{"rows", "42"}};
    AttemptRecord running = MakeAttempt(run.id, "b", 1);
    running.state = TaskState::kRunning;
    running.started_us = kT0 + 40;
    AttemptRecord queued = MakeAttempt(run.id, "c", 1);
    AttemptRecord pending = MakeAttempt(run.id, "d", 0);
    pending.state = TaskState::kPending;
    AttemptRecord elsewhere = MakeAttempt(other.id, "b", 1);
    elsewhere.state = TaskState::kRunning;
    ASSERT_TRUE(
        store_->SaveAttempts(std::vector<AttemptRecord>{done, running, queued, pending, elsewhere})
            .ok());

    Result<bool> taken =
        store_->TakeOverRun(run.id, "dead-host/77/1", "new-host/2/2",
                            "the host process dead-host/77/1 died \xff", kT0 + 500);
    ASSERT_TRUE(taken.ok()) << taken.status().ToString();
    EXPECT_TRUE(*taken);
    if (persistent()) Reopen();

    RunRecord expected = run;
    expected.status = RunStatus::kRunning;
    expected.owner = "new-host/2/2";
    expected.retries = 1;
    expected.retried_us = kT0 + 500;
    ExpectSameRunAndRetries(GetRun(run.id), expected);
    for (AttemptRecord* lost : {&running, &queued}) {
      lost->state = TaskState::kInterrupted;
      lost->ended_us = kT0 + 500;
      lost->error = "the host process dead-host/77/1 died \uFFFD";
    }
    std::vector<AttemptRecord> attempts = ListAttempts(run.id);
    ASSERT_THAT(attempts, SizeIs(4));
    ExpectSameAttempt(attempts[0], done);
    ExpectSameAttempt(attempts[1], running);
    ExpectSameAttempt(attempts[2], queued);
    ExpectSameAttempt(attempts[3], pending);
    std::vector<AttemptRecord> others = ListAttempts(other.id);
    ASSERT_THAT(others, SizeIs(1));
    ExpectSameAttempt(others[0], elsewhere);
    // Never ended: it kept its place among the job's active runs, which admission counts.
    EXPECT_THAT(Ids(ListIncompleteRuns()), ElementsAre(run.id.str(), other.id.str()));
    Result<RunAdmission> admission = store_->AdmitRun(MakeRun("etl", kT0 + 600), 2);
    ASSERT_TRUE(admission.ok()) << admission.status().ToString();
    EXPECT_EQ(admission->verdict, RunAdmission::Verdict::kAtLimit);

    // A host that dies after the takeover leaves it to the next one, which counts another retry.
    Result<bool> again =
        store_->TakeOverRun(run.id, "new-host/2/2", "third-host/3/3", "second death", kT0 + 700);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_TRUE(*again);
    RunRecord twice = GetRun(run.id);
    EXPECT_EQ(twice.status, RunStatus::kRunning);
    EXPECT_EQ(twice.owner, "third-host/3/3");
    EXPECT_EQ(twice.retries, 2u);
    EXPECT_EQ(twice.retried_us, kT0 + 700);
    // Attempts that ended already keep their first end.
    EXPECT_EQ(ListAttempts(run.id)[1].ended_us, kT0 + 500);
    // Out of the way of the next status.
    ASSERT_TRUE(store_->MarkInterrupted(run.id, "next", kT0 + 800).ok());
    ASSERT_TRUE(store_->MarkInterrupted(other.id, "next", kT0 + 800).ok());
  }
}

TEST_P(StateStoreConformanceTest, TakeOverRunRefusesARunAnotherOwnerHoldsOrThatEnded) {
  RunRecord held = MakeRun("etl", kT0);
  held.status = RunStatus::kRunning;
  held.owner = "live-host/5/5";
  ASSERT_TRUE(store_->CreateRun(held).ok());
  AttemptRecord attempt = MakeAttempt(held.id, "a", 1);
  attempt.state = TaskState::kRunning;
  ASSERT_TRUE(store_->SaveAttempts(std::vector<AttemptRecord>{attempt}).ok());
  // The dead owner named is not the one that holds it (another host took it over first).
  Result<bool> taken = store_->TakeOverRun(held.id, "dead-host/1/1", "new-host/2/2", "x", kT0 + 9);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_FALSE(*taken);
  ExpectSameRunAndRetries(GetRun(held.id), held);
  std::vector<AttemptRecord> untouched = ListAttempts(held.id);
  ASSERT_THAT(untouched, SizeIs(1));
  ExpectSameAttempt(untouched[0], attempt);

  for (const RunStatus ended : {RunStatus::kSucceeded, RunStatus::kFailed, RunStatus::kCancelled,
                                RunStatus::kInterrupted}) {
    SCOPED_TRACE(RunStatusName(ended));
    RunRecord run = MakeRun("etl", kT0 + 1);
    run.status = ended;
    run.owner = "dead-host/1/1";
    run.ended_us = kT0 + 5;
    run.error = "over";
    ASSERT_TRUE(store_->CreateRun(run).ok());
    AttemptRecord stranded = MakeAttempt(run.id, "a", 1);
    stranded.state = TaskState::kRunning;
    ASSERT_TRUE(store_->SaveAttempts(std::vector<AttemptRecord>{stranded}).ok());
    Result<bool> refused =
        store_->TakeOverRun(run.id, "dead-host/1/1", "new-host/2/2", "x", kT0 + 9);
    ASSERT_TRUE(refused.ok()) << refused.status().ToString();
    EXPECT_FALSE(*refused);
    ExpectSameRunAndRetries(GetRun(run.id), run);
    std::vector<AttemptRecord> kept = ListAttempts(run.id);
    ASSERT_THAT(kept, SizeIs(1));
    ExpectSameAttempt(kept[0], stranded);
  }

  const RunId missing = RunId::Generate();
  Result<bool> unknown = store_->TakeOverRun(missing, "dead-host/1/1", "new-host/2/2", "x", kT0);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(unknown.status().message(), HasSubstr(missing.str()));
  EXPECT_EQ(store_->TakeOverRun(RunId(), "dead-host/1/1", "new-host/2/2", "x", kT0).status().code(),
            StatusCode::kInvalidArgument);
}

// Hosts recovering at once, each through a store of its own: exactly one takes the run over.
TEST_P(StateStoreConformanceTest, OfConcurrentTakeoversOfARunExactlyOneSucceeds) {
  constexpr int kThreads = 6;
  RunRecord run = MakeRun("etl", kT0);
  run.status = RunStatus::kRunning;
  run.owner = "dead-host/1/1";
  ASSERT_TRUE(store_->CreateRun(run).ok());
  std::vector<std::unique_ptr<StateStore>> stores;
  for (int t = 0; t < kThreads && persistent(); ++t) {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    stores.push_back(std::move(store).value());
  }
  std::vector<int> taken(kThreads, 0);
  std::vector<std::string> failures(kThreads);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      StateStore& store = persistent() ? *stores[t] : *store_;
      start.arrive_and_wait();
      Result<bool> took = store.TakeOverRun(run.id, "dead-host/1/1",
                                            "host/" + std::to_string(t) + "/1", "died", kT0 + 10);
      if (!took.ok()) {
        failures[t] = took.status().ToString();
        return;
      }
      taken[t] = *took ? 1 : 0;
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& failure : failures) EXPECT_EQ(failure, "");
  ASSERT_EQ(std::count(taken.begin(), taken.end(), 1), 1);
  const int winner = static_cast<int>(std::find(taken.begin(), taken.end(), 1) - taken.begin());
  RunRecord stored = GetRun(run.id);
  EXPECT_EQ(stored.owner, "host/" + std::to_string(winner) + "/1");
  EXPECT_EQ(stored.retries, 1u);
}

TEST_P(StateStoreConformanceTest, OfConcurrentReopeningsOfAJobAtMaxOneExactlyOneIsAdmitted) {
  constexpr int kThreads = 6;
  std::vector<RunId> runs;
  for (int i = 0; i < kThreads; ++i) {
    RunRecord run = CreateRun("etl", kT0 + i);
    run.status = RunStatus::kFailed;
    ASSERT_TRUE(store_->UpdateRun(run).ok());
    runs.push_back(run.id);
  }
  std::vector<std::unique_ptr<StateStore>> stores;
  for (int t = 0; t < kThreads && persistent(); ++t) {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    stores.push_back(std::move(store).value());
  }
  std::vector<int> admitted(kThreads, 0);
  std::vector<std::string> failures(kThreads);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      StateStore& store = persistent() ? *stores[t] : *store_;
      start.arrive_and_wait();
      Result<RunAdmission> admission = store.AdmitReopen(runs[t], kFirstHost, kT0 + 100, 1);
      if (!admission.ok()) {
        failures[t] = admission.status().ToString();
        return;
      }
      admitted[t] = admission->admitted() ? 1 : 0;
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& failure : failures) EXPECT_EQ(failure, "");
  EXPECT_EQ(std::count(admitted.begin(), admitted.end(), 1), 1);
  EXPECT_THAT(ListIncompleteRuns(), SizeIs(1));
}

// Admissions from eight threads at once, each through a store of its own on the same database (as
// separate processes would be; one shared store for memory:), rounds of them: each round admits
// exactly max_active_runs while no run ends, then ends them all. Every thread also tries the same
// schedule occurrence per round, which exactly one creates.
TEST_P(StateStoreConformanceTest, ConcurrentAdmissionsNeverExceedTheLimitNorRepeatAnOccurrence) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 6;
  constexpr int kTriesPerRound = 3;
  constexpr uint32_t kMax = 2;
  std::vector<std::unique_ptr<StateStore>> stores;
  for (int t = 0; t < kThreads && persistent(); ++t) {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    stores.push_back(std::move(store).value());
  }
  auto store_of = [&](int t) -> StateStore& { return persistent() ? *stores[t] : *store_; };
  for (int round = 0; round < kRounds; ++round) {
    const int64_t occurrence_us = kT0 + round * 60'000'000LL;
    std::vector<std::vector<RunId>> admitted(kThreads);
    std::vector<int> occurrence_runs(kThreads, 0);
    std::vector<std::string> failures(kThreads);
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        StateStore& store = store_of(t);
        start.arrive_and_wait();
        for (int i = 0; i < kTriesPerRound; ++i) {
          RunRecord run = MakeRun("busy", occurrence_us + t * 10 + i);
          Result<RunAdmission> admission = store.AdmitRun(run, kMax);
          if (!admission.ok()) {
            failures[t] = admission.status().ToString();
            return;
          }
          if (admission->admitted()) admitted[t].push_back(run.id);
          Result<RunAdmission> scheduled =
              store.AdmitRun(MakeScheduledRun("cron", occurrence_us), 0);
          if (!scheduled.ok()) {
            failures[t] = scheduled.status().ToString();
            return;
          }
          if (scheduled->admitted()) ++occurrence_runs[t];
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    for (const std::string& failure : failures) ASSERT_EQ(failure, "");
    size_t total = 0;
    int occurrences = 0;
    for (int t = 0; t < kThreads; ++t) {
      total += admitted[t].size();
      occurrences += occurrence_runs[t];
    }
    ASSERT_EQ(total, kMax) << "round " << round;
    ASSERT_EQ(occurrences, 1) << "round " << round;
    for (const std::vector<RunId>& ids : admitted) {
      for (const RunId& id : ids) {
        RunRecord ended = GetRun(id);
        ended.status = RunStatus::kSucceeded;
        ASSERT_TRUE(store_->UpdateRun(ended).ok());
      }
    }
  }
  Result<std::vector<RunRecord>> runs = store_->ListRuns(JobId("busy"), 1000);
  ASSERT_TRUE(runs.ok());
  EXPECT_THAT(*runs, SizeIs(kRounds * kMax));
}

// ConcurrentAdmissions..., with batches: each thread admits [busy, cron occurrence] or the reverse
// order (on PostgreSQL, batches lock jobs in one order whatever theirs, so none deadlocks).
TEST_P(StateStoreConformanceTest, ConcurrentBatchesNeverExceedTheLimitNorRepeatAnOccurrence) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 4;
  constexpr int kTriesPerRound = 3;
  constexpr uint32_t kMax = 2;
  std::vector<std::unique_ptr<StateStore>> stores;
  for (int t = 0; t < kThreads && persistent(); ++t) {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    stores.push_back(std::move(store).value());
  }
  auto store_of = [&](int t) -> StateStore& { return persistent() ? *stores[t] : *store_; };
  for (int round = 0; round < kRounds; ++round) {
    const int64_t occurrence_us = kT0 + round * 60'000'000LL;
    std::vector<std::vector<RunId>> admitted(kThreads);
    std::vector<int> occurrence_runs(kThreads, 0);
    std::vector<std::string> failures(kThreads);
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        StateStore& store = store_of(t);
        start.arrive_and_wait();
        for (int i = 0; i < kTriesPerRound; ++i) {
          std::vector<RunToAdmit> batch = {{MakeRun("busy", occurrence_us + t * 10 + i), kMax},
                                           {MakeScheduledRun("cron", occurrence_us), 0}};
          if (t % 2 == 1) std::swap(batch[0], batch[1]);
          std::vector<Result<RunAdmission>> answers = store.AdmitRuns(batch);
          for (size_t b = 0; b < batch.size(); ++b) {
            if (!answers[b].ok()) {
              failures[t] = answers[b].status().ToString();
              return;
            }
            if (!answers[b]->admitted()) continue;
            if (batch[b].run.occurrence_us != 0) {
              ++occurrence_runs[t];
            } else {
              admitted[t].push_back(batch[b].run.id);
            }
          }
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    for (const std::string& failure : failures) ASSERT_EQ(failure, "");
    size_t total = 0;
    int occurrences = 0;
    for (int t = 0; t < kThreads; ++t) {
      total += admitted[t].size();
      occurrences += occurrence_runs[t];
    }
    ASSERT_EQ(total, kMax) << "round " << round;
    ASSERT_EQ(occurrences, 1) << "round " << round;
    for (const std::vector<RunId>& ids : admitted) {
      for (const RunId& id : ids) {
        RunRecord ended = GetRun(id);
        ended.status = RunStatus::kSucceeded;
        ASSERT_TRUE(store_->UpdateRun(ended).ok());
      }
    }
  }
}

// Several hosts (stores on one database) commit the same ticks at once, their runs and job records
// in opposite orders: each occurrence gets one run, every answer is an answer (no deadlock, no
// error: PostgreSQL locks jobs, and their rows, in id order whatever the batch's order), and the
// records are saved.
TEST_P(StateStoreConformanceTest, HostsCommittingTheSameTicksAdmitEachOccurrenceOnce) {
  constexpr int kHosts = 4;
  constexpr int kRounds = 4;
  constexpr int kJobs = 6;
  std::vector<std::unique_ptr<StateStore>> stores;
  for (int t = 0; t < kHosts && persistent(); ++t) {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    stores.push_back(std::move(store).value());
  }
  auto store_of = [&](int t) -> StateStore& { return persistent() ? *stores[t] : *store_; };
  for (int round = 0; round < kRounds; ++round) {
    const int64_t occurrence_us = kT0 + round * 60'000'000LL;
    std::vector<std::map<std::string, int>> admitted(kHosts);
    std::vector<std::string> failures(kHosts);
    std::latch start(kHosts);
    std::vector<std::thread> threads;
    for (int t = 0; t < kHosts; ++t) {
      threads.emplace_back([&, t] {
        std::vector<RunToAdmit> runs;
        std::vector<JobRecord> jobs;
        for (int j = 0; j < kJobs; ++j) {
          const std::string name = "job" + std::to_string(j);
          runs.push_back({MakeScheduledRun(name, occurrence_us), 1});
          jobs.push_back(MakeJobRecord(name, occurrence_us));
        }
        if (t % 2 == 1) {
          std::reverse(runs.begin(), runs.end());
          std::reverse(jobs.begin(), jobs.end());
        }
        start.arrive_and_wait();
        AdmissionCommit commit = store_of(t).AdmitRunsAndSaveJobs(runs, jobs);
        if (!commit.jobs_saved.ok()) failures[t] = commit.jobs_saved.ToString();
        for (size_t r = 0; r < runs.size(); ++r) {
          const Result<RunAdmission>& answer = commit.admissions[r];
          if (!answer.ok()) {
            failures[t] = answer.status().ToString();
            continue;
          }
          if (answer->admitted()) {
            ++admitted[t][runs[r].run.job.str()];
          } else if (answer->verdict != RunAdmission::Verdict::kOccurrenceTaken) {
            failures[t] = "refused other than for the occurrence: " + answer->Describe();
          }
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    for (const std::string& failure : failures) ASSERT_EQ(failure, "");
    for (int j = 0; j < kJobs; ++j) {
      const std::string name = "job" + std::to_string(j);
      int runs = 0;
      for (const auto& host : admitted) runs += host.contains(name) ? host.at(name) : 0;
      ASSERT_EQ(runs, 1) << name << ", round " << round;
      EXPECT_EQ(StoredLastFire(*store_, JobId(name)), occurrence_us);
      // The run ends, so the next round's occurrence has a free slot.
      Result<std::vector<RunRecord>> latest = store_->ListRuns(JobId(name), 1);
      ASSERT_TRUE(latest.ok() && latest->size() == 1);
      RunRecord ended = latest->front();
      ended.status = RunStatus::kSucceeded;
      ASSERT_TRUE(store_->UpdateRun(ended).ok());
    }
  }
}

// The same across processes: children released at once through a pipe each try a few admissions
// and exit with how many they got.
TEST_P(StateStoreConformanceTest, AdmissionsFromSeveralProcessesAtOnceNeverExceedTheLimit) {
  if (!persistent()) GTEST_SKIP() << "a memory: store lives in one process";
  constexpr int kProcesses = 6;
  constexpr int kTries = 4;
  constexpr uint32_t kMax = 3;
  constexpr int kChildFailed = 100;
  // Migrated before the children race to open it; closed before the fork (SQLite's per-process
  // lock bookkeeping must not be shared with a child).
  store_.reset();
  int go[2];
  ASSERT_EQ(pipe2(go, O_CLOEXEC), 0);
  // Made here: a forked child inherits the id generator's state, so children would repeat ids.
  std::vector<std::vector<std::pair<RunRecord, RunRecord>>> planned(kProcesses);
  for (int p = 0; p < kProcesses; ++p) {
    for (int i = 0; i < kTries; ++i) {
      planned[p].emplace_back(MakeRun("busy", kT0 + p * 10 + i), MakeScheduledRun("cron", kT0));
    }
  }
  std::vector<std::unique_ptr<Child>> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(go[1]);
      // A child's failure is said on stderr, which the test's output shows.
      auto fail = [](const Status& status) {
        const std::string line = "child: " + status.ToString() + "\n";
        (void)!write(STDERR_FILENO, line.data(), line.size());
        _exit(kChildFailed);
      };
      Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri_);
      if (!store.ok()) fail(store.status());
      char never = 0;
      while (read(go[0], &never, 1) < 0 && errno == EINTR) {
      }
      int admitted = 0;
      for (const auto& [run, scheduled_run] : planned[p]) {
        Result<RunAdmission> admission = (*store)->AdmitRun(run, kMax);
        if (!admission.ok()) fail(admission.status());
        if (admission->admitted()) ++admitted;
        Result<RunAdmission> scheduled = (*store)->AdmitRun(scheduled_run, 0);
        if (!scheduled.ok()) fail(scheduled.status());
        if (scheduled->admitted()) admitted += 10;
      }
      _exit(admitted);
    }
    children.push_back(std::make_unique<Child>(pid));
  }
  // Closing the write end releases every child at once (their reads return 0).
  close(go[1]);
  close(go[0]);
  int runs = 0;
  int occurrences = 0;
  for (auto& child : children) {
    const int status = child->Wait();
    ASSERT_TRUE(WIFEXITED(status)) << status;
    ASSERT_NE(WEXITSTATUS(status), kChildFailed);
    runs += WEXITSTATUS(status) % 10;
    occurrences += WEXITSTATUS(status) / 10;
  }
  EXPECT_EQ(runs, static_cast<int>(kMax));
  EXPECT_EQ(occurrences, 1);
  Reopen();
  EXPECT_THAT(ListIncompleteRuns(), SizeIs(kMax + 1));
}

// QueryRuns: what a brute-force filter over `runs` (every run created) answers, newest first.
std::vector<std::string> ExpectedQuery(std::vector<RunRecord> runs, const RunQuery& query) {
  std::sort(runs.begin(), runs.end(), [](const RunRecord& a, const RunRecord& b) {
    return std::tie(a.created_us, a.id) > std::tie(b.created_us, b.id);
  });
  std::vector<std::string> ids;
  for (const RunRecord& run : runs) {
    if (!query.job.empty() && run.job != query.job) continue;
    if (!query.statuses.empty() && std::find(query.statuses.begin(), query.statuses.end(),
                                             run.status) == query.statuses.end()) {
      continue;
    }
    if (query.since_us.has_value() && run.created_us < *query.since_us) continue;
    if (query.until_us.has_value() && run.created_us >= *query.until_us) continue;
    if (query.after.has_value() &&
        std::tie(run.created_us, run.id) >= std::tie(query.after->created_us, query.after->id)) {
      continue;
    }
    ids.push_back(run.id.str());
  }
  return ids;
}

// Runs of jobs "a", "b" and "ab" in every status, at 40 creation times with several runs sharing
// some of them (so the id decides their order).
std::vector<RunRecord> CreateQueryFixture(StateStore& store) {
  const std::array<RunStatus, 6> statuses = {RunStatus::kQueued,    RunStatus::kRunning,
                                             RunStatus::kSucceeded, RunStatus::kFailed,
                                             RunStatus::kCancelled, RunStatus::kInterrupted};
  const std::array<std::string, 3> jobs = {"a", "b", "ab"};
  std::vector<RunRecord> runs;
  for (int i = 0; i < 60; ++i) {
    RunRecord run = MakeRun(jobs[i % 3], kT0 + (i % 40) * 1000);
    run.status = statuses[(i * 7 / 3) % statuses.size()];
    if (IsTerminal(run.status)) run.ended_us = run.created_us + 10;
    Status created = store.CreateRun(run);
    EXPECT_TRUE(created.ok()) << created.ToString();
    runs.push_back(run);
  }
  return runs;
}

// Every page of `query` (its limit the page size), following next until it is absent.
std::vector<std::string> QueryAllPages(StateStore& store, RunQuery query, size_t* pages = nullptr) {
  std::vector<std::string> ids;
  for (size_t page_count = 1;; ++page_count) {
    Result<RunPage> page = store.QueryRuns(query);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) return ids;
    EXPECT_LE(page->runs.size(), query.limit);
    for (const RunRecord& run : page->runs) ids.push_back(run.id.str());
    if (!page->next.has_value()) {
      if (pages != nullptr) *pages = page_count;
      return ids;
    }
    // A page with a next is full, and next is its last run.
    EXPECT_EQ(page->runs.size(), query.limit);
    EXPECT_EQ(page->next->id, page->runs.back().id);
    EXPECT_EQ(page->next->created_us, page->runs.back().created_us);
    // The cursor goes through its text form, as it does through the API.
    Result<RunCursor> decoded = DecodeRunCursor(EncodeRunCursor(*page->next));
    EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
    if (!decoded.ok()) return ids;
    query.after = *decoded;
    if (page_count > 1000) {
      ADD_FAILURE() << "paging does not end";
      return ids;
    }
  }
}

// The filters QueryRuns takes, combined: jobs (every, one, one with no runs), status sets (every,
// one, several, with a repeat, one no run has), and creation-time bounds (none, either, both, an
// empty range).
std::vector<RunQuery> QueryFilterCombinations() {
  const std::vector<std::string> jobs = {"", "a", "ab", "missing"};
  const std::vector<std::vector<RunStatus>> status_sets = {
      {},
      {RunStatus::kFailed},
      {RunStatus::kRunning, RunStatus::kQueued},
      {RunStatus::kSucceeded, RunStatus::kFailed, RunStatus::kSucceeded, RunStatus::kCancelled},
      {RunStatus::kQueued, RunStatus::kRunning, RunStatus::kSucceeded, RunStatus::kFailed,
       RunStatus::kCancelled, RunStatus::kInterrupted}};
  using Range = std::pair<std::optional<int64_t>, std::optional<int64_t>>;
  const std::vector<Range> ranges = {{std::nullopt, std::nullopt}, {kT0 + 10'000, std::nullopt},
                                     {std::nullopt, kT0 + 30'000}, {kT0 + 5'000, kT0 + 25'000},
                                     {kT0 + 5'001, kT0 + 5'999},   {kT0 + 20'000, kT0 + 20'000}};
  std::vector<RunQuery> queries;
  for (const std::string& job : jobs) {
    for (const std::vector<RunStatus>& statuses : status_sets) {
      for (const Range& range : ranges) {
        RunQuery query;
        query.job = JobId(job);
        query.statuses = statuses;
        query.since_us = range.first;
        query.until_us = range.second;
        query.limit = 1000;
        queries.push_back(query);
      }
    }
  }
  return queries;
}

std::string DescribeQuery(const RunQuery& query) {
  std::string text = "job '" + query.job.str() + "' statuses";
  for (const RunStatus status : query.statuses) text += " " + std::string(RunStatusName(status));
  if (query.since_us.has_value()) text += " since +" + std::to_string(*query.since_us - kT0);
  if (query.until_us.has_value()) text += " until +" + std::to_string(*query.until_us - kT0);
  text += " limit " + std::to_string(query.limit);
  return text;
}

TEST_P(StateStoreConformanceTest, QueryRunsAppliesEveryCombinationOfFilters) {
  const std::vector<RunRecord> runs = CreateQueryFixture(*store_);
  for (const RunQuery& query : QueryFilterCombinations()) {
    SCOPED_TRACE(DescribeQuery(query));
    Result<RunPage> page = store_->QueryRuns(query);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_EQ(Ids(page->runs), ExpectedQuery(runs, query));
    EXPECT_FALSE(page->next.has_value());
  }
}

TEST_P(StateStoreConformanceTest, QueryRunsReturnsEveryFieldOfARun) {
  RunRecord run = MakeRun("etl", kT0);
  run.status = RunStatus::kFailed;
  run.trigger = "schedule";
  run.owner = "host/1/2";
  run.started_us = kT0 + 1;
  run.ended_us = kT0 + 2;
  run.error = "boom";
  run.occurrence_us = kT0 - 5;
  ASSERT_TRUE(store_->CreateRun(run).ok());
  Result<RunPage> page = store_->QueryRuns(RunQuery{.statuses = {RunStatus::kFailed}});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_THAT(page->runs, SizeIs(1));
  ExpectSameRunAndRetries(page->runs[0], run);
  EXPECT_EQ(page->runs[0].occurrence_us, run.occurrence_us);
}

TEST_P(StateStoreConformanceTest, QueryRunsPagesCoverEveryMatchingRunOnceInOrder) {
  const std::vector<RunRecord> runs = CreateQueryFixture(*store_);
  for (RunQuery query : QueryFilterCombinations()) {
    const std::vector<std::string> expected = ExpectedQuery(runs, query);
    for (const size_t limit : {size_t{1}, size_t{3}, size_t{7}, expected.size()}) {
      if (limit == 0) continue;
      query.limit = limit;
      SCOPED_TRACE(DescribeQuery(query));
      size_t pages = 0;
      EXPECT_EQ(QueryAllPages(*store_, query, &pages), expected);
      // Exactly as many pages as it takes: a full last page has no next.
      EXPECT_EQ(pages, std::max<size_t>(1, (expected.size() + limit - 1) / limit));
    }
  }
}

TEST_P(StateStoreConformanceTest, QueryRunsPagingIsStableWhileRunsAreCreatedAndChangeStatus) {
  std::vector<RunRecord> runs = CreateQueryFixture(*store_);
  RunQuery query;
  query.statuses = {RunStatus::kFailed, RunStatus::kSucceeded, RunStatus::kRunning};
  query.limit = 4;
  const std::vector<std::string> expected = ExpectedQuery(runs, query);
  ASSERT_GT(expected.size(), 3 * query.limit);

  std::vector<std::string> seen;
  int64_t newer = kT0 + 1'000'000;
  for (int page_count = 0; page_count < 100; ++page_count) {
    Result<RunPage> page = store_->QueryRuns(query);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const RunRecord& run : page->runs) seen.push_back(run.id.str());
    if (!page->next.has_value()) break;
    query.after = page->next;
    // Between pages: new runs of every listed status (newer than everything, as new runs are),
    // one created at the cursor's own time, and a listed run already read that changes status.
    for (const RunStatus status : query.statuses) {
      RunRecord fresh = MakeRun("a", newer++);
      fresh.status = status;
      ASSERT_TRUE(store_->CreateRun(fresh).ok());
    }
    RunRecord twin = MakeRun("b", page->next->created_us);
    twin.status = RunStatus::kFailed;
    ASSERT_TRUE(store_->CreateRun(twin).ok());
    runs.push_back(twin);
    RunRecord changed = page->runs.front();
    changed.status = RunStatus::kCancelled;
    ASSERT_TRUE(store_->UpdateRun(changed).ok());
  }
  // Every run that matched when paging began is read once, in order; a run created at the cursor's
  // time shows up only if it sorts after the cursor (by id), which RunId::Generate makes it do
  // never (ids grow).
  EXPECT_EQ(seen, expected);
}

TEST_P(StateStoreConformanceTest, QueryRunsWithLimitZeroIsAnEmptyPageWithoutNext) {
  CreateQueryFixture(*store_);
  for (RunQuery query : QueryFilterCombinations()) {
    query.limit = 0;
    SCOPED_TRACE(DescribeQuery(query));
    Result<RunPage> page = store_->QueryRuns(query);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_TRUE(page->runs.empty());
    EXPECT_FALSE(page->next.has_value());
  }
}

TEST_P(StateStoreConformanceTest, QueryRunsPagesFromACursorOfARunTheStoreNeverHad) {
  const std::vector<RunRecord> runs = CreateQueryFixture(*store_);
  for (const int64_t at : {kT0 - 1, kT0 + 20'000, kT0 + 20'500, kT0 + 1'000'000}) {
    RunQuery query;
    query.limit = 1000;
    query.after = RunCursor{at, RunId::Generate()};
    SCOPED_TRACE(at - kT0);
    Result<RunPage> page = store_->QueryRuns(query);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_EQ(Ids(page->runs), ExpectedQuery(runs, query));
  }
}

TEST_P(StateStoreConformanceTest, QueryRunsRefusesACursorWithoutARunId) {
  CreateQueryFixture(*store_);
  RunQuery query;
  query.after = RunCursor{kT0, RunId()};
  Result<RunPage> page = store_->QueryRuns(query);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), StatusCode::kInvalidArgument);
}

TEST_P(StateStoreConformanceTest, QueryRunsOnAnEmptyStoreIsAnEmptyPage) {
  Result<RunPage> page = store_->QueryRuns(RunQuery{});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->runs.empty());
  EXPECT_FALSE(page->next.has_value());
}

INSTANTIATE_TEST_SUITE_P(AllBackends, StateStoreConformanceTest,
                         ::testing::Values(Backend::kMemory, Backend::kSqlite,
                                           Backend::kPostgresql),
                         BackendParamName);

}  // namespace
}  // namespace petit
