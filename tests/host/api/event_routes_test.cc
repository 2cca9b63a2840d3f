// The event stream and the logs routes, called as the server calls them, with a fake StreamSink
// and a memory store: replay, filters, gaps, pings, how streams end, and logs by byte offset.
#include "api/event_routes.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/job_loader.h"
#include "host/route_pattern.h"
#include "petit/core/mutex.h"
#include "petit/storage/open.h"
#include "runtime/daemon.h"
#include "runtime/host_env.h"

namespace petit::host {
namespace {

using std::chrono::milliseconds;

// Collects what a stream writes; Write fails after `accept` writes (forever by default).
class FakeSink final : public StreamSink {
 public:
  explicit FakeSink(size_t accept = SIZE_MAX) : accept_(accept) {}

  bool Write(std::string_view bytes) override {
    MutexLock lock(mu_);
    if (writes_ >= accept_) return false;
    ++writes_;
    text_ += bytes;
    cv_.SignalAll();
    return true;
  }
  bool stopping() const override { return stopping_.load(); }
  void Stop() { stopping_.store(true); }

  // Waits until the text written holds `needle` (fails the test after a minute).
  bool WaitFor(std::string_view needle) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    MutexLock lock(mu_);
    while (text_.find(needle) == std::string::npos) {
      if (cv_.WaitUntil(mu_, deadline)) return text_.find(needle) != std::string::npos;
    }
    return true;
  }
  std::string text() const {
    MutexLock lock(mu_);
    return text_;
  }
  size_t writes() const {
    MutexLock lock(mu_);
    return writes_;
  }

 private:
  const size_t accept_;
  std::atomic<bool> stopping_{false};
  mutable Mutex mu_;
  CondVar cv_{mu_};
  std::string text_;
  size_t writes_ = 0;
};

struct SseEvent {
  std::optional<uint64_t> id;
  std::string type;
  std::string data;
};

// The events of an SSE text (comments and `retry:` skipped).
std::vector<SseEvent> ParseSse(std::string_view text) {
  std::vector<SseEvent> events;
  SseEvent current;
  bool any = false;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.empty()) {
      if (any) events.push_back(current);
      current = {};
      any = false;
    } else if (line.starts_with("id: ")) {
      current.id = std::stoull(std::string(line.substr(4)));
      any = true;
    } else if (line.starts_with("event: ")) {
      current.type = line.substr(7);
      any = true;
    } else if (line.starts_with("data: ")) {
      current.data = line.substr(6);
      any = true;
    }
  }
  return events;
}

std::vector<uint64_t> Ids(const std::vector<SseEvent>& events) {
  std::vector<uint64_t> ids;
  for (const SseEvent& e : events) {
    if (e.id) ids.push_back(*e.id);
  }
  return ids;
}

class EventRoutesTest : public ::testing::Test {
 protected:
  EventRoutesTest() {
    Result<std::unique_ptr<StateStore>> opened = storage::OpenStateStore("memory:");
    EXPECT_TRUE(opened.ok());
    store_ = std::move(opened).value();
  }

  void MakeRoutes(EventRouteOptions options = {}, size_t capacity = 100) {
    journal_ = std::make_unique<EventJournal>(bus_, capacity);
    routes_ = EventRoutes(
        EventRouteContext{.journal = *journal_,
                          .store = *store_,
                          .job_known = [](const JobId& id) { return id.str() != "unknown"; },
                          .options = options});
  }

  ApiResponse Call(std::string path, std::map<std::string, std::string, std::less<>> query = {},
                   std::string last_event_id = "") {
    ApiRequest request;
    request.method = "GET";
    request.path = path;
    request.query = std::move(query);
    request.last_event_id = std::move(last_event_id);
    for (const Route& route : routes_) {
      if (::petit::host::testing::MatchRoutePattern(route.pattern, path, request.params))
        return route.handler(request);
    }
    ADD_FAILURE() << "no route for " << path;
    return {};
  }

  // Runs the response's stream on its own thread.
  static std::future<void> Start(const ApiResponse& response, FakeSink& sink) {
    EXPECT_TRUE(response.stream) << response.status << " " << response.body;
    return std::async(std::launch::async, [stream = response.stream, &sink] { stream(sink); });
  }

