// /api/v1 on a real Daemon: each route's answer, and the classes of bad input (malformed and
// unknown ids, unknown query parameters and body fields, bodies of the wrong type, operations the
// run's state forbids, a job at its limit).
#include "api/v1_routes.h"

#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/api_json.h"
#include "api/api_test_support.h"

namespace petit::host {
namespace {

using ::petit::host::testing::Call;
using ::petit::host::testing::ExpectError;
using ::petit::host::testing::Gate;
using ::petit::host::testing::Keys;
using ::petit::host::testing::Object;
using ::petit::host::testing::RunEnds;
using ::petit::host::testing::ScratchDir;
using ::petit::host::testing::Serve;
using ::testing::HasSubstr;
using ::testing::Not;
using Set = std::set<std::string>;
using Strings = std::map<std::string, std::string, std::less<>>;

const Set kRunKeys = {"id",         "job_id",     "status",       "trigger",     "owner",
                      "created_at", "started_at", "ended_at",     "duration_ms", "error",
                      "retries",    "retried_at", "occurrence_at"};
const Set kJobKeys = {
    "id",       "name",     "description", "enabled",         "paused",       "scheduled",
    "schedule", "timezone", "task_count",  "max_active_runs", "next_fire_at", "last_success_at",
    "last_run"};

class V1RoutesTest : public ::testing::Test {
 protected:
  void Start(const std::vector<std::string>& yamls, const HostOptions* host = nullptr) {
    Result<std::unique_ptr<Daemon>> daemon =
        Daemon::Start(testing::MemoryHost(), testing::Jobs(yamls), log_);
    ASSERT_TRUE(daemon.ok()) << daemon.status().message();
    daemon_ = std::move(daemon).value();
    ends_ = std::make_unique<RunEnds>(daemon_->events());
    routes_ = V1Routes(*daemon_, host);
  }
  void TearDown() override {
    ends_.reset();
    if (daemon_) daemon_->Stop(StopMode::kCancelRuns);
  }
  ApiResponse Get(const std::string& pattern, Strings params = {}, Strings query = {}) {
    return Serve(routes_,
                 Call{.method = "GET", .pattern = pattern, .params = params, .query = query});
  }
  ApiResponse Post(const std::string& pattern, Strings params = {}, std::string body = "",
                   std::string content_type = "application/json") {
    return Serve(routes_, Call{.method = "POST",
                               .pattern = pattern,
                               .params = params,
                               .body = body,
                               .content_type = content_type});
  }
  std::string Trigger(const std::string& job, const std::string& body = "") {
    ApiResponse response = Post("/api/v1/jobs/{id}/trigger", {{"id", job}}, body);
    EXPECT_EQ(response.status, 202) << response.body;
    auto triggered = Object(response);
    EXPECT_EQ(Keys(*triggered), (Set{"run_id", "job_id"}));
    return triggered->optValue<std::string>("run_id", "");
  }
  // The run's captured stdout, all attempts.
  std::string Output(const std::string& run) {
    Result<RunId> id = RunId::Parse(run);
    EXPECT_TRUE(id.ok());
    Result<std::vector<LogChunk>> chunks = daemon_->store().ReadLogs(*id, LogQuery{});
    EXPECT_TRUE(chunks.ok());
    std::string text;
    for (const LogChunk& chunk : *chunks) text += chunk.data;
    return text;
  }

  ScratchDir scratch_;
  DaemonLog log_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<RunEnds> ends_;
  std::vector<Route> routes_;
};

constexpr const char* kTwo = R"(id: two
max_active_runs: 0
tasks:
  - id: a
    type: noop
  - id: b
    type: noop
    depends_on: [a]
)";

constexpr const char* kFailing = R"(id: failing
max_active_runs: 0
tasks:
  - id: boom
    type: command
    command: "false"
  - id: after
    type: noop
    depends_on: [boom]
)";

constexpr const char* kSecrets = R"(id: secrets
description: holds secrets
schedule: "0 3 * * *"
max_active_runs: 0
config:
  password: hunter2
  greeting: hello
tasks:
  - id: say
    type: command
    command: sh
    args: ["-c", "echo ${{ config.greeting }}"]
    environment:
      API_TOKEN: s3cret-token
)";

