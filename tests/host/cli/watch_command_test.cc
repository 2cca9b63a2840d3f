// `petit watch` against a daemon API in this process: the real event and logs routes (served by a
// small Poco server, as the daemon's server serves them) and the run and tasks answers as
// fixtures. Plain-line output, the failed task's log tail, exit codes, a reconnection with
// Last-Event-ID, and a gap answered from a fresh snapshot.
#include "cli/watch_command.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/URI.h>

#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/event_routes.h"
#include "host/route_pattern.h"
#include "petit/core/mutex.h"
#include "petit/host/exit_codes.h"
#include "petit/storage/open.h"
#include "runtime/time_format.h"

namespace petit::host {
namespace {

using Params = std::map<std::string, std::string, std::less<>>;

// The daemon's API as far as watch needs it.
class FakeApi {
 public:
  using Fixture = std::function<ApiResponse(const ApiRequest&)>;

  FakeApi(EventJournal& journal, StateStore& store) {
    routes_ = EventRoutes(EventRouteContext{.journal = journal, .store = store});
    journal_ = &journal;
  }

  void Add(std::string pattern, Fixture fixture) {
    routes_.push_back(Route{.method = "GET",
                            .pattern = std::move(pattern),
                            .access = Access::kRead,
                            .handler = std::move(fixture),
                            .summary = ""});
  }

  // The first stream refuses (and so ends at) its first write holding `text`.
  void BreakFirstStreamAt(std::string text) { break_at_ = std::move(text); }

  void Start() {
    auto params = Poco::AutoPtr<Poco::Net::HTTPServerParams>(new Poco::Net::HTTPServerParams);
    params->setMaxThreads(8);
    params->setKeepAlive(false);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this),
                                                      Poco::Net::ServerSocket(0), params);
    server_->start();
  }
  void Stop() {
    stopping_ = true;
    journal_->Stop();
    if (server_) server_->stopAll(true);
    server_.reset();  // closes the listening socket
  }
  ~FakeApi() { Stop(); }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

  // Waits until `n` event streams have started (a minute at most).
  bool WaitForStreams(int n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    MutexLock lock(mu_);
    while (streams_ < n) {
      if (cv_.WaitUntil(mu_, deadline)) return streams_ >= n;
    }
    return true;
  }
  // Waits until a stream has written `text` to its client (a minute at most).
  bool WaitForWritten(const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    MutexLock lock(mu_);
    while (written_.find(text) == std::string::npos) {
      if (cv_.WaitUntil(mu_, deadline)) return written_.find(text) != std::string::npos;
    }
    return true;
  }
  std::vector<std::string> last_event_ids() const {
    MutexLock lock(mu_);
    return last_event_ids_;
  }
  int streams() const {
    MutexLock lock(mu_);
    return streams_;
  }

 private:
  class Sink final : public StreamSink {
   public:
    Sink(std::ostream& out, const std::atomic<bool>& stopping, std::string break_at)
        : out_(out), stopping_(stopping), break_at_(std::move(break_at)) {}
    bool Write(std::string_view bytes) override {
      if (!break_at_.empty() && bytes.find(break_at_) != std::string_view::npos) return false;
      out_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      out_.flush();
      return out_.good();
    }
    bool stopping() const override { return stopping_.load(); }

   private:
    std::ostream& out_;
    const std::atomic<bool>& stopping_;
    const std::string break_at_;
  };