  Event Ev(EventType type, const std::string& job, const RunId& run, const std::string& task = "",
           std::string detail = "") {
    return Event{.type = type,
                 .time_us = 1'700'000'000'123'456,
                 .job = JobId(job),
                 .run = run,
                 .task = TaskId(task),
                 .attempt = task.empty() ? 0u : 1u,
                 .detail = std::move(detail)};
  }

  EventBus bus_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<EventJournal> journal_;
  std::vector<Route> routes_;
};

TEST_F(EventRoutesTest, AnEventIsOneSseRecordWithItsJson) {
  MakeRoutes();
  const RunId run = RunId::Generate();
  journal_->Append(Ev(EventType::kTaskFailed, "etl", run, "extract", "exit 3: \"bad\"\n"));
  journal_->Append(Ev(EventType::kTriggerRefused, "etl", RunId(), "", ""));
  ApiResponse response = Call("/api/v1/events", {{"since", "0"}});
  EXPECT_EQ(response.content_type, "text/event-stream");
  FakeSink sink;
  std::future<void> done = Start(response, sink);
  ASSERT_TRUE(sink.WaitFor("id: 2\n"));
  journal_->Stop();
  done.get();
  std::vector<SseEvent> events = ParseSse(sink.text());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "task_failed");
  EXPECT_EQ(events[0].data,
            "{\"id\":1,\"type\":\"task_failed\",\"time_at\":1700000000123,"
            "\"job_id\":\"etl\",\"run_id\":\"" +
                run.str() +
                "\",\"task_id\":\"extract\",\"attempt\":1,"
                "\"detail\":\"exit 3: \\\"bad\\\"\\n\"}");
  EXPECT_EQ(events[1].data,
            "{\"id\":2,\"type\":\"trigger_refused\",\"time_at\":1700000000123,\"job_id\":\"etl\","
            "\"run_id\":null,\"task_id\":null,\"attempt\":null,\"detail\":null}");
}

TEST_F(EventRoutesTest, LastEventIdResumesAfterItAndWinsOverSince) {
  MakeRoutes();
  const RunId run = RunId::Generate();
  for (int i = 0; i < 5; ++i) journal_->Append(Ev(EventType::kTaskStarted, "etl", run, "t"));
  FakeSink sink;
  std::future<void> done = Start(Call("/api/v1/events", {{"since", "1"}}, "3"), sink);
  ASSERT_TRUE(sink.WaitFor("id: 5\n"));
  journal_->Stop();
  done.get();
  EXPECT_EQ(Ids(ParseSse(sink.text())), (std::vector<uint64_t>{4, 5}));
}

TEST_F(EventRoutesTest, WithoutAnIdTheStreamStartsWithTheNextEvent) {
  MakeRoutes();
  const RunId run = RunId::Generate();
  journal_->Append(Ev(EventType::kTaskStarted, "etl", run, "old"));
  FakeSink sink;
  std::future<void> done = Start(Call("/api/v1/events"), sink);
  ASSERT_TRUE(sink.WaitFor("retry:"));
  bus_.Publish(Ev(EventType::kTaskStarted, "etl", run, "new"));
  ASSERT_TRUE(sink.WaitFor("id: 2\n"));
  journal_->Stop();
  done.get();
  std::vector<SseEvent> events = ParseSse(sink.text());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].data.find("\"task_id\":\"new\""), std::string::npos);
}

TEST_F(EventRoutesTest, FiltersByJobAndByRun) {
  MakeRoutes();
  const RunId a = RunId::Generate();
  const RunId b = RunId::Generate();
  journal_->Append(Ev(EventType::kTaskStarted, "x", a, "t"));  // 1
  journal_->Append(Ev(EventType::kTaskStarted, "y", b, "t"));  // 2
  journal_->Append(Ev(EventType::kTaskStarted, "x", a, "u"));  // 3
  journal_->Append(Ev(EventType::kScheduleFired, "y", b));     // 4
  {
    FakeSink sink;
    std::future<void> done = Start(Call("/api/v1/events", {{"job", "y"}, {"since", "0"}}), sink);
    ASSERT_TRUE(sink.WaitFor("id: 4\n"));
    journal_->Stop();
    done.get();
    EXPECT_EQ(Ids(ParseSse(sink.text())), (std::vector<uint64_t>{2, 4}));
  }
  MakeRoutes();  // a fresh journal: the stopped one wakes nobody
  journal_->Append(Ev(EventType::kTaskStarted, "x", a, "t"));  // 1
  journal_->Append(Ev(EventType::kTaskStarted, "y", b, "t"));  // 2
  journal_->Append(Ev(EventType::kTaskStarted, "x", a, "u"));  // 3
  FakeSink sink;
  std::future<void> done = Start(Call("/api/v1/events", {{"run", a.str()}}), sink);
  ASSERT_TRUE(sink.WaitFor("id: 3\n"));
  journal_->Stop();
  done.get();
  // run= without an id replays the run's events still held.
  EXPECT_EQ(Ids(ParseSse(sink.text())), (std::vector<uint64_t>{1, 3}));
}

