// The original Petit's ten endpoints, checked against the shapes its source documents: every
// field present with its type, null where absent, its status words and error answers.
#include "api/compat_routes.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
using Set = std::set<std::string>;

const Set kRunKeys = {"id", "job_id", "status", "started_at", "ended_at", "duration_ms", "error"};
const Set kTaskKeys = {"task_id",    "run_id",   "status",      "attempts",
                       "started_at", "ended_at", "duration_ms", "error"};
const Set kJobKeys = {"id", "name", "enabled", "scheduled", "task_count"};

class CompatRoutesTest : public ::testing::Test {
 protected:
  void Start(const std::vector<std::string>& yamls) {
    Result<std::unique_ptr<Daemon>> daemon =
        Daemon::Start(testing::MemoryHost(), testing::Jobs(yamls), log_);
    ASSERT_TRUE(daemon.ok()) << daemon.status().message();
    daemon_ = std::move(daemon).value();
    ends_ = std::make_unique<RunEnds>(daemon_->events());
    routes_ = CompatRoutes(*daemon_);
  }
  void TearDown() override {
    ends_.reset();
    if (daemon_) daemon_->Stop(StopMode::kCancelRuns);
  }
  ApiResponse Get(const std::string& pattern,
                  std::map<std::string, std::string, std::less<>> params = {},
                  std::map<std::string, std::string, std::less<>> query = {}) {
    return Serve(routes_,
                 Call{.method = "GET", .pattern = pattern, .params = params, .query = query});
  }
  ApiResponse Post(const std::string& pattern,
                   std::map<std::string, std::string, std::less<>> params = {}) {
    return Serve(routes_, Call{.method = "POST", .pattern = pattern, .params = params});
  }
  // Triggers `job` through the route and returns its run id.
  std::string Trigger(const std::string& job) {
    ApiResponse response = Post("/api/jobs/{id}/trigger", {{"id", job}});
    EXPECT_EQ(response.status, 200) << response.body;
    return Object(response)->optValue<std::string>("run_id", "");
  }

  ScratchDir scratch_;
  DaemonLog log_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<RunEnds> ends_;
  std::vector<Route> routes_;
};

constexpr const char* kTwo = R"(id: two
name: Two Tasks
max_active_runs: 0
tasks:
  - id: a
    type: noop
  - id: b
    type: noop
    depends_on: [a]
)";

constexpr const char* kFailing = R"(id: failing
schedule: "0 3 * * *"
tasks:
  - id: boom
    type: command
    command: "false"
  - id: after
    type: noop
    depends_on: [boom]
)";

TEST_F(CompatRoutesTest, ServesExactlyTheOriginalsTenPaths) {
  Start({kTwo});
  std::set<std::string> served;
  for (const Route& route : routes_) served.insert(route.method + " " + route.pattern);
  EXPECT_EQ(served, (Set{"GET /api/health", "GET /api/scheduler/state", "POST /api/scheduler/pause",
                         "POST /api/scheduler/resume", "GET /api/jobs", "GET /api/jobs/{id}",
                         "POST /api/jobs/{id}/trigger", "GET /api/jobs/{id}/runs",
                         "GET /api/runs/{id}", "GET /api/runs/{id}/tasks"}));
  for (const Route& route : routes_) {
    EXPECT_EQ(route.access, route.pattern == "/api/health" ? Access::kPublic
                            : route.method == "POST"       ? Access::kOperate
                                                           : Access::kRead)
        << route.pattern;
  }
}

TEST_F(CompatRoutesTest, HealthIsStatusOkAndTheVersion) {
  Start({kTwo});
  ApiResponse response = Get("/api/health");
  EXPECT_EQ(response.status, 200);
  auto health = Object(response);
  EXPECT_EQ(Keys(*health), (Set{"status", "version"}));
  EXPECT_EQ(health->getValue<std::string>("status"), "ok");
  EXPECT_FALSE(health->getValue<std::string>("version").empty());
}

TEST_F(CompatRoutesTest, SchedulerStateFollowsPauseResumeAndStop) {
  Start({kTwo});
  auto state = Object(Get("/api/scheduler/state"));
  EXPECT_EQ(Keys(*state), (Set{"state", "is_running", "is_paused"}));
  EXPECT_EQ(state->getValue<std::string>("state"), "running");
  EXPECT_TRUE(state->getValue<bool>("is_running"));
  EXPECT_FALSE(state->getValue<bool>("is_paused"));

  ApiResponse paused = Post("/api/scheduler/pause");
  EXPECT_EQ(paused.status, 200);
  EXPECT_EQ(paused.body, R"({"message":"scheduler paused"})");
  state = Object(Get("/api/scheduler/state"));
  EXPECT_EQ(state->getValue<std::string>("state"), "paused");
  EXPECT_TRUE(state->getValue<bool>("is_running"));
  EXPECT_TRUE(state->getValue<bool>("is_paused"));

  ApiResponse resumed = Post("/api/scheduler/resume");
  EXPECT_EQ(resumed.status, 200);
  EXPECT_EQ(resumed.body, R"({"message":"scheduler resumed"})");
  EXPECT_EQ(Object(Get("/api/scheduler/state"))->getValue<std::string>("state"), "running");

  daemon_->Stop(StopMode::kCancelRuns);
  state = Object(Get("/api/scheduler/state"));
  EXPECT_EQ(state->getValue<std::string>("state"), "stopped");
  EXPECT_FALSE(state->getValue<bool>("is_running"));
  for (const char* path : {"/api/scheduler/pause", "/api/scheduler/resume"}) {
    ExpectError(Post(path), 503, "SERVICE_UNAVAILABLE", "scheduler is not running");
  }
  ExpectError(Post("/api/jobs/{id}/trigger", {{"id", "two"}}), 503, "SERVICE_UNAVAILABLE",
              "scheduler is not running");
}