  class Handler final : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(FakeApi& api) : api_(api) {}
    void handleRequest(Poco::Net::HTTPServerRequest& in,
                       Poco::Net::HTTPServerResponse& out) override {
      ApiRequest request;
      request.method = in.getMethod();
      Poco::URI uri(in.getURI());
      request.path = uri.getPath();
      for (const auto& [key, value] : uri.getQueryParameters()) request.query[key] = value;
      request.last_event_id = in.get("Last-Event-ID", "");
      ApiResponse response = ErrorResponse(404, "NOT_FOUND", "no route");
      for (const Route& route : api_.routes_) {
        if (route.method == request.method && ::petit::host::testing::MatchRoutePattern(
                                                  route.pattern, request.path, request.params)) {
          response = route.handler(request);
          break;
        }
      }
      out.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(response.status));
      out.setContentType(response.content_type);
      if (!response.stream) {
        out.sendBuffer(response.body.data(), response.body.size());
        return;
      }
      std::string break_at;
      {
        MutexLock lock(api_.mu_);
        if (api_.streams_ == 0) break_at = api_.break_at_;
        api_.last_event_ids_.push_back(request.last_event_id);
      }
      out.setChunkedTransferEncoding(true);
      std::ostream& body = out.send();
      Sink sink(body, api_.stopping_, break_at);
      // Counted once the client can read: the preamble is the stream's first write.
      bool counted = false;
      struct Counting final : StreamSink {
        Sink& inner;
        FakeApi& api;
        bool& counted;
        Counting(Sink& i, FakeApi& a, bool& c) : inner(i), api(a), counted(c) {}
        bool Write(std::string_view bytes) override {
          const bool ok = inner.Write(bytes);
          MutexLock lock(api.mu_);
          if (ok) api.written_ += bytes;
          if (!counted) {
            counted = true;
            ++api.streams_;
          }
          api.cv_.SignalAll();
          return ok;
        }
        bool stopping() const override { return inner.stopping(); }
      } counting(sink, api_, counted);
      response.stream(counting);
    }

   private:
    FakeApi& api_;
  };

  class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(FakeApi& api) : api_(api) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest&) override {
      return new Handler(api_);
    }

   private:
    FakeApi& api_;
  };

  EventJournal* journal_ = nullptr;
  std::vector<Route> routes_;
  std::string break_at_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  mutable Mutex mu_;
  CondVar cv_{mu_};
  int streams_ = 0;
  std::string written_;  // by every stream, in order
  std::vector<std::string> last_event_ids_;
};

std::string RunJson(const RunId& run, const std::string& status, int64_t started_ms,
                    int64_t ended_ms) {
  return "{\"id\":\"" + run.str() + "\",\"job_id\":\"etl\",\"status\":\"" + status +
         "\",\"started_at\":" + std::to_string(started_ms) +
         ",\"ended_at\":" + (ended_ms == 0 ? std::string("null") : std::to_string(ended_ms)) +
         ",\"error\":null}";
}

std::string TaskJson(const std::string& task, const std::string& status, int attempts,
                     int64_t started_ms, int64_t ended_ms, const std::string& error = "") {
  return "{\"task_id\":\"" + task + "\",\"status\":\"" + status +
         "\",\"attempts\":" + std::to_string(attempts) +
         ",\"started_at\":" + (started_ms == 0 ? std::string("null") : std::to_string(started_ms)) +
         ",\"ended_at\":" + (ended_ms == 0 ? std::string("null") : std::to_string(ended_ms)) +
         ",\"error\":" + (error.empty() ? std::string("null") : "\"" + error + "\"") + "}";
}

std::string TasksJson(const std::vector<std::string>& tasks) {
  std::string json = "{\"tasks\":[";
  for (size_t i = 0; i < tasks.size(); ++i) json += (i ? "," : "") + tasks[i];
  return json + "],\"count\":" + std::to_string(tasks.size()) + "}";
}

class WatchCommandTest : public ::testing::Test {
 protected:
  WatchCommandTest()
      : store_(std::move(storage::OpenStateStore("memory:")).value()),
        journal_(bus_, 100),
        api_(journal_, *store_) {
    run_ = RunId::Generate();
    t0_ms_ = run_.unix_ms();
    // In the store the event stream checks run ids against, as the daemon's runs are.
    RunRecord record;
    record.id = run_;
    record.job = JobId("etl");
    record.trigger = "manual";
    record.status = RunStatus::kRunning;
    record.created_us = t0_ms_ * 1000;
    record.started_us = record.created_us;
    EXPECT_TRUE(store_->CreateRun(record).ok());
  }