TEST_F(EventRoutesTest, WithRunTheStreamEndsAfterTheRunsEnd) {
  MakeRoutes();
  const RunId run = RunId::Generate();
  const RunId other = RunId::Generate();
  journal_->Append(Ev(EventType::kJobStarted, "etl", run));
  FakeSink sink;
  std::future<void> done = Start(Call("/api/v1/events", {{"run", run.str()}}), sink);
  ASSERT_TRUE(sink.WaitFor("id: 1\n"));
  bus_.Publish(Ev(EventType::kJobCompleted, "etl", other, "", "succeeded"));
  bus_.Publish(Ev(EventType::kTaskSucceeded, "etl", run, "t"));
  bus_.Publish(Ev(EventType::kJobCompleted, "etl", run, "", "failed"));
  done.get();  // returns by itself
  std::vector<SseEvent> events = ParseSse(sink.text());
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events.back().type, "job_completed");
  EXPECT_NE(events.back().data.find("\"detail\":\"failed\""), std::string::npos);

  // A run refused before it started ends its stream too.
  const RunId refused = RunId::Generate();
  journal_->Append(
      Ev(EventType::kTriggerRefused, "etl", refused, "", "cancelled before it started"));
  FakeSink sink2;
  Start(Call("/api/v1/events", {{"run", refused.str()}}), sink2).get();
  EXPECT_EQ(ParseSse(sink2.text()).back().type, "trigger_refused");
}

// A run that ended before this daemon started (or whose events the ring no longer holds) still
// ends the stream: its job_completed comes from the store, without an id. An unknown run is 404.
TEST_F(EventRoutesTest, WithRunAnEndedRunTheJournalDoesNotHoldEndsFromItsRecord) {
  MakeRoutes();
  RunRecord record;
  record.id = RunId::Generate();
  record.job = JobId("etl");
  record.trigger = "manual";
  record.status = RunStatus::kFailed;
  record.created_us = 1'700'000'000'000'000;
  record.started_us = record.created_us;
  record.ended_us = record.created_us + 2'500'000;
  ASSERT_TRUE(store_->CreateRun(record).ok());
  journal_->Append(Ev(EventType::kTaskStarted, "other", RunId::Generate(), "t"));
  for (const std::string& since : {std::string(), std::string("0"), std::string("1")}) {
    FakeSink sink;
    std::map<std::string, std::string, std::less<>> query = {{"run", record.id.str()}};
    if (!since.empty()) query["since"] = since;
    Start(Call("/api/v1/events", query), sink).get();  // returns by itself
    std::vector<SseEvent> events = ParseSse(sink.text());
    ASSERT_EQ(events.size(), 1u) << sink.text();
    EXPECT_EQ(events[0].type, "job_completed");
    EXPECT_FALSE(events[0].id);
    EXPECT_EQ(events[0].data,
              "{\"id\":null,\"type\":\"job_completed\",\"time_at\":1700000002500,"
              "\"job_id\":\"etl\",\"run_id\":\"" +
                  record.id.str() + "\",\"task_id\":null,\"attempt\":null,\"detail\":\"failed\"}");
  }
  ApiResponse unknown = Call("/api/v1/events", {{"run", RunId::Generate().str()}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_THAT(unknown.body, ::testing::HasSubstr("no run "));
  EXPECT_FALSE(unknown.stream);
}

TEST_F(EventRoutesTest, AClientThatFellOffTheRingGetsAGapThenTheOldestHeld) {
  MakeRoutes({}, 4);
  const RunId run = RunId::Generate();
  for (int i = 0; i < 10; ++i) journal_->Append(Ev(EventType::kTaskStarted, "etl", run, "t"));
  FakeSink sink;
  std::future<void> done = Start(Call("/api/v1/events", {}, "2"), sink);
  ASSERT_TRUE(sink.WaitFor("id: 10\n"));
  journal_->Stop();
  done.get();
  std::vector<SseEvent> events = ParseSse(sink.text());
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].type, "gap");
  EXPECT_FALSE(events[0].id);
  EXPECT_NE(events[0].data.find("\"after_id\":2,\"oldest_id\":7,\"message\":\"events after id 2 "
                                "are no longer held (the daemon keeps the newest 4); going on "
                                "from id 7\""),
            std::string::npos)
      << events[0].data;
  EXPECT_EQ(Ids(events), (std::vector<uint64_t>{7, 8, 9, 10}));

  // An id of an earlier daemon (ids restart with the process).
  MakeRoutes({}, 4);
  journal_->Append(Ev(EventType::kTaskStarted, "etl", run, "t"));
  FakeSink restarted;
  done = Start(Call("/api/v1/events", {}, "50"), restarted);
  ASSERT_TRUE(restarted.WaitFor("id: 1\n"));
  journal_->Stop();
  done.get();
  EXPECT_NE(restarted.text().find("event id 50 is not of this daemon (its newest is 1: it has "
                                  "restarted since); going on from id 1"),
            std::string::npos)
      << restarted.text();

  // Exactly at the edge: nothing lost, no gap.
  MakeRoutes({}, 4);
  for (int i = 0; i < 10; ++i) journal_->Append(Ev(EventType::kTaskStarted, "etl", run, "t"));
  FakeSink edge;
  done = Start(Call("/api/v1/events", {{"since", "6"}}), edge);
  ASSERT_TRUE(edge.WaitFor("id: 10\n"));
  journal_->Stop();
  done.get();
  EXPECT_EQ(edge.text().find("event: gap"), std::string::npos);
}