TEST_F(V1RoutesTest, HealthHasItsPartsAndIsDegradedOnceStopping) {
  Start({kTwo});
  ApiResponse response = Get("/api/v1/health");
  EXPECT_EQ(response.status, 200) << response.body;
  auto health = Object(response);
  EXPECT_EQ(Keys(*health), (Set{"status", "version", "store", "scheduler", "active_runs"}));
  EXPECT_EQ(health->getValue<std::string>("status"), "ok");
  auto store = health->getObject("store");
  EXPECT_EQ(Keys(*store), (Set{"reachable", "down_since_at", "pending_writes", "last_error"}));
  EXPECT_TRUE(store->getValue<bool>("reachable"));
  EXPECT_TRUE(store->isNull("down_since_at"));
  auto scheduler = health->getObject("scheduler");
  EXPECT_EQ(Keys(*scheduler), (Set{"paused", "last_tick_at", "alive", "stopping"}));
  EXPECT_TRUE(scheduler->getValue<bool>("alive"));
  EXPECT_GT(scheduler->getValue<int64_t>("last_tick_at"), 1'600'000'000'000);
  EXPECT_FALSE(scheduler->getValue<bool>("paused"));

  ASSERT_EQ(Post("/api/v1/scheduler/pause").status, 200);
  auto paused = Object(Get("/api/v1/health"));
  EXPECT_TRUE(paused->getObject("scheduler")->getValue<bool>("paused"));
  EXPECT_EQ(paused->getValue<std::string>("status"), "ok");  // paused is not unhealthy

  daemon_->Stop(StopMode::kCancelRuns);
  ApiResponse stopped = Get("/api/v1/health");
  EXPECT_EQ(stopped.status, 503);
  auto degraded = Object(stopped);
  EXPECT_EQ(degraded->getValue<std::string>("status"), "degraded");
  EXPECT_FALSE(degraded->getObject("scheduler")->getValue<bool>("alive"));
  EXPECT_TRUE(degraded->getObject("scheduler")->getValue<bool>("stopping"));
}

TEST_F(V1RoutesTest, SchedulerPauseAndResumeAnswerTheSchedulerObject) {
  Start({kTwo, kSecrets});
  auto scheduler = Object(Get("/api/v1/scheduler"));
  EXPECT_EQ(Keys(*scheduler), (Set{"paused", "stopping", "jobs", "scheduled_jobs", "active_runs",
                                   "fired", "refused", "last_tick_at", "alive", "paused_jobs"}));
  EXPECT_EQ(scheduler->getValue<int>("jobs"), 2);
  EXPECT_EQ(scheduler->getValue<int>("scheduled_jobs"), 1);
  ApiResponse paused = Post("/api/v1/scheduler/pause");
  EXPECT_EQ(paused.status, 200);
  EXPECT_TRUE(Object(paused)->getValue<bool>("paused"));
  EXPECT_FALSE(Object(Post("/api/v1/scheduler/resume"))->getValue<bool>("paused"));
  daemon_->Stop(StopMode::kCancelRuns);
  ExpectError(Post("/api/v1/scheduler/pause"), 503, "SERVICE_UNAVAILABLE", "stopping");
}

