// The StateStore conformance suite: every backend runs the same tests (STYLE.md habit 5). A new
// backend is correct when this suite passes against it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <latch>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "petit/core/state_store.h"
#include "petit/storage/open.h"
#include "storage_backends/test_databases.h"

namespace petit {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
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
  EXPECT_EQ(actual.created_us, expected.created_us);
  EXPECT_EQ(actual.started_us, expected.started_us);
  EXPECT_EQ(actual.ended_us, expected.ended_us);
  EXPECT_EQ(actual.error, expected.error);
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

  std::vector<LogChunk> ReadLogs(const RunId& run, const std::string& task = "") {
    Result<std::vector<LogChunk>> chunks = store_->ReadLogs(run, TaskId(task));
    EXPECT_TRUE(chunks.ok()) << chunks.status().ToString();
    return chunks.ok() ? *chunks : std::vector<LogChunk>{};
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

TEST_P(StateStoreConformanceTest, SaveAttemptReplacesTheRowWithTheSameKey) {
  RunRecord run = CreateRun("job", kT0);
  AttemptRecord attempt = MakeAttempt(run.id, "extract", 1);
  ASSERT_TRUE(store_->SaveAttempt(attempt).ok());
  attempt.state = TaskState::kRunning;
  attempt.started_us = kT0 + 20;
  ASSERT_TRUE(store_->SaveAttempt(attempt).ok());
  attempt.state = TaskState::kFailed;
  attempt.ended_us = kT0 + 30;
  attempt.exit_code = -9;
  attempt.error = "killed by SIGKILL";
  ASSERT_TRUE(store_->SaveAttempt(attempt).ok());
  AttemptRecord retry = MakeAttempt(run.id, "extract", 2);
  ASSERT_TRUE(store_->SaveAttempt(retry).ok());

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
    ASSERT_TRUE(store_->SaveAttempt(MakeAttempt(run.id, task, 2)).ok());
    ASSERT_TRUE(store_->SaveAttempt(MakeAttempt(run.id, task, 1)).ok());
  }
  ASSERT_TRUE(store_->SaveAttempt(MakeAttempt(other.id, "a", 1)).ok());

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
  ASSERT_TRUE(store_->SaveAttempt(attempt).ok());

  std::vector<AttemptRecord> attempts = ListAttempts(run.id);
  ASSERT_THAT(attempts, SizeIs(1));
  EXPECT_EQ(attempts[0].outputs, attempt.outputs);
}

TEST_P(StateStoreConformanceTest, SavingAnAttemptAgainReplacesItsOutputs) {
  RunRecord run = CreateRun("job", kT0);
  AttemptRecord attempt = MakeAttempt(run.id, "t", 1);
  attempt.outputs = {{"a", "1"}, {"b", "2"}};
  ASSERT_TRUE(store_->SaveAttempt(attempt).ok());
  attempt.outputs = {{"b", "3"}};
  ASSERT_TRUE(store_->SaveAttempt(attempt).ok());

  std::vector<AttemptRecord> attempts = ListAttempts(run.id);
  ASSERT_THAT(attempts, SizeIs(1));
  EXPECT_EQ(attempts[0].outputs, (ValueMap{{"b", "3"}}));
}

TEST_P(StateStoreConformanceTest, SavingAnAttemptOfAnUnknownRunIsNotFound) {
  const RunId missing = RunId::Generate();
  Status status = store_->SaveAttempt(MakeAttempt(missing, "t", 1));
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

TEST_P(StateStoreConformanceTest, FreeTextIsStoredAsValidUtf8) {
  RunRecord run = MakeRun("job", kT0);
  run.trigger = std::string("api\0x", 5);
  run.error = "bad \xff byte";
  ASSERT_TRUE(store_->CreateRun(run).ok());
  AttemptRecord attempt = MakeAttempt(run.id, "t", 1);
  attempt.error = std::string("nul\0here \xc3", 10);
  ASSERT_TRUE(store_->SaveAttempt(attempt).ok());

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
  EXPECT_EQ(store_->SaveAttempt(MakeAttempt(run.id, "", 1)).code(), StatusCode::kInvalidArgument);
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
          if (fail(store_->SaveAttempt(attempt))) return;
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
  ASSERT_TRUE(store_->SaveAttempt(attempt).ok());
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

INSTANTIATE_TEST_SUITE_P(AllBackends, StateStoreConformanceTest,
                         ::testing::Values(Backend::kMemory, Backend::kSqlite,
                                           Backend::kPostgresql),
                         BackendParamName);

}  // namespace
}  // namespace petit