TEST_F(CompatRoutesTest, JobsAreListedAndFoundWithTheOriginalsFiveFields) {
  Start({kTwo, kFailing});
  auto list = Object(Get("/api/jobs"));
  EXPECT_EQ(Keys(*list), (Set{"jobs", "count"}));
  EXPECT_EQ(list->getValue<int>("count"), 2);
  auto jobs = list->getArray("jobs");
  ASSERT_EQ(jobs->size(), 2u);
  for (size_t i = 0; i < jobs->size(); ++i) {
    EXPECT_EQ(Keys(*jobs->getObject(static_cast<unsigned>(i))), kJobKeys);
  }
  auto failing = jobs->getObject(0);
  EXPECT_EQ(failing->getValue<std::string>("id"), "failing");
  EXPECT_EQ(failing->getValue<std::string>("name"), "failing");
  EXPECT_TRUE(failing->getValue<bool>("enabled"));
  EXPECT_TRUE(failing->getValue<bool>("scheduled"));
  EXPECT_EQ(failing->getValue<int>("task_count"), 2);

  auto two = Object(Get("/api/jobs/{id}", {{"id", "two"}}));
  EXPECT_EQ(Keys(*two), kJobKeys);
  EXPECT_EQ(two->getValue<std::string>("name"), "Two Tasks");
  EXPECT_FALSE(two->getValue<bool>("scheduled"));

  for (const char* id : {"nope", "TWO", "two ", "a/b", "%00"}) {
    ExpectError(Get("/api/jobs/{id}", {{"id", id}}), 404, "NOT_FOUND",
                std::string("job not found: ") + id);
    ExpectError(Get("/api/jobs/{id}/runs", {{"id", id}}), 404, "NOT_FOUND", "job not found");
    ExpectError(Post("/api/jobs/{id}/trigger", {{"id", id}}), 404, "NOT_FOUND", "job not found");
  }
}

TEST_F(CompatRoutesTest, TriggerAnswersTheRunIdAndTheRunsShowCompletedRuns) {
  Start({kTwo});
  ApiResponse response = Post("/api/jobs/{id}/trigger", {{"id", "two"}});
  EXPECT_EQ(response.status, 200);
  auto triggered = Object(response);
  EXPECT_EQ(Keys(*triggered), (Set{"run_id", "job_id", "message"}));
  EXPECT_EQ(triggered->getValue<std::string>("job_id"), "two");
  EXPECT_EQ(triggered->getValue<std::string>("message"), "job 'two' triggered");
  const std::string run = triggered->getValue<std::string>("run_id");
  ASSERT_TRUE(ends_->WaitFor(run));

  auto record = Object(Get("/api/runs/{id}", {{"id", run}}));
  EXPECT_EQ(Keys(*record), kRunKeys);
  EXPECT_EQ(record->getValue<std::string>("id"), run);
  EXPECT_EQ(record->getValue<std::string>("job_id"), "two");
  EXPECT_EQ(record->getValue<std::string>("status"), "completed");
  const int64_t started = record->getValue<int64_t>("started_at");
  const int64_t ended = record->getValue<int64_t>("ended_at");
  // Milliseconds of this era, not microseconds.
  EXPECT_GT(started, 1'600'000'000'000);
  EXPECT_LT(started, 4'000'000'000'000);
  EXPECT_LE(started, ended);
  EXPECT_EQ(record->getValue<int64_t>("duration_ms"), ended - started);
  EXPECT_TRUE(record->isNull("error"));

  auto tasks = Object(Get("/api/runs/{id}/tasks", {{"id", run}}));
  EXPECT_EQ(Keys(*tasks), (Set{"tasks", "count"}));
  EXPECT_EQ(tasks->getValue<int>("count"), 2);
  auto list = tasks->getArray("tasks");
  ASSERT_EQ(list->size(), 2u);
  for (unsigned i = 0; i < 2; ++i) {
    auto task = list->getObject(i);
    EXPECT_EQ(Keys(*task), kTaskKeys);
    EXPECT_EQ(task->getValue<std::string>("task_id"), i == 0 ? "a" : "b");
    EXPECT_EQ(task->getValue<std::string>("run_id"), run);
    EXPECT_EQ(task->getValue<std::string>("status"), "completed");
    EXPECT_EQ(task->getValue<int>("attempts"), 1);
    EXPECT_FALSE(task->isNull("started_at"));
    EXPECT_FALSE(task->isNull("duration_ms"));
    EXPECT_TRUE(task->isNull("error"));
  }
}