TEST_F(V1RoutesTest, JobsListTheirSummaryAndTheDefinitionHidesSecrets) {
  Start({kTwo, kSecrets});
  const std::string run = Trigger("two");
  ASSERT_TRUE(ends_->WaitFor(run));

  auto list = Object(Get("/api/v1/jobs"));
  EXPECT_EQ(list->getValue<int>("count"), 2);
  auto jobs = list->getArray("jobs");
  ASSERT_EQ(jobs->size(), 2u);
  auto secrets = jobs->getObject(0);
  auto two = jobs->getObject(1);
  EXPECT_EQ(Keys(*secrets), kJobKeys);
  EXPECT_EQ(Keys(*two), kJobKeys);
  EXPECT_EQ(secrets->getValue<std::string>("schedule"), "0 3 * * *");
  EXPECT_EQ(secrets->getValue<std::string>("timezone"), "UTC");
  EXPECT_FALSE(secrets->isNull("next_fire_at"));
  EXPECT_TRUE(secrets->isNull("last_run"));
  EXPECT_TRUE(secrets->isNull("last_success_at"));
  EXPECT_TRUE(two->isNull("schedule"));
  EXPECT_TRUE(two->isNull("next_fire_at"));
  EXPECT_TRUE(two->isNull("description"));
  EXPECT_EQ(two->getValue<int>("max_active_runs"), 0);
  auto last = two->getObject("last_run");
  ASSERT_FALSE(last.isNull());
  EXPECT_EQ(last->getValue<std::string>("id"), run);
  EXPECT_EQ(last->getValue<std::string>("status"), "succeeded");
  EXPECT_EQ(two->getValue<int64_t>("last_success_at"), last->getValue<int64_t>("ended_at"));

  ApiResponse detail = Get("/api/v1/jobs/{id}", {{"id", "secrets"}});
  EXPECT_EQ(detail.status, 200);
  EXPECT_THAT(detail.body, Not(HasSubstr("hunter2")));
  EXPECT_THAT(detail.body, Not(HasSubstr("s3cret-token")));
  auto job = Object(detail);
  auto definition = job->getObject("definition");
  EXPECT_EQ(definition->getObject("config")->getValue<std::string>("password"), "***");
  EXPECT_FALSE(definition->getValue<bool>("config_visible"));
  auto task = definition->getArray("tasks")->getObject(0);
  EXPECT_EQ(task->getValue<std::string>("type"), "command");
  EXPECT_EQ(task->getValue<std::string>("trigger_rule"), "all_success");
  EXPECT_EQ(task->getObject("params")->getObject("environment")->getValue<std::string>("API_TOKEN"),
            "***");
  EXPECT_EQ(task->getObject("params")->getValue<std::string>("command"), "sh");
  auto fires = job->getArray("next_fires_at");
  ASSERT_EQ(fires->size(), 5u);
  EXPECT_EQ(fires->getElement<int64_t>(0), job->getValue<int64_t>("next_fire_at"));
  for (unsigned i = 1; i < 5; ++i) {
    EXPECT_EQ(fires->getElement<int64_t>(i) - fires->getElement<int64_t>(i - 1), 86'400'000);
  }
  EXPECT_EQ(Object(Get("/api/v1/jobs/{id}", {{"id", "two"}}))->getArray("next_fires_at")->size(),
            0u);
}

TEST_F(V1RoutesTest, AJobShowsWhatItsApiVisibleLists) {
  const std::string secrets = kSecrets;
  Start(
      {"id: open\napi_visible: [config, environment]\n" + secrets.substr(secrets.find('\n') + 1)});
  ApiResponse detail = Get("/api/v1/jobs/{id}", {{"id", "open"}});
  EXPECT_THAT(detail.body, HasSubstr("hunter2"));
  EXPECT_THAT(detail.body, HasSubstr("s3cret-token"));
  EXPECT_TRUE(Object(detail)->getObject("definition")->getValue<bool>("config_visible"));
}

TEST_F(V1RoutesTest, PauseAndResumeOneJob) {
  Start({kSecrets});
  auto paused = Object(Post("/api/v1/jobs/{id}/pause", {{"id", "secrets"}}));
  EXPECT_EQ(Keys(*paused), kJobKeys);
  EXPECT_TRUE(paused->getValue<bool>("paused"));
  EXPECT_TRUE(paused->isNull("next_fire_at"));
  EXPECT_TRUE(Object(Get("/api/v1/jobs/{id}", {{"id", "secrets"}}))->getValue<bool>("paused"));
  auto listed = Object(Get("/api/v1/scheduler"))->getArray("paused_jobs");
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->getElement<std::string>(0), "secrets");
  auto resumed = Object(Post("/api/v1/jobs/{id}/resume", {{"id", "secrets"}}));
  EXPECT_FALSE(resumed->getValue<bool>("paused"));
  EXPECT_FALSE(resumed->isNull("next_fire_at"));
  EXPECT_EQ(Object(Get("/api/v1/scheduler"))->getArray("paused_jobs")->size(), 0u);
}

TEST_F(V1RoutesTest, UnknownJobsAreNotFoundWithTheClosestId) {
  Start({kSecrets});
  for (const char* pattern : {"/api/v1/jobs/{id}"}) {
    ExpectError(Get(pattern, {{"id", "secret"}}), 404, "NOT_FOUND",
                "no job 'secret' (did you mean 'secrets'?)");
  }
  for (const char* pattern :
       {"/api/v1/jobs/{id}/pause", "/api/v1/jobs/{id}/resume", "/api/v1/jobs/{id}/trigger"}) {
    ExpectError(Post(pattern, {{"id", "secretz"}}), 404, "NOT_FOUND", "did you mean 'secrets'?");
    ExpectError(Post(pattern, {{"id", "zzzzzzzzzz"}}), 404, "NOT_FOUND", "no job 'zzzzzzzzzz'");
  }
}