  void ServeRun(std::function<std::string()> run, std::function<std::string()> tasks) {
    api_.Add("/api/v1/runs/{id}", [this, run](const ApiRequest& request) {
      if (request.Param("id") != run_.str()) return ErrorResponse(404, "NOT_FOUND", "no run");
      return JsonResponse(run());
    });
    api_.Add("/api/v1/runs/{id}/tasks",
             [tasks](const ApiRequest&) { return JsonResponse(tasks()); });
  }

  Event Ev(EventType type, int64_t at_ms, const std::string& task = "", uint32_t attempt = 0,
           std::string detail = "") {
    return Event{.type = type,
                 .time_us = (t0_ms_ + at_ms) * 1000,
                 .job = JobId("etl"),
                 .run = run_,
                 .task = TaskId(task),
                 .attempt = attempt,
                 .detail = std::move(detail)};
  }

  WatchOptions Options() {
    WatchOptions options;
    options.daemon.url = api_.url();
    options.run = run_;
    options.tail_lines = 3;
    return options;
  }

  int Watch(const WatchOptions& options) { return WatchRun(options, out_, err_); }

  EventBus bus_;
  std::unique_ptr<StateStore> store_;
  EventJournal journal_;
  FakeApi api_;
  RunId run_;
  int64_t t0_ms_ = 0;
  std::ostringstream out_;
  std::ostringstream err_;
};

std::string Dur(int64_t ms) { return FormatDuration(ms * 1000); }