TEST_F(CompatRoutesTest, FailedTasksAreFailedAndTheirDownstreamSkipped) {
  Start({kFailing});
  const std::string run = Trigger("failing");
  ASSERT_TRUE(ends_->WaitFor(run));
  auto record = Object(Get("/api/runs/{id}", {{"id", run}}));
  EXPECT_EQ(record->getValue<std::string>("status"), "failed");
  EXPECT_FALSE(record->isNull("ended_at"));
  auto tasks = Object(Get("/api/runs/{id}/tasks", {{"id", run}}))->getArray("tasks");
  ASSERT_EQ(tasks->size(), 2u);
  auto after = tasks->getObject(0);  // by task id: "after", then "boom"
  EXPECT_EQ(after->getValue<std::string>("task_id"), "after");
  EXPECT_EQ(after->getValue<std::string>("status"), "skipped");  // upstream_failed
  EXPECT_EQ(after->getValue<int>("attempts"), 0);
  EXPECT_TRUE(after->isNull("started_at"));
  EXPECT_TRUE(after->isNull("duration_ms"));
  auto boom = tasks->getObject(1);
  EXPECT_EQ(boom->getValue<std::string>("status"), "failed");
  EXPECT_FALSE(boom->isNull("error"));
}

TEST_F(CompatRoutesTest, ARunningRunHasNullEndAndTheLimitIsTooManyRequests) {
  Gate gate(scratch_.path() / "gate");
  Start({"id: slow\nmax_concurrency: 1\ntasks:\n" + gate.Task("wait")});
  const std::string run = Trigger("slow");
  auto record = Object(Get("/api/runs/{id}", {{"id", run}}));
  EXPECT_THAT(record->getValue<std::string>("status"), ::testing::AnyOf("pending", "running"));
  EXPECT_TRUE(record->isNull("ended_at"));
  EXPECT_TRUE(record->isNull("duration_ms"));
  EXPECT_TRUE(record->isNull("error"));
  ExpectError(Post("/api/jobs/{id}/trigger", {{"id", "slow"}}), 429, "TOO_MANY_REQUESTS",
              "max concurrent runs exceeded: slow");
  gate.Release();
  ASSERT_TRUE(ends_->WaitFor(run));
  EXPECT_EQ(Object(Get("/api/runs/{id}", {{"id", run}}))->getValue<std::string>("status"),
            "completed");
}

TEST_F(CompatRoutesTest, JobRunsAreNewestFirstTwentyByDefaultAndLimited) {
  Start({kTwo});
  std::vector<std::string> runs;
  for (int i = 0; i < 22; ++i) runs.push_back(Trigger("two"));
  for (const std::string& run : runs) ASSERT_TRUE(ends_->WaitFor(run));

  auto page = Object(Get("/api/jobs/{id}/runs", {{"id", "two"}}));
  EXPECT_EQ(Keys(*page), (Set{"runs", "count"}));
  EXPECT_EQ(page->getValue<int>("count"), 20);
  auto list = page->getArray("runs");
  ASSERT_EQ(list->size(), 20u);
  EXPECT_EQ(list->getObject(0)->getValue<std::string>("id"), runs.back());
  for (unsigned i = 0; i < list->size(); ++i) EXPECT_EQ(Keys(*list->getObject(i)), kRunKeys);

  auto two = Object(Get("/api/jobs/{id}/runs", {{"id", "two"}}, {{"limit", "2"}}));
  EXPECT_EQ(two->getValue<int>("count"), 2);
  EXPECT_EQ(two->getArray("runs")->getObject(1)->getValue<std::string>("id"), runs[20]);
  EXPECT_EQ(
      Object(Get("/api/jobs/{id}/runs", {{"id", "two"}}, {{"limit", "0"}}))->getValue<int>("count"),
      0);
  // Parameters the original did not know are ignored, as it did.
  EXPECT_EQ(Get("/api/jobs/{id}/runs", {{"id", "two"}}, {{"offset", "3"}}).status, 200);
  for (const char* bad : {"-1", "x", "1.5", "", "99999999999999999999", "10001"}) {
    ExpectError(Get("/api/jobs/{id}/runs", {{"id", "two"}}, {{"limit", bad}}), 400, "BAD_REQUEST",
                "invalid limit");
  }
}

TEST_F(CompatRoutesTest, BadAndUnknownRunIdsAreNotFound) {
  Start({kTwo});
  for (const char* path : {"/api/runs/{id}", "/api/runs/{id}/tasks"}) {
    for (const char* id : {"nope", "1", "0190abcd-0000-7000-8000-00000000000", "../../etc"}) {
      ExpectError(Get(path, {{"id", id}}), 404, "NOT_FOUND", "invalid run id");
    }
    const std::string unknown = RunId::GenerateAt(1).str();
    ExpectError(Get(path, {{"id", unknown}}), 404, "NOT_FOUND", "run not found: " + unknown);
  }
}

}  // namespace
}  // namespace petit::host