TEST_F(V1RoutesTest, TriggerParamsOverrideTheConfigForThatRunOnly) {
  Start({kSecrets});
  const std::string with = Trigger("secrets", R"({"params": {"greeting": "bonjour"}})");
  ASSERT_TRUE(ends_->WaitFor(with));
  EXPECT_EQ(Output(with), "bonjour\n");
  const std::string number = Trigger("secrets", R"({"params": {"greeting": 42}})");
  ASSERT_TRUE(ends_->WaitFor(number));
  EXPECT_EQ(Output(number), "42\n");
  const std::string boolean = Trigger("secrets", R"({"params": {"greeting": true}})");
  ASSERT_TRUE(ends_->WaitFor(boolean));
  EXPECT_EQ(Output(boolean), "true\n");
  const std::string plain = Trigger("secrets");
  ASSERT_TRUE(ends_->WaitFor(plain));
  EXPECT_EQ(Output(plain), "hello\n");
  auto run = Object(Get("/api/v1/runs/{id}", {{"id", plain}}));
  EXPECT_EQ(run->getValue<std::string>("trigger"), "api");
}

TEST_F(V1RoutesTest, TriggerRefusesBadBodiesNamingTheField) {
  Start({kSecrets});
  const Strings id = {{"id", "secrets"}};
  ExpectError(Post("/api/v1/jobs/{id}/trigger", id, R"({"params": {"greting": "x"}})"), 400,
              "BAD_REQUEST", "no config key 'greting' (did you mean 'greeting'?)");
  ExpectError(Post("/api/v1/jobs/{id}/trigger", id, R"({"params": {"zzzzzzzz": "x"}})"), 400,
              "BAD_REQUEST", "'zzzzzzzz'");
  for (const char* value : {"null", "{}", "[1]"}) {
    ExpectError(Post("/api/v1/jobs/{id}/trigger", id,
                     std::string(R"({"params": {"greeting": )") + value + "}}"),
                400, "BAD_REQUEST", "params.greeting");
  }
  for (const char* params : {"\"x\"", "[]", "3"}) {
    ExpectError(Post("/api/v1/jobs/{id}/trigger", id, std::string(R"({"params": )") + params + "}"),
                400, "BAD_REQUEST", "'params'");
  }
  ExpectError(Post("/api/v1/jobs/{id}/trigger", id, R"({"parms": {}})"), 400, "BAD_REQUEST",
              "unknown field 'parms' in the body (did you mean 'params'?)");
  // A NUL cannot reach a command line or an environment value.
  ExpectError(Post("/api/v1/jobs/{id}/trigger", id, R"({"params": {"greeting": "a\u0000b"}})"), 400,
              "BAD_REQUEST", "params.greeting");
  for (const char* body : {"{", "[]", "\"params\"", "{\"params\": {}} x", "nul"}) {
    ExpectError(Post("/api/v1/jobs/{id}/trigger", id, body), 400, "BAD_REQUEST", "body");
  }
  for (const char* body : {"null", " 3", "[{}]", "true"}) {
    ExpectError(Post("/api/v1/jobs/{id}/trigger", id, body), 400, "BAD_REQUEST",
                "the body must be a JSON object");
  }
  // A key given twice means nothing to act on, at the top or inside params.
  ExpectError(Post("/api/v1/jobs/{id}/trigger", id, R"({"params": {}, "params": {}})"), 400,
              "BAD_REQUEST", "the body gives the key 'params' more than once");
  ExpectError(
      Post("/api/v1/jobs/{id}/trigger", id, R"({"params": {"greeting": "a", "greeting": "b"}})"),
      400, "BAD_REQUEST", "the body gives the key 'greeting' more than once");
  ExpectError(
      Post("/api/v1/jobs/{id}/trigger", id, "params=x", "application/x-www-form-urlencoded"), 415,
      "UNSUPPORTED_MEDIA_TYPE", "application/json");
  EXPECT_EQ(Post("/api/v1/jobs/{id}/trigger", id, "{}").status, 202);
}

TEST_F(V1RoutesTest, TriggerAtTheJobsLimitIsTooManyRequests) {
  Gate gate(scratch_.path() / "gate");
  Start({"id: slow\nmax_concurrency: 1\ntasks:\n" + gate.Task("wait")});
  const std::string run = Trigger("slow");
  ExpectError(Post("/api/v1/jobs/{id}/trigger", {{"id", "slow"}}), 429, "TOO_MANY_REQUESTS",
              "slow");
  gate.Release();
  ASSERT_TRUE(ends_->WaitFor(run));
}