TEST_F(WatchCommandTest, PlainLinesOnePerTransitionWithTheFailedTasksTailAndExit1) {
  ServeRun([&] { return RunJson(run_, "running", t0_ms_, 0); },
           [] { return TasksJson({TaskJson("extract", "pending", 0, 0, 0)}); });
  api_.Start();
  // The failed attempt's output, as the run (stored by the fixture) stored it.
  AttemptRecord attempt;
  attempt.run = run_;
  attempt.task = TaskId("load");
  attempt.attempt = 2;
  attempt.state = TaskState::kFailed;
  attempt.queued_us = attempt.started_us = 1;
  attempt.ended_us = 2;
  ASSERT_TRUE(store_->SaveAttempts({&attempt, 1}).ok());
  ASSERT_TRUE(
      store_->AppendLog({run_, TaskId("load"), 2, OutputStream::kStdout, 0, "one\ntwo\nthree\n"})
          .ok());
  ASSERT_TRUE(
      store_->AppendLog({run_, TaskId("load"), 2, OutputStream::kStderr, 1, "four\nfive\n"}).ok());
  // Held by the journal before watch starts: it replays them (run= without an id).
  journal_.Append(Ev(EventType::kJobStarted, 0));
  journal_.Append(Ev(EventType::kTaskQueued, 0, "extract", 1));
  journal_.Append(Ev(EventType::kTaskStarted, 10, "extract", 1));
  journal_.Append(Ev(EventType::kTaskSucceeded, 2010, "extract", 1));
  journal_.Append(Ev(EventType::kTaskStarted, 2020, "load", 1));
  journal_.Append(Ev(EventType::kTaskRetrying, 2030, "load", 1, "exit status 1"));
  journal_.Append(Ev(EventType::kTaskStarted, 3000, "load", 2));
  journal_.Append(Ev(EventType::kTaskFailed, 3500, "load", 2, "exit status 1"));
  journal_.Append(Ev(EventType::kTaskSkipped, 3500, "report", 0, "upstream failed"));
  journal_.Append(Ev(EventType::kJobCompleted, 4000, "", 0, "failed"));

  EXPECT_EQ(Watch(Options()), kExitRunFailed) << err_.str();
  EXPECT_EQ(out_.str(), "run " + run_.str() +
                            "  job etl  running\n"
                            "..   extract  running\n"
                            "ok   extract  succeeded  " +
                            Dur(2000) +
                            "\n"
                            "..   load  running\n"
                            "retry load  attempt 1 failed: exit status 1\n"
                            "..   load  running (attempt 2)\n"
                            "FAIL load  failed (attempt 2)  " +
                            Dur(500) +
                            "  exit status 1\n"
                            "     | three\n"
                            "     | four\n"
                            "     | five\n"
                            "--   report  skipped  upstream failed\n"
                            "run " +
                            run_.str() + " failed in " + Dur(4000) +
                            ": 1 succeeded, 1 failed, 1 not run, 0 cancelled\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(WatchCommandTest, OnATerminalTheTableIsRedrawnInPlaceAndTheTailsFollowIt) {
  ServeRun([&] { return RunJson(run_, "running", t0_ms_, 0); }, [] { return TasksJson({}); });
  api_.Start();
  journal_.Append(Ev(EventType::kJobStarted, 0));
  journal_.Append(Ev(EventType::kTaskStarted, 10, "extract", 1));
  journal_.Append(Ev(EventType::kTaskSucceeded, 2010, "extract", 1));
  journal_.Append(Ev(EventType::kTaskStarted, 2020, "load", 1));
  journal_.Append(Ev(EventType::kTaskFailed, 2520, "load", 1, "exit status 1"));
  journal_.Append(Ev(EventType::kJobCompleted, 3000, "", 0, "failed"));
  WatchOptions options = Options();
  options.in_place = true;
  options.width = 100;
  EXPECT_EQ(Watch(options), kExitRunFailed);
  const std::string out = out_.str();
  // The last table drawn: over the previous one (cursor up its 3 lines), each line cleared.
  const std::string table = "\x1b[2Kfailed  " + Dur(3000) + "  run " + run_.str() +
                            "  job etl\n"
                            "\x1b[2K  ok   extract  succeeded       " +
                            Dur(2000) +
                            "\n"
                            "\x1b[2K  FAIL load     failed          " +
                            Dur(500) + "  exit status 1\n";
  const size_t last = out.rfind("\x1b[3F" + table);
  ASSERT_NE(last, std::string::npos) << out;
  // Then, below it, the failed task's output and the summary.
  EXPECT_EQ(out.substr(last + 4 + table.size()),
            "output of load (attempt 1), last lines:\n"
            "run " +
                run_.str() + " failed in " + Dur(3000) +
                ": 1 succeeded, 1 failed, 0 not run, 0 cancelled\n");
  // Nothing is stored for load's attempt 1 in this test's store: the tail is said to be missing.
  EXPECT_NE(err_.str().find("cannot read the output of load"), std::string::npos) << err_.str();

  // On a narrow terminal no line is wider than it (less one column, against wrapping).
  out_.str("");
  options.width = 40;
  EXPECT_EQ(Watch(options), kExitRunFailed);
  for (size_t at = 0, eol; (eol = out_.str().find('\n', at)) != std::string::npos; at = eol + 1) {
    std::string line = out_.str().substr(at, eol - at);
    const size_t clear = line.rfind("\x1b[2K");
    if (clear == std::string::npos) continue;  // the lines below the table are not cut
    EXPECT_LT(line.size() - clear - 4, 40u) << line;
  }
}

TEST_F(WatchCommandTest, LiveEventsAndAReconnectionThatResumesAfterTheLastEventSeen) {
  ServeRun([&] { return RunJson(run_, "running", t0_ms_, 0); }, [] { return TasksJson({}); });
  api_.BreakFirstStreamAt("id: 3\n");
  api_.Start();
  std::future<int> watch = std::async(std::launch::async, [&] { return Watch(Options()); });
  ASSERT_TRUE(api_.WaitForStreams(1));
  bus_.Publish(Ev(EventType::kJobStarted, 0));
  bus_.Publish(Ev(EventType::kTaskStarted, 5, "extract", 1));
  ASSERT_TRUE(api_.WaitForWritten("id: 2\n"));
  bus_.Publish(Ev(EventType::kTaskSucceeded, 1005, "extract", 1));  // breaks the first stream
  ASSERT_TRUE(api_.WaitForStreams(2));
  bus_.Publish(Ev(EventType::kJobCompleted, 1500, "", 0, "succeeded"));
  EXPECT_EQ(watch.get(), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), "run " + run_.str() +
                            "  job etl  running\n"
                            "..   extract  running\n"
                            "ok   extract  succeeded  " +
                            Dur(1000) +
                            "\n"
                            "run " +
                            run_.str() + " succeeded in " + Dur(1500) +
                            ": 1 succeeded, 0 failed, 0 not run, 0 cancelled\n");
  // The first stream gave ids 1 and 2 before it broke; the second resumed after 2.
  EXPECT_EQ(api_.last_event_ids(), (std::vector<std::string>{"", "2"}));
  EXPECT_NE(err_.str().find("reconnecting"), std::string::npos) << err_.str();
}