TEST_F(EventRoutesTest, ARunOlderThanTheRingGetsAGapAndANewerOneDoesNot) {
  MakeRoutes({}, 2);
  const RunId old_run = RunId::GenerateAt(1'000);
  Event e = Ev(EventType::kTaskStarted, "etl", old_run, "t");
  e.time_us = 5'000'000;
  for (int i = 0; i < 4; ++i) journal_->Append(e);
  e.type = EventType::kJobCompleted;
  e.task = TaskId();
  journal_->Append(e);
  FakeSink sink;
  Start(Call("/api/v1/events", {{"run", old_run.str()}}), sink).get();
  EXPECT_EQ(ParseSse(sink.text()).front().type, "gap");

  MakeRoutes({}, 2);
  const RunId new_run = RunId::GenerateAt(5'000);  // created when its first held event happened
  e = Ev(EventType::kTaskStarted, "etl", new_run, "t");
  e.time_us = 5'000'000;
  for (int i = 0; i < 4; ++i) journal_->Append(e);
  e.type = EventType::kJobCompleted;
  journal_->Append(e);
  FakeSink fresh;
  Start(Call("/api/v1/events", {{"run", new_run.str()}}), fresh).get();
  EXPECT_EQ(fresh.text().find("event: gap"), std::string::npos);
}

TEST_F(EventRoutesTest, AnIdleStreamSendsPings) {
  EventRouteOptions options;
  options.ping_interval = milliseconds(1);
  MakeRoutes(options);
  FakeSink sink;
  std::future<void> done = Start(Call("/api/v1/events"), sink);
  ASSERT_TRUE(sink.WaitFor(": ping\n\n"));
  journal_->Stop();
  done.get();
}

TEST_F(EventRoutesTest, AStreamReturnsWhenItsClientStopsTakingWrites) {
  MakeRoutes();
  const RunId run = RunId::Generate();
  // Refused at once: not even the preamble got through.
  FakeSink gone(0);
  Start(Call("/api/v1/events"), gone).get();
  EXPECT_EQ(gone.writes(), 0u);

  // Takes the preamble and one batch, then refuses: the stream returns while events keep coming,
  // and the bus and journal go on.
  EventRouteOptions options;
  options.batch = 1;
  MakeRoutes(options);
  FakeSink slow(2);
  std::future<void> done = Start(Call("/api/v1/events"), slow);
  ASSERT_TRUE(slow.WaitFor("retry:"));
  for (int i = 0; i < 100; ++i) bus_.Publish(Ev(EventType::kTaskStarted, "etl", run, "t"));
  done.get();
  EXPECT_EQ(slow.writes(), 2u);
  bus_.Flush();
  EXPECT_EQ(journal_->newest_id(), 100u);
  EXPECT_EQ(bus_.dropped(), 0u);
}

TEST_F(EventRoutesTest, AStreamReturnsWhenTheServerIsStopping) {
  MakeRoutes();
  FakeSink sink;
  std::future<void> done = Start(Call("/api/v1/events"), sink);
  ASSERT_TRUE(sink.WaitFor("retry:"));
  sink.Stop();
  // Noticed within kStopCheck, without any event.
  EXPECT_EQ(done.wait_for(std::chrono::seconds(30)), std::future_status::ready);
}

TEST_F(EventRoutesTest, BadParametersAre400AndAnUnknownJob404) {
  MakeRoutes();
  EXPECT_EQ(Call("/api/v1/events", {{"since", "abc"}}).status, 400);
  EXPECT_EQ(Call("/api/v1/events", {{"since", "-1"}}).status, 400);
  EXPECT_EQ(Call("/api/v1/events", {{"since", ""}}).status, 400);
  EXPECT_EQ(Call("/api/v1/events", {}, "12x").status, 400);
  EXPECT_EQ(Call("/api/v1/events", {{"run", "not-a-run"}}).status, 400);
  EXPECT_EQ(Call("/api/v1/events", {{"job", "bad/name"}}).status, 400);
  for (const char* name : {"bogus", "jobs", "last_event_id"}) {
    ApiResponse extra = Call("/api/v1/events", {{name, "1"}});
    EXPECT_EQ(extra.status, 400) << name;
    EXPECT_THAT(extra.body, ::testing::HasSubstr("unknown query parameter")) << name;
    EXPECT_FALSE(extra.stream) << name;
  }
  ApiResponse unknown = Call("/api/v1/events", {{"job", "unknown"}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body, "{\"error\":\"job not found: unknown\",\"code\":\"NOT_FOUND\"}");
  EXPECT_FALSE(unknown.stream);
}

// --- logs

class LogRoutesTest : public EventRoutesTest {
 protected:
  void SetUp() override {
    run_ = RunId::Generate();
    RunRecord record;
    record.id = run_;
    record.job = JobId("etl");
    record.status = RunStatus::kRunning;
    record.created_us = record.started_us = 1;
    ASSERT_TRUE(store_->CreateRun(record).ok());
    SetAttempt(TaskState::kRunning);
  }

  void SetAttempt(TaskState state, std::optional<int32_t> exit_code = std::nullopt) {
    AttemptRecord attempt;
    attempt.run = run_;
    attempt.task = TaskId("extract");
    attempt.attempt = 1;
    attempt.state = state;
    attempt.queued_us = attempt.started_us = 1;
    if (IsTerminal(state)) attempt.ended_us = 2;
    attempt.exit_code = exit_code;
    ASSERT_TRUE(store_->SaveAttempts({&attempt, 1}).ok());
  }

  void Append(std::string data, OutputStream stream = OutputStream::kStdout) {
    ASSERT_TRUE(
        store_->AppendLog(LogChunk{run_, TaskId("extract"), 1, stream, seq_++, std::move(data)})
            .ok());
  }

  std::string Path(const std::string& task = "extract", const std::string& n = "1") {
    return "/api/v1/runs/" + run_.str() + "/tasks/" + task + "/attempts/" + n + "/logs";
  }

  RunId run_;
  uint32_t seq_ = 0;
};

TEST_F(LogRoutesTest, PagesByByteOffsetAcrossChunksAndStreams) {
  MakeRoutes();
  Append("hello ");
  Append("err!", OutputStream::kStderr);
  Append(" world\n");
  EXPECT_EQ(Call(Path(), {{"limit", "4"}}).body,
            "{\"data\":\"hell\",\"offset\":0,\"next_offset\":4,\"complete\":false}");
  EXPECT_EQ(Call(Path(), {{"offset", "4"}, {"limit", "5"}}).body,
            "{\"data\":\"o err\",\"offset\":4,\"next_offset\":9,\"complete\":false}");
  EXPECT_EQ(Call(Path(), {{"offset", "9"}}).body,
            "{\"data\":\"! world\\n\",\"offset\":9,\"next_offset\":17,\"complete\":false}");
  // Still running: the end so far, not complete.
  EXPECT_EQ(Call(Path(), {{"offset", "17"}}).body,
            "{\"data\":\"\",\"offset\":17,\"next_offset\":17,\"complete\":false}");
  SetAttempt(TaskState::kSucceeded, 0);
  EXPECT_EQ(Call(Path(), {{"offset", "17"}}).body,
            "{\"data\":\"\",\"offset\":17,\"next_offset\":17,\"complete\":true}");
  EXPECT_EQ(Call(Path(), {{"offset", "9"}, {"limit", "8"}}).body,
            "{\"data\":\"! world\\n\",\"offset\":9,\"next_offset\":17,\"complete\":true}");
  // Ended, but the page stops short of the end: not complete.
  EXPECT_EQ(Call(Path(), {{"offset", "9"}, {"limit", "7"}}).body,
            "{\"data\":\"! world\",\"offset\":9,\"next_offset\":16,\"complete\":false}");
}

TEST_F(LogRoutesTest, ManyChunksArePagedThroughTheStoreInOrder) {
  MakeRoutes();
  std::string all;
  for (int i = 0; i < 40; ++i) {
    std::string chunk = std::string(9, static_cast<char>('a' + i % 26)) + "\n";
    all += chunk;
    Append(chunk);
  }
  SetAttempt(TaskState::kFailed, 1);
  std::string read;
  uint64_t offset = 0;
  for (int pages = 0; pages < 100; ++pages) {
    ApiResponse page = Call(Path(), {{"offset", std::to_string(offset)}, {"limit", "33"}});
    ASSERT_EQ(page.status, 200) << page.body;
    const size_t data_at = page.body.find("\"data\":\"") + 8;
    const size_t data_end = page.body.find("\",\"offset\"");
    std::string data = page.body.substr(data_at, data_end - data_at);
    for (size_t at; (at = data.find("\\n")) != std::string::npos;) data.replace(at, 2, "\n");
    read += data;
    offset += data.size();
    if (page.body.ends_with("\"complete\":true}")) break;
  }
  EXPECT_EQ(read, all);
  EXPECT_EQ(offset, all.size());
  // Offsets anywhere, now that the chunks' ends are known (at, inside, and just past a chunk's
  // end), give the same bytes as reading from the start.
  for (uint64_t at : {0, 9, 10, 11, 155, 200, 399}) {
    ApiResponse page = Call(Path(), {{"offset", std::to_string(at)}, {"limit", "3"}});
    std::string expected = all.substr(at, 3);
    for (size_t nl; (nl = expected.find('\n')) != std::string::npos;)
      expected.replace(nl, 1, "\\n");
    EXPECT_EQ(page.body.substr(0, 9 + expected.size() + 1), "{\"data\":\"" + expected + "\"") << at;
  }
  EXPECT_EQ(Call(Path(), {{"tail", "4"}}).body, "{\"data\":\"" + all.substr(396, 3) +
                                                    "\\n\",\"offset\":396,\"next_offset\":400,"
                                                    "\"complete\":true}");
}

TEST_F(LogRoutesTest, APageNeverEndsInsideACharacterUnlessThatIsAllItHolds) {
  MakeRoutes();
  Append("ab\xC3");  // "é" split across two chunks
  Append("\xA9z");
  // Bytes 0..2 would cut "é": the page holds "ab" and the next one starts at the "é".
  EXPECT_EQ(Call(Path(), {{"limit", "3"}}).body,
            "{\"data\":\"ab\",\"offset\":0,\"next_offset\":2,\"complete\":false}");
  EXPECT_EQ(Call(Path(), {{"offset", "2"}, {"limit", "3"}}).body,
            "{\"data\":\"\xC3\xA9z\",\"offset\":2,\"next_offset\":5,\"complete\":false}");
  // A limit smaller than the character: the bytes go out, as U+FFFD, so the reader moves on.
  EXPECT_EQ(Call(Path(), {{"offset", "2"}, {"limit", "1"}}).body,
            "{\"data\":\"\xEF\xBF\xBD\",\"offset\":2,\"next_offset\":3,\"complete\":false}");
  // Output that is not UTF-8 at all still gives valid JSON.
  Append("\xFF\xFE\n");
  SetAttempt(TaskState::kSucceeded, 0);
  EXPECT_EQ(Call(Path(), {{"offset", "5"}}).body,
            "{\"data\":\"\xEF\xBF\xBD\xEF\xBF\xBD\\n\",\"offset\":5,\"next_offset\":8,"
            "\"complete\":true}");
}

TEST_F(LogRoutesTest, TailIsTheLastBytesStartingAtACharacter) {
  MakeRoutes();
  Append("line one\n");
  Append("line \xC3\xA9two\n");
  EXPECT_EQ(Call(Path(), {{"tail", "6"}}).body,
            "{\"data\":\"\xC3\xA9two\\n\",\"offset\":14,\"next_offset\":20,\"complete\":false}");
  // One byte less: the start falls inside the "é", which is left out.
  EXPECT_EQ(Call(Path(), {{"tail", "5"}}).body,
            "{\"data\":\"two\\n\",\"offset\":16,\"next_offset\":20,\"complete\":false}");
  SetAttempt(TaskState::kFailed, 1);
  EXPECT_EQ(Call(Path(), {{"tail", "1000"}}).body,
            "{\"data\":\"line one\\nline \xC3\xA9two\\n\",\"offset\":0,\"next_offset\":20,"
            "\"complete\":true}");
  EXPECT_EQ(Call(Path(), {{"tail", "0"}}).status, 400);
  EXPECT_EQ(Call(Path(), {{"tail", "5"}, {"offset", "1"}}).status, 400);
}

TEST_F(LogRoutesTest, UnknownAndMalformedTargetsAndParameters) {
  MakeRoutes();
  Append("abc");
  EXPECT_EQ(Call(Path("extract", "2")).status, 404);
  EXPECT_EQ(Call(Path("load")).status, 404);
  const RunId unknown = RunId::Generate();
  EXPECT_EQ(Call("/api/v1/runs/" + unknown.str() + "/tasks/extract/attempts/1/logs").body,
            "{\"error\":\"run not found: " + unknown.str() + "\",\"code\":\"NOT_FOUND\"}");
  EXPECT_EQ(Call("/api/v1/runs/nope/tasks/extract/attempts/1/logs").status, 400);
  EXPECT_EQ(Call(Path("-bad")).status, 400);
  for (const char* n : {"0", "x", "-1", "99999999999"})
    EXPECT_EQ(Call(Path("extract", n)).status, 400) << n;
  EXPECT_EQ(Call(Path(), {{"offset", "x"}}).status, 400);
  EXPECT_EQ(Call(Path(), {{"offset", "4"}}).status, 400);  // beyond the 3 bytes
  EXPECT_EQ(Call(Path(), {{"offset", "3"}}).status, 200);  // the end itself
  EXPECT_EQ(Call(Path(), {{"limit", "0"}}).status, 400);
  EXPECT_EQ(Call(Path(), {{"limit", "1048577"}}).status, 400);
  EXPECT_EQ(Call(Path(), {{"follow", "yes"}}).status, 400);
  for (const char* name : {"stream", "bogus", "offest"}) {
    ApiResponse extra = Call(Path(), {{name, "1"}});
    EXPECT_EQ(extra.status, 400) << name;
    EXPECT_THAT(extra.body, ::testing::HasSubstr("unknown query parameter")) << name;
  }
}

TEST_F(LogRoutesTest, FollowSendsOutputAsItArrivesAndEndsWithTheAttempt) {
  EventRouteOptions options;
  options.log_poll_interval = std::chrono::minutes(10);  // only events wake it
  MakeRoutes(options);
  Append("one\n");
  FakeSink sink;
  std::future<void> done = Start(Call(Path(), {{"follow", "true"}}), sink);
  ASSERT_TRUE(sink.WaitFor("id: 4\n"));
  Append("two\n");
  bus_.Publish(Ev(EventType::kTaskStarted, "etl", run_, "other"));  // an event of the run wakes it
  ASSERT_TRUE(sink.WaitFor("id: 8\n"));
  Append("three\n");
  SetAttempt(TaskState::kFailed, 3);
  bus_.Publish(Ev(EventType::kTaskFailed, "etl", run_, "extract"));
  done.get();  // returns by itself
  std::vector<SseEvent> events = ParseSse(sink.text());
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].data, "{\"data\":\"one\\n\",\"offset\":0,\"next_offset\":4}");
  EXPECT_EQ(events[1].data, "{\"data\":\"two\\n\",\"offset\":4,\"next_offset\":8}");
  EXPECT_EQ(events[2].data, "{\"data\":\"three\\n\",\"offset\":8,\"next_offset\":14}");
  EXPECT_EQ(events[2].id, 14u);
  EXPECT_EQ(events[3].type, "end");
  EXPECT_EQ(events[3].data, "{\"offset\":14,\"status\":\"failed\",\"exit_code\":3,\"error\":null}");
}

TEST_F(LogRoutesTest, FollowResumesAtLastEventIdAndEndsAtOnceForAnEndedAttempt) {
  MakeRoutes();
  Append("0123456789");
  SetAttempt(TaskState::kSucceeded, 0);
  FakeSink sink;
  Start(Call(Path(), {{"follow", "true"}}, "6"), sink).get();
  std::vector<SseEvent> events = ParseSse(sink.text());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "{\"data\":\"6789\",\"offset\":6,\"next_offset\":10}");
  EXPECT_EQ(events[1].type, "end");
}