TEST_F(V1RoutesTest, RunsAnswerEveryFieldAndRefuseBadIds) {
  Start({kTwo});
  const std::string run = Trigger("two");
  ASSERT_TRUE(ends_->WaitFor(run));
  auto record = Object(Get("/api/v1/runs/{id}", {{"id", run}}));
  EXPECT_EQ(Keys(*record), kRunKeys);
  EXPECT_EQ(record->getValue<std::string>("status"), "succeeded");
  EXPECT_EQ(record->getValue<int>("retries"), 0);
  EXPECT_TRUE(record->isNull("occurrence_at"));
  EXPECT_TRUE(record->isNull("retried_at"));
  EXPECT_TRUE(record->isNull("error"));
  EXPECT_EQ(record->getValue<int64_t>("duration_ms"),
            record->getValue<int64_t>("ended_at") - record->getValue<int64_t>("started_at"));

  auto tasks = Object(Get("/api/v1/runs/{id}/tasks", {{"id", run}}));
  EXPECT_EQ(tasks->getValue<int>("count"), 2);
  EXPECT_EQ(Keys(*tasks->getArray("tasks")->getObject(0)),
            (Set{"task_id", "status", "attempts", "started_at", "ended_at", "duration_ms",
                 "exit_code", "error"}));
  auto attempts = Object(Get("/api/v1/runs/{id}/attempts", {{"id", run}}));
  EXPECT_EQ(attempts->getValue<int>("count"), 2);
  auto attempt = attempts->getArray("attempts")->getObject(0);
  EXPECT_EQ(Keys(*attempt), (Set{"task_id", "attempt", "status", "queued_at", "started_at",
                                 "ended_at", "duration_ms", "exit_code", "error", "outputs"}));
  EXPECT_EQ(attempt->getValue<int>("attempt"), 1);
  EXPECT_EQ(attempt->getValue<std::string>("status"), "succeeded");
  EXPECT_FALSE(attempt->getObject("outputs").isNull());

  const std::string unknown = RunId::GenerateAt(1).str();
  for (const char* pattern :
       {"/api/v1/runs/{id}", "/api/v1/runs/{id}/tasks", "/api/v1/runs/{id}/attempts"}) {
    for (const char* bad : {"nope", "1", "0190abcd-0000-7000-8000-00000000000", "../x"}) {
      ExpectError(Get(pattern, {{"id", bad}}), 400, "BAD_REQUEST", "malformed run id");
    }
    ExpectError(Get(pattern, {{"id", unknown}}), 404, "NOT_FOUND", unknown);
    ExpectError(Get(pattern, {{"id", run}}, {{"limt", "1"}}), 400, "BAD_REQUEST",
                "unknown query parameter 'limt'");
  }
  for (const char* pattern : {"/api/v1/runs/{id}/cancel", "/api/v1/runs/{id}/retry"}) {
    ExpectError(Post(pattern, {{"id", "nope"}}), 400, "BAD_REQUEST", "malformed run id");
    ExpectError(Post(pattern, {{"id", unknown}}), 404, "NOT_FOUND", unknown);
  }
}