TEST_F(WatchCommandTest, AGapIsFilledFromTheStoreAndAnEndedRunEndsTheWatch) {
  // The journal holds only newer events of other runs: the run's are gone.
  int run_reads = 0;
  ServeRun(
      [&] {
        return ++run_reads == 1 ? RunJson(run_, "running", t0_ms_, 0)
                                : RunJson(run_, "succeeded", t0_ms_, t0_ms_ + 3000);
      },
      [&] {
        return run_reads == 1
                   ? TasksJson({TaskJson("extract", "running", 1, t0_ms_, 0)})
                   : TasksJson({TaskJson("extract", "succeeded", 1, t0_ms_, t0_ms_ + 2000)});
      });
  api_.Start();
  for (int i = 0; i < 150; ++i) {
    Event other = Ev(EventType::kTaskStarted, 10 + i, "x", 1);
    other.run = RunId::Generate();
    journal_.Append(other);
  }
  EXPECT_EQ(Watch(Options()), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), "run " + run_.str() +
                            "  job etl  running\n"
                            "..   extract  running\n"
                            "ok   extract  succeeded  " +
                            Dur(2000) +
                            "\n"
                            "run " +
                            run_.str() + " succeeded in " + Dur(3000) +
                            ": 1 succeeded, 0 failed, 0 not run, 0 cancelled\n");
  EXPECT_EQ(api_.streams(), 1);
}

TEST_F(WatchCommandTest, ARunWithoutEventsHereIsFollowedFromTheStore) {
  // Driven by another process (a foreground petit trigger): the daemon's stream stays silent.
  std::atomic<int> run_reads{0};
  ServeRun(
      [&] {
        return ++run_reads < 4 ? RunJson(run_, "running", t0_ms_, 0)
                               : RunJson(run_, "failed", t0_ms_, t0_ms_ + 900);
      },
      [&] {
        return run_reads < 4
                   ? TasksJson({TaskJson("extract", "running", 1, t0_ms_, 0)})
                   : TasksJson({TaskJson("extract", "failed", 1, t0_ms_, t0_ms_ + 800, "boom")});
      });
  api_.Start();
  WatchOptions options = Options();
  options.recheck = std::chrono::milliseconds(1);
  EXPECT_EQ(Watch(options), kExitRunFailed) << err_.str();
  EXPECT_EQ(out_.str(), "run " + run_.str() +
                            "  job etl  running\n"
                            "..   extract  running\n"
                            "FAIL extract  failed  " +
                            Dur(800) +
                            "  boom\n"
                            "run " +
                            run_.str() + " failed in " + Dur(900) +
                            ": 0 succeeded, 1 failed, 0 not run, 0 cancelled\n");
  // The fixture's run has no attempts in the store the logs come from.
  EXPECT_EQ(err_.str(), "petit: cannot read the output of extract: run " + run_.str() +
                            " has no attempt 1 of task extract\n");
}