TEST_F(LogRoutesTest, AFollowerStopsWithTheServer) {
  MakeRoutes();
  FakeSink sink;
  std::future<void> done = Start(Call(Path(), {{"follow", "true"}}), sink);
  ASSERT_TRUE(sink.WaitFor("retry:"));
  sink.Stop();
  EXPECT_EQ(done.wait_for(std::chrono::seconds(30)), std::future_status::ready);
}

// --- a real daemon

TEST(EventRoutesDaemonTest, ARealRunStreamsItsTransitionsInOrderAndEndsTheStream) {
  HostOptions host;
  host.storage_uri = "memory:";
  host.plugin_dirs = {PETIT_PLUGIN_DIR};
  Result<std::unique_ptr<HostEnv>> env = HostEnv::Create(host);
  ASSERT_TRUE(env.ok()) << env.status().message();
  (*env)->LoadPlugins();
  LoadedJobs loaded = LoadJobFromString(R"(
id: two
tasks:
  - id: a
    type: noop
  - id: b
    type: noop
    depends_on: [a]
)",
                                        "two.yaml", JobLoaderOptions{});
  ASSERT_TRUE(loaded.errors.empty());
  DaemonLog log;
  Result<std::unique_ptr<Daemon>> daemon =
      Daemon::Start(std::move(env).value(), std::move(loaded.jobs), log);
  ASSERT_TRUE(daemon.ok()) << daemon.status().message();
  {
    EventJournal journal((*daemon)->events());
    std::vector<Route> routes = EventRoutes(**daemon, journal);
    ASSERT_EQ(routes.size(), 2u);
    Result<RunId> run = (*daemon)->Trigger(JobId("two"));
    ASSERT_TRUE(run.ok()) << run.status().message();

    ApiRequest request;
    request.method = "GET";
    request.path = "/api/v1/events";
    request.query["run"] = run->str();
    ApiResponse response = routes[0].handler(request);
    FakeSink sink;
    ASSERT_TRUE(response.stream);
    response.stream(sink);  // returns once the run's job_completed is sent
    std::vector<SseEvent> events = ParseSse(sink.text());
    std::vector<std::string> types;
    for (const SseEvent& e : events) {
      types.push_back(e.type + (e.data.find("\"task_id\":\"a\"") != std::string::npos   ? ":a"
                                : e.data.find("\"task_id\":\"b\"") != std::string::npos ? ":b"
                                                                                        : ""));
    }
    EXPECT_EQ(types, (std::vector<std::string>{
                         "job_started", "task_queued:a", "task_started:a", "task_succeeded:a",
                         "task_queued:b", "task_started:b", "task_succeeded:b", "job_completed"}));
    EXPECT_NE(events.back().data.find("\"detail\":\"succeeded\""), std::string::npos);

    // job= of a job the daemon does not define is 404.
    request.query = {{"job", "three"}};
    EXPECT_EQ(routes[0].handler(request).status, 404);
    request.query = {{"job", "two"}};
    EXPECT_EQ(routes[0].handler(request).status, 200);

    // The attempt's output (a noop has none) is complete once the run has ended.
    (*daemon)->Stop(StopMode::kWaitForRuns);
    ApiRequest logs;
    logs.method = "GET";
    logs.params = {{"id", run->str()}, {"task", "b"}, {"n", "1"}};
    EXPECT_EQ(routes[1].handler(logs).body,
              "{\"data\":\"\",\"offset\":0,\"next_offset\":0,\"complete\":true}");
  }  // the journal unsubscribes while the daemon lives
}

}  // namespace
}  // namespace petit::host