TEST_F(V1RoutesTest, RunsAreListedNewestFirstFilteredAndPagedByCursor) {
  Start({kTwo, kFailing});
  std::vector<std::string> runs;
  for (int i = 0; i < 5; ++i) runs.push_back(Trigger("two"));
  runs.push_back(Trigger("failing"));
  for (const std::string& run : runs) ASSERT_TRUE(ends_->WaitFor(run));

  // Every run, two at a time, newest first, until next_cursor is null.
  std::vector<std::string> seen;
  Strings query = {{"limit", "2"}};
  for (int page = 0; page < 10; ++page) {
    auto answer = Object(Get("/api/v1/runs", {}, query));
    EXPECT_EQ(Keys(*answer), (Set{"runs", "next_cursor"}));
    auto list = answer->getArray("runs");
    EXPECT_LE(list->size(), 2u);
    for (unsigned i = 0; i < list->size(); ++i) {
      EXPECT_EQ(Keys(*list->getObject(i)), kRunKeys);
      seen.push_back(list->getObject(i)->getValue<std::string>("id"));
    }
    if (answer->isNull("next_cursor")) break;
    query["cursor"] = answer->getValue<std::string>("next_cursor");
  }
  EXPECT_EQ(seen, std::vector<std::string>(runs.rbegin(), runs.rend()));

  auto failed = Object(Get("/api/v1/runs", {}, {{"status", "failed,cancelled"}}));
  ASSERT_EQ(failed->getArray("runs")->size(), 1u);
  EXPECT_EQ(failed->getArray("runs")->getObject(0)->getValue<std::string>("id"), runs.back());
  EXPECT_TRUE(failed->isNull("next_cursor"));
  EXPECT_EQ(Object(Get("/api/v1/runs", {}, {{"job", "two"}}))->getArray("runs")->size(), 5u);
  EXPECT_EQ(Object(Get("/api/v1/runs", {}, {{"job", "nope"}}))->getArray("runs")->size(), 0u);
  auto first = Object(Get("/api/v1/runs/{id}", {{"id", runs.front()}}));
  const std::string created = std::to_string(first->getValue<int64_t>("created_at"));
  auto until = Object(Get("/api/v1/runs", {}, {{"until", created}}));
  EXPECT_EQ(until->getArray("runs")->size(), 0u);
  auto since = Object(Get("/api/v1/runs", {}, {{"since", created}}));
  EXPECT_EQ(since->getArray("runs")->size(), runs.size());

  ExpectError(Get("/api/v1/runs", {}, {{"status", "faild"}}), 400, "BAD_REQUEST",
              "unknown run status 'faild' in 'status' (did you mean 'failed'?)");
  ExpectError(Get("/api/v1/runs", {}, {{"status", "failed,"}}), 400, "BAD_REQUEST", "''");
  for (const char* limit : {"0", "1001", "-1", "x", ""}) {
    ExpectError(Get("/api/v1/runs", {}, {{"limit", limit}}), 400, "BAD_REQUEST", "'limit'");
  }
  for (const char* key : {"since", "until"}) {
    for (const char* bad : {"-5", "yesterday", "1e3", "99999999999999999999"}) {
      ExpectError(Get("/api/v1/runs", {}, {{key, bad}}), 400, "BAD_REQUEST", key);
    }
  }
  ExpectError(Get("/api/v1/runs", {}, {{"since", "2000"}, {"until", "1999"}}), 400, "BAD_REQUEST",
              "'since' is after 'until'");
  EXPECT_EQ(Get("/api/v1/runs", {}, {{"since", "2000"}, {"until", "2000"}}).status, 200);
  for (const std::string& job :
       {std::string(), std::string("a/b"), std::string(".."), std::string("a\0b", 3)}) {
    ExpectError(Get("/api/v1/runs", {}, {{"job", job}}), 400, "BAD_REQUEST", "'job'");
  }
  ExpectError(Get("/api/v1/runs", {}, {{"cursor", "garbage"}}), 400, "BAD_REQUEST", "'cursor'");
  ExpectError(Get("/api/v1/runs", {}, {{"jobs", "two"}}), 400, "BAD_REQUEST",
              "unknown query parameter 'jobs' (did you mean 'job'?)");
}

TEST_F(V1RoutesTest, CancelStopsAnActiveRunAndConflictsOnceEnded) {
  Gate gate(scratch_.path() / "gate");
  Start({"id: slow\ntasks:\n" + gate.Task("wait")});
  const std::string run = Trigger("slow");
  ApiResponse response = Post("/api/v1/runs/{id}/cancel", {{"id", run}});
  EXPECT_EQ(response.status, 202) << response.body;
  EXPECT_EQ(response.body, R"({"run_id":")" + run + R"(","status":"cancelling"})");
  ASSERT_TRUE(ends_->WaitFor(run));
  EXPECT_EQ(Object(Get("/api/v1/runs/{id}", {{"id", run}}))->getValue<std::string>("status"),
            "cancelled");
  ExpectError(Post("/api/v1/runs/{id}/cancel", {{"id", run}}), 409, "CONFLICT",
              "has already ended (cancelled)");
}

TEST_F(V1RoutesTest, RetryReturnsThePlanAndRunsIt) {
  Start({kFailing});
  const std::string run = Trigger("failing");
  ASSERT_TRUE(ends_->WaitFor(run));
  const Strings id = {{"id", run}};

  ApiResponse dry = Post("/api/v1/runs/{id}/retry", id, R"({"dry_run": true})");
  EXPECT_EQ(dry.status, 200) << dry.body;
  auto planned = Object(dry);
  EXPECT_EQ(Keys(*planned), (Set{"run_id", "job_id", "dry_run", "plan"}));
  EXPECT_TRUE(planned->getValue<bool>("dry_run"));
  auto plan = planned->getObject("plan");
  EXPECT_EQ(plan->getValue<int>("run_count"), 2);
  auto first = plan->getArray("tasks")->getObject(0);
  EXPECT_EQ(first->getValue<std::string>("task_id"), "boom");
  EXPECT_EQ(first->getValue<std::string>("action"), "run");
  EXPECT_EQ(first->getValue<std::string>("last_state"), "failed");
  EXPECT_EQ(Object(Get("/api/v1/runs/{id}", id))->getValue<std::string>("status"), "failed");

  auto only = Object(Post("/api/v1/runs/{id}/retry", id, R"({"task": "after", "dry_run": true})"));
  EXPECT_EQ(only->getObject("plan")->getValue<int>("run_count"), 1);

  ApiResponse started = Post("/api/v1/runs/{id}/retry", id, R"({"from": "boom"})");
  EXPECT_EQ(started.status, 202) << started.body;
  EXPECT_FALSE(Object(started)->getValue<bool>("dry_run"));
}