TEST_F(WatchCommandTest, AnEndedRunIsPrintedFromTheStoreWithoutAStream) {
  ServeRun([&] { return RunJson(run_, "cancelled", t0_ms_, t0_ms_ + 700); },
           [&] {
             return TasksJson(
                 {TaskJson("extract", "succeeded", 1, t0_ms_, t0_ms_ + 100),
                  TaskJson("load", "cancelled", 1, t0_ms_ + 100, t0_ms_ + 700, "cancelled")});
           });
  api_.Start();
  EXPECT_EQ(Watch(Options()), kExitRunFailed);
  EXPECT_EQ(out_.str(), "run " + run_.str() +
                            "  job etl  cancelled\n"
                            "ok   extract  succeeded  " +
                            Dur(100) +
                            "\n"
                            "FAIL load  cancelled  " +
                            Dur(600) +
                            "  cancelled\n"
                            "run " +
                            run_.str() + " cancelled in " + Dur(700) +
                            ": 1 succeeded, 0 failed, 0 not run, 1 cancelled\n");
  EXPECT_EQ(api_.streams(), 0);
}

TEST_F(WatchCommandTest, ARunRefusedBeforeItStartedExits1) {
  ServeRun([&] { return RunJson(run_, "running", t0_ms_, 0); }, [] { return TasksJson({}); });
  api_.Start();
  journal_.Append(
      Ev(EventType::kTriggerRefused, 0, "", 0, "manual trigger: cancelled before it started"));
  EXPECT_EQ(Watch(Options()), kExitRunFailed);
  EXPECT_NE(out_.str().find("did not start: manual trigger: cancelled before it started"),
            std::string::npos)
      << out_.str();
}

TEST_F(WatchCommandTest, UnknownRunIs2AndNoDaemonIs3) {
  ServeRun([&] { return RunJson(run_, "running", t0_ms_, 0); }, [] { return TasksJson({}); });
  api_.Start();
  WatchOptions options = Options();
  options.run = RunId::Generate();
  EXPECT_EQ(Watch(options), kExitUsage);
  EXPECT_EQ(err_.str(),
            "petit: no run " + options.run.str() + " on the daemon at " + api_.url() + "\n");

  const std::string url = api_.url();
  api_.Stop();
  err_.str("");
  options.daemon.url = url;
  // The port is closed now (nothing else listens on a port the kernel just gave out).
  EXPECT_EQ(Watch(options), kExitHostError);
  EXPECT_EQ(err_.str(), "petit: no daemon answers at " + url + " (is `petit run` running?)\n");
}

TEST_F(WatchCommandTest, ARefusedTokenIs2WithTheDaemonsMessage) {
  api_.Add("/api/v1/runs/{id}", [](const ApiRequest&) {
    return ErrorResponse(401, "UNAUTHORIZED", "missing or invalid token");
  });
  api_.Start();
  EXPECT_EQ(Watch(Options()), kExitUsage);
  EXPECT_EQ(err_.str(), "petit: missing or invalid token\n");
}

TEST(SseParserTest, FieldsDataLinesCommentsAndDispatch) {
  SseParser parser;
  std::vector<SseMessage> got;
  auto dispatch = [&](SseMessage&& m) { got.push_back(std::move(m)); };
  for (std::string_view line :
       {"retry: 2000", "", ": ping", "", "id: 7", "event: task_started", "data: {\"a\":1}", "",
        "data: x", "data:y", "", "id: 9", "event: gap", ""}) {
    parser.FeedLine(line, dispatch);
  }
  ASSERT_EQ(got.size(), 2u);  // an event without data is not dispatched
  EXPECT_EQ(got[0].id, "7");
  EXPECT_EQ(got[0].type, "task_started");
  EXPECT_EQ(got[0].data, "{\"a\":1}");
  EXPECT_EQ(got[1].type, "message");
  EXPECT_EQ(got[1].data, "x\ny");
}

}  // namespace
}  // namespace petit::host