TEST_F(V1RoutesTest, RetryRefusesBadBodiesAndRunsThatHaveNotEnded) {
  Gate gate(scratch_.path() / "gate");
  Start({kFailing, "id: slow\ntasks:\n" + gate.Task("wait")});
  const std::string failed = Trigger("failing");
  ASSERT_TRUE(ends_->WaitFor(failed));
  const Strings id = {{"id", failed}};
  ExpectError(Post("/api/v1/runs/{id}/retry", id, R"({"from": "bom"})"), 400, "BAD_REQUEST",
              "no task 'bom' in job 'failing' (did you mean 'boom'?)");
  ExpectError(Post("/api/v1/runs/{id}/retry", id, R"({"task": "nope", "dry_run": true})"), 400,
              "BAD_REQUEST", "nope");
  ExpectError(Post("/api/v1/runs/{id}/retry", id, R"({"from": "boom", "task": "after"})"), 400,
              "BAD_REQUEST", "exclude each other");
  ExpectError(Post("/api/v1/runs/{id}/retry", id, R"({"dry_run": "yes"})"), 400, "BAD_REQUEST",
              "field 'dry_run'");
  ExpectError(Post("/api/v1/runs/{id}/retry", id, R"({"from": 3})"), 400, "BAD_REQUEST",
              "field 'from'");
  ExpectError(Post("/api/v1/runs/{id}/retry", id, R"({"dryrun": true})"), 400, "BAD_REQUEST",
              "did you mean 'dry_run'?");

  const std::string running = Trigger("slow");
  ExpectError(Post("/api/v1/runs/{id}/retry", {{"id", running}}), 409, "CONFLICT", "");
  ExpectError(Post("/api/v1/runs/{id}/retry", {{"id", running}}, R"({"dry_run": true})"), 409,
              "CONFLICT", "");
  gate.Release();
  ASSERT_TRUE(ends_->WaitFor(running));
  // Succeeded: nothing failed to retry.
  ExpectError(Post("/api/v1/runs/{id}/retry", {{"id", running}}), 409, "CONFLICT", "");
}

TEST_F(V1RoutesTest, ReloadAnswersWhatChanged) {
  ScratchDir dir;
  {
    std::ofstream(dir.path() / "two.yaml") << kTwo;
    std::ofstream(dir.path() / "new.yaml") << "id: added\ntasks: [{id: a, type: noop}]\n";
  }
  HostOptions host;
  host.jobs_dir = dir.path().string();
  host.storage_uri = "memory:";
  Start({kTwo}, &host);
  ApiResponse response = Post("/api/v1/reload");
  EXPECT_EQ(response.status, 200) << response.body;
  auto summary = Object(response);
  EXPECT_EQ(Keys(*summary),
            (Set{"added", "changed", "removed", "kept", "unchanged", "errors", "needs_restart"}));
  ASSERT_EQ(summary->getArray("added")->size(), 1u);
  EXPECT_EQ(summary->getArray("added")->getElement<std::string>(0), "added");
  EXPECT_EQ(summary->getValue<int>("errors"), 0);
  EXPECT_EQ(Object(Get("/api/v1/jobs"))->getValue<int>("count"), 2);
}

TEST_F(V1RoutesTest, ReloadWithoutTheHostOptionsIsUnavailable) {
  Start({kTwo});
  ExpectError(Post("/api/v1/reload"), 503, "SERVICE_UNAVAILABLE", "reload");
}

TEST_F(V1RoutesTest, EveryRouteRefusesUnknownQueryParameters) {
  Start({kTwo});
  for (const Route& route : routes_) {
    if (route.pattern == "/api/v1/runs") continue;  // its own parameters, tested apart
    Call call{.method = route.method, .pattern = route.pattern, .query = {{"bogus", "1"}}};
    call.params = {{"id", route.pattern.find("/runs/") != std::string::npos
                              ? RunId::GenerateAt(1).str()
                              : std::string("two")}};
    ExpectError(Serve(routes_, call), 400, "BAD_REQUEST", "unknown query parameter 'bogus'");
  }
}

TEST_F(V1RoutesTest, EveryPostRefusesBodiesItCannotRead) {
  Start({kTwo});
  for (const Route& route : routes_) {
    if (route.method != "POST") continue;
    for (const char* body : {"[", "[]", "{\"bogus\": 1}", "\"x\"", "{} x"}) {
      Call call{.method = "POST", .pattern = route.pattern, .body = body};
      call.params = {{"id", route.pattern.find("/runs/") != std::string::npos
                                ? RunId::GenerateAt(1).str()
                                : std::string("two")}};
      ExpectError(Serve(routes_, call), 400, "BAD_REQUEST", "body");
    }
  }
}

TEST_F(V1RoutesTest, ReadsNeedTheReadTokenWritesTheOperatorsAndHealthNone) {
  Start({kTwo});
  for (const Route& route : routes_) {
    const Access expected = route.pattern == "/api/v1/health" ? Access::kPublic
                            : route.method == "POST"          ? Access::kOperate
                                                              : Access::kRead;
    EXPECT_EQ(route.access, expected) << route.method << " " << route.pattern;
    EXPECT_FALSE(route.summary.empty()) << route.pattern;
  }
}

TEST(ApiJsonTest, EachStatusCodeMapsToOneHttpStatus) {
  EXPECT_EQ(HttpStatusOf(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusOf(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(StatusCode::kFailedPrecondition), 409);
  EXPECT_EQ(HttpStatusOf(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusOf(StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusOf(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusOf(StatusCode::kDataLoss), 500);
  ApiResponse response = StatusResponse(ResourceExhausted("at the limit"));
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(response.body, R"({"error":"at the limit","code":"TOO_MANY_REQUESTS"})");
}

TEST(ApiJsonTest, EveryStateHasTheOriginalsWordAndItsOwn) {
  const std::map<RunStatus, std::string> runs = {
      {RunStatus::kQueued, "pending"},      {RunStatus::kRunning, "running"},
      {RunStatus::kSucceeded, "completed"}, {RunStatus::kFailed, "failed"},
      {RunStatus::kCancelled, "cancelled"}, {RunStatus::kInterrupted, "interrupted"}};
  for (const auto& [status, word] : runs) {
    EXPECT_EQ(RunStatusWord(status, Vocabulary::kCompat), word);
    EXPECT_EQ(RunStatusWord(status, Vocabulary::kPetit), RunStatusName(status));
  }
  const std::map<TaskState, std::string> tasks = {
      {TaskState::kPending, "pending"},       {TaskState::kQueued, "pending"},
      {TaskState::kRunning, "running"},       {TaskState::kSucceeded, "completed"},
      {TaskState::kFailed, "failed"},         {TaskState::kCancelled, "failed"},
      {TaskState::kInterrupted, "failed"},    {TaskState::kSkipped, "skipped"},
      {TaskState::kUpstreamFailed, "skipped"}};
  for (const auto& [state, word] : tasks) {
    EXPECT_EQ(TaskStateWord(state, Vocabulary::kCompat), word);
    EXPECT_EQ(TaskStateWord(state, Vocabulary::kPetit), TaskStateName(state));
  }
}

TEST(ApiJsonTest, RedactionHidesEveryEnvironmentValueAndKeepsTheRest) {
  EXPECT_EQ(
      RedactedParams(R"({"command":"x","environment":{"A":"1","B":"2"},"env":{"C":"3"}})", false),
      R"({"command":"x","environment":{"A":"***","B":"***"},"env":{"C":"***"}})");
  EXPECT_EQ(RedactedParams(R"({"environment":{"A":"1"}})", true), R"({"environment":{"A":"1"}})");
  EXPECT_EQ(RedactedParams("not json", false), "{}");
  EXPECT_EQ(RedactedParams("[1]", false), "[1]");
}

TEST(ApiJsonTest, TextIsAlwaysValidJson) {
  JsonWriter json;
  json.BeginObject().Key("k\xff").String("a\"b\n\xc3").Key("n").Null().EndObject();
  EXPECT_EQ(json.Take(), "{\"k\xef\xbf\xbd\":\"a\\\"b\\n\xef\xbf\xbd\",\"n\":null}");
}

}  // namespace
}  // namespace petit::host
