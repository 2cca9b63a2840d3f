// The remote commands of the real `petit` binary (cli/remote_commands.cc) against an HTTP server
// of the test's own that answers fixed JSON (fake_api_server.h): what each command asks, prints
// and exits with, whatever the daemon answers. tests/integration/remote_cli_test.cc drives them
// against a real `petit run`.
#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "host/cli/fake_api_server.h"
#include "integration/petit_process.h"
#include "storage_backends/test_databases.h"

namespace petit {
namespace {

using testing::FakeApiServer;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::Outcome;

constexpr char kRun[] = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

constexpr char kHealthOk[] =
    R"({"status":"ok","version":"9.9.9","store":{"reachable":true,"down_since_at":null,)"
    R"("pending_writes":0,"last_error":null},"scheduler":{"paused":false,)"
    R"("last_tick_at":1764645000000,"alive":true,"stopping":false},"active_runs":2})";
constexpr char kHealthDegraded[] =
    R"({"status":"degraded","version":"9.9.9","store":{"reachable":false,)"
    R"("down_since_at":1764645000000,"pending_writes":7,"last_error":"disk I/O error"},)"
    R"("scheduler":{"paused":false,"last_tick_at":1764645000000,"alive":true,)"
    R"("stopping":false},"active_runs":0})";
constexpr char kScheduler[] =
    R"({"paused":true,"stopping":false,"jobs":3,"scheduled_jobs":2,"active_runs":2,)"
    R"("fired":41,"refused":1,"last_tick_at":1764645000000,"alive":true,)"
    R"("paused_jobs":["b","c"]})";
constexpr char kActiveRuns[] =
    R"({"runs":[{"id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","job_id":"a","status":"running",)"
    R"("trigger":"schedule","created_at":1764645000000,"started_at":1764645000100},)"
    R"({"id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c","job_id":"b","status":"queued",)"
    R"("trigger":"manual","created_at":1764645000200,"started_at":null}],"next_cursor":null})";
constexpr char kActiveRunsPath[] = "/api/v1/runs?status=running,queued&limit=50";

class RemoteCommandsTest : public ::testing::Test {
 protected:
  Outcome Petit(const std::string& words) {
    return testing::RunPetit(PETIT_EXE, words + " --server " + server_.url(), dir_.path());
  }
  void AnswerStatus(const char* health, int health_status = 200) {
    server_.Respond("GET", "/api/v1/health", health_status, health);
    server_.Respond("GET", "/api/v1/scheduler", 200, kScheduler);
    server_.Respond("GET", kActiveRunsPath, 200, kActiveRuns);
  }
  std::vector<std::string> Asked() const {
    std::vector<std::string> asked;
    for (const FakeApiServer::Request& request : server_.requests()) {
      asked.push_back(request.method + " " + request.uri);
    }
    return asked;
  }

  testing::TempDir dir_;
  FakeApiServer server_;
};

TEST_F(RemoteCommandsTest, StatusPrintsTheSchedulerStoreHealthPausedJobsAndActiveRuns) {
  AnswerStatus(kHealthOk);
  Outcome status = Petit("status");
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_THAT(status.err, IsEmpty());
  EXPECT_THAT(status.out, HasSubstr("daemon       " + server_.url() + " (petit 9.9.9), paused"));
  EXPECT_THAT(status.out, HasSubstr("3 jobs, 2 scheduled; fired 41, refused 1"));
  EXPECT_THAT(status.out, HasSubstr("store        reachable\n"));
  EXPECT_THAT(status.out, HasSubstr("paused jobs  b, c\n"));
  EXPECT_THAT(status.out, HasSubstr("active runs  2\n"));
  EXPECT_THAT(status.out,
              HasSubstr("  0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b  a  running  schedule"));
  EXPECT_THAT(status.out, HasSubstr("  0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c  b  queued  manual"));
  EXPECT_THAT(Asked(),
              ::testing::UnorderedElementsAre("GET /api/v1/health", "GET /api/v1/scheduler",
                                              std::string("GET ") + kActiveRunsPath));
}

// The list is the store's: a run a petit trigger drives is active though not the daemon's, and
// the count says both rather than "0" above a listed run.
TEST_F(RemoteCommandsTest, StatusCountsActiveRunsOfOtherProcessesToo) {
  server_.Respond("GET", "/api/v1/health", 200, kHealthOk);
  std::string scheduler = kScheduler;
  const std::string driven = "\"active_runs\":2";
  scheduler.replace(scheduler.find(driven), driven.size(), "\"active_runs\":0");
  server_.Respond("GET", "/api/v1/scheduler", 200, scheduler);
  server_.Respond("GET", kActiveRunsPath, 200, kActiveRuns);
  Outcome status = Petit("status");
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_THAT(status.out, HasSubstr("active runs  2 (0 driven by this daemon)\n"));
}

TEST_F(RemoteCommandsTest, StatusJsonIsOneDocumentWithTheDaemonsOwnObjects) {
  AnswerStatus(kHealthOk);
  Outcome status = Petit("status --json");
  ASSERT_EQ(status.exit_code, 0) << status.out << status.err;
  Poco::JSON::Parser parser;
  Poco::JSON::Object::Ptr document;
  ASSERT_NO_THROW(document = parser.parse(status.out).extract<Poco::JSON::Object::Ptr>())
      << status.out;
  EXPECT_EQ(document->getValue<std::string>("url"), server_.url());
  EXPECT_EQ(document->getObject("health")->getValue<std::string>("status"), "ok");
  EXPECT_EQ(document->getObject("scheduler")->getValue<int>("fired"), 41);
  Poco::JSON::Array::Ptr paused = document->getArray("paused_jobs");
  ASSERT_EQ(paused->size(), 2u);
  EXPECT_EQ(paused->getElement<std::string>(0), "b");
  EXPECT_EQ(document->getArray("active_runs")->size(), 2u);
}

TEST_F(RemoteCommandsTest, ADegradedDaemonIsShownAndExitsOne) {
  AnswerStatus(kHealthDegraded, 503);
  Outcome status = Petit("status");
  EXPECT_EQ(status.exit_code, 1) << status.out << status.err;
  EXPECT_THAT(status.out, HasSubstr("store        UNREACHABLE since "));
  EXPECT_THAT(status.out, HasSubstr("(disk I/O error), 7 writes pending"));
}

// Every remote command, with what it needs to reach the daemon.
const std::vector<std::string>& RemoteCommands() {
  static const std::vector<std::string> commands = {"status",
                                                    "status --json",
                                                    "pause",
                                                    "pause etl",
                                                    "resume",
                                                    "resume etl",
                                                    "reload",
                                                    "trigger etl --detach",
                                                    std::string("retry ") + kRun};
  return commands;
}

TEST(RemoteCommandsNoDaemonTest, EveryCommandSaysSoInOneLineAndExitsThree) {
  testing::TempDir dir;
  // A loopback port nothing listens on.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  for (const std::string& command : RemoteCommands()) {
    SCOPED_TRACE(command);
    Outcome outcome = testing::RunPetit(PETIT_EXE, command + " --server " + url, dir.path());
    EXPECT_EQ(outcome.exit_code, 3) << outcome.out << outcome.err;
    EXPECT_THAT(outcome.out, IsEmpty());
    EXPECT_THAT(outcome.err, ::testing::StartsWith("petit: no daemon answers at " + url +
                                                   " (is `petit run` running?)"));
    EXPECT_EQ(std::count(outcome.err.begin(), outcome.err.end(), '\n'), 1) << outcome.err;
  }
  // The same from petit.yaml's api, with no --server.
  std::ofstream(dir.path() + "/petit.yaml") << "api:\n  port: " << ntohs(address.sin_port) << "\n";
  Outcome outcome = testing::RunPetit(PETIT_EXE, "status " + dir.path(), dir.path());
  EXPECT_EQ(outcome.exit_code, 3) << outcome.out << outcome.err;
  EXPECT_THAT(outcome.err, HasSubstr("no daemon answers at " + url));
}

TEST_F(RemoteCommandsTest, EveryCommandReportsTheDaemonsErrorInOneLine) {
  // No canned answers: every request gets the fake's 404 {"error": ..., "code": "NOT_FOUND"}.
  for (const std::string& command : RemoteCommands()) {
    SCOPED_TRACE(command);
    Outcome outcome = Petit(command);
    EXPECT_EQ(outcome.exit_code, 2) << outcome.out << outcome.err;
    EXPECT_EQ(outcome.err, "petit: no canned answer\n");
  }
}

TEST_F(RemoteCommandsTest, PauseAndResumeTheSchedulerOrOneJob) {
  server_.Respond("POST", "/api/v1/scheduler/pause", 200, R"({"paused":true})");
  server_.Respond("POST", "/api/v1/scheduler/resume", 200, R"({"paused":false})");
  server_.Respond("POST", "/api/v1/jobs/etl%2Fdaily/pause", 200,
                  R"({"id":"etl/daily","paused":true,"scheduled":true})");
  server_.Respond("POST", "/api/v1/jobs/etl/resume", 200,
                  R"({"id":"etl","paused":false,"scheduled":false})");
  Outcome pause = Petit("pause");
  EXPECT_EQ(pause.exit_code, 0) << pause.err;
  EXPECT_THAT(pause.out, HasSubstr("scheduler paused"));
  Outcome resume = Petit("resume");
  EXPECT_EQ(resume.exit_code, 0) << resume.err;
  EXPECT_THAT(resume.out, HasSubstr("scheduler resumed"));
  Outcome pause_job = Petit("pause etl/daily");
  EXPECT_EQ(pause_job.exit_code, 0) << pause_job.err;
  EXPECT_EQ(pause_job.out, "job etl/daily paused\n");
  Outcome resume_job = Petit("resume etl");
  EXPECT_EQ(resume_job.exit_code, 0) << resume_job.err;
  EXPECT_EQ(resume_job.out, "job etl resumed (it has no schedule)\n");
  for (const FakeApiServer::Request& request : server_.requests()) {
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.content_type, "application/json");
  }
}

TEST_F(RemoteCommandsTest, TriggerDetachedPrintsOnlyTheRunIdOrWhyNot) {
  server_.Respond("POST", "/api/v1/jobs/etl/trigger", 202,
                  std::string(R"({"run_id":")") + kRun + R"(","job_id":"etl"})");
  server_.Respond("POST", "/api/v1/jobs/busy/trigger", 429,
                  R"({"error":"max concurrent runs exceeded: busy","code":"TOO_MANY_REQUESTS"})");
  server_.Respond("POST", "/api/v1/jobs/down/trigger", 503,
                  R"({"error":"the daemon is stopping","code":"SERVICE_UNAVAILABLE"})");
  Outcome ok = Petit("trigger etl --detach");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, std::string(kRun) + "\n");
  // The DIR JOB form finds the daemon from DIR's petit.yaml; --server still wins.
  Outcome with_dir = Petit("trigger " + dir_.path() + " etl --detach");
  EXPECT_EQ(with_dir.exit_code, 0) << with_dir.err;
  EXPECT_EQ(with_dir.out, std::string(kRun) + "\n");
  Outcome busy = Petit("trigger busy --detach");
  EXPECT_EQ(busy.exit_code, 1) << busy.err;
  EXPECT_EQ(busy.err, "petit: max concurrent runs exceeded: busy\n");
  Outcome down = Petit("trigger down --detach");
  EXPECT_EQ(down.exit_code, 3) << down.err;
  EXPECT_EQ(down.err, "petit: the daemon is stopping\n");
}

TEST_F(RemoteCommandsTest, RetrySendsTheScopeAndPrintsThePlan) {
  const std::string path = std::string("/api/v1/runs/") + kRun + "/retry";
  server_.Respond("POST", path, 200,
                  R"({"run_id":"x","job_id":"etl","dry_run":true,"plan":{"tasks":[],)"
                  R"("run_count":1,"keep_count":1,"text":"keep  extract  (succeeded)\n)"
                  R"(run   load  (attempt 2, was failed)\n"}})");
  Outcome dry = Petit(std::string("retry ") + kRun + " --from load --dry-run");
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(dry.out, std::string("retry of run ") + kRun +
                         " (job etl), dry run: nothing changed\n"
                         "keep  extract  (succeeded)\nrun   load  (attempt 2, was failed)\n");
  ASSERT_EQ(server_.requests().size(), 1u);
  EXPECT_EQ(server_.requests()[0].body, R"({"from":"load","dry_run":true})");
  Outcome task = Petit(std::string("retry ") + kRun + " --task load");
  EXPECT_EQ(task.exit_code, 0) << task.err;
  EXPECT_THAT(task.out, HasSubstr("started by the daemon at " + server_.url()));
  EXPECT_EQ(server_.requests().back().body, R"({"task":"load","dry_run":false})");
}

TEST_F(RemoteCommandsTest, RetryRefusedByTheDaemonIsOneLineAndExitTwo) {
  server_.Respond("POST", std::string("/api/v1/runs/") + kRun + "/retry", 409,
                  R"({"error":"run 0190 is running: retry it once it has ended",)"
                  R"("code":"CONFLICT"})");
  Outcome running = Petit(std::string("retry ") + kRun);
  EXPECT_EQ(running.exit_code, 2) << running.err;
  EXPECT_EQ(running.err, "petit: run 0190 is running: retry it once it has ended\n");
}

TEST_F(RemoteCommandsTest, BadRetryWordsAreRefusedBeforeAnythingIsAsked) {
  for (const std::string& words :
       {std::string("retry not-a-run"), std::string("retry ") + kRun + " --from a --task b",
        std::string("cancel not-a-run")}) {
    SCOPED_TRACE(words);
    Outcome outcome = Petit(words);
    EXPECT_EQ(outcome.exit_code, 2) << outcome.err;
    EXPECT_EQ(std::count(outcome.err.begin(), outcome.err.end(), '\n'), 1) << outcome.err;
  }
  EXPECT_THAT(server_.requests(), IsEmpty());
}

TEST_F(RemoteCommandsTest, CancelThroughTheDaemonWaitsForTheRunToEnd) {
  server_.Respond("POST", std::string("/api/v1/runs/") + kRun + "/cancel", 202,
                  std::string(R"({"run_id":")") + kRun + R"(","status":"cancelling"})");
  server_.Respond("GET", std::string("/api/v1/runs/") + kRun, 200,
                  std::string(R"({"id":")") + kRun + R"(","status":"cancelled"})");
  Outcome cancel = Petit(std::string("cancel ") + kRun);
  EXPECT_EQ(cancel.exit_code, 0) << cancel.out << cancel.err;
  EXPECT_THAT(cancel.out, HasSubstr("cancelling run " + std::string(kRun) +
                                    " through the daemon at " + server_.url()));
  EXPECT_THAT(cancel.out, HasSubstr("run " + std::string(kRun) + " cancelled\n"));
}

// The daemon knows the run but another process drives it, and the store this command opened does
// not have it: it opened another store than the daemon's, and says how to reach that one.
TEST_F(RemoteCommandsTest, CancelOfARunTheDaemonKnowsButThisStoreDoesNotSaysWhy) {
  server_.Respond("POST", std::string("/api/v1/runs/") + kRun + "/cancel", 409,
                  std::string(R"({"error":"run )") + kRun +
                      R"x( is not driven by this daemon (owner h/1/2)","code":"CONFLICT"})x");
  server_.Respond("GET", std::string("/api/v1/runs/") + kRun, 200,
                  std::string(R"({"id":")") + kRun + R"(","status":"running"})");
  Outcome cancel = Petit(std::string("--storage memory: cancel ") + kRun);
  EXPECT_EQ(cancel.exit_code, 2) << cancel.out << cancel.err;
  EXPECT_THAT(cancel.err, HasSubstr("no run " + std::string(kRun) +
                                    " in memory:, though the "
                                    "daemon at " +
                                    server_.url() + " does not drive it"));
  EXPECT_THAT(cancel.err, HasSubstr("give --config or --storage for the daemon's store"));
}

TEST_F(RemoteCommandsTest, ReloadPrintsWhatChangedAndExitsTwoOnBrokenFiles) {
  server_.Respond("POST", "/api/v1/reload", 200,
                  R"({"added":["n"],"changed":["c1","c2"],"removed":[],"kept":[],)"
                  R"("unchanged":4,"errors":1,"needs_restart":["storage"]})");
  Outcome reload = Petit("reload");
  EXPECT_EQ(reload.exit_code, 2) << reload.err;
  EXPECT_THAT(reload.out,
              HasSubstr("reloaded: 1 added (n), 2 changed (c1, c2), 0 removed, 4 unchanged\n"));
  EXPECT_THAT(reload.out, HasSubstr("needs a restart to take effect: storage\n"));
  EXPECT_THAT(reload.err, HasSubstr("1 job file error"));
}

TEST_F(RemoteCommandsTest, TheTokenComesFromTheEnvironmentAndA401SaysSo) {
  server_.Respond("POST", "/api/v1/scheduler/pause", 401,
                  R"({"error":"missing or wrong token","code":"UNAUTHORIZED"})");
  const std::string url = server_.url();
  Outcome outcome = testing::RunPetit(
      "/usr/bin/env", std::string("PETIT_API_TOKEN=t0k ") + PETIT_EXE + " pause --server " + url,
      dir_.path());
  EXPECT_EQ(outcome.exit_code, 2) << outcome.err;
  EXPECT_THAT(outcome.err, HasSubstr("missing or wrong token (set PETIT_API_TOKEN"));
  ASSERT_EQ(server_.requests().size(), 1u);
  EXPECT_EQ(server_.requests()[0].authorization, "Bearer t0k");
}

TEST_F(RemoteCommandsTest, AnAnswerThatIsNotJsonIsAHostError) {
  server_.Respond("POST", "/api/v1/scheduler/pause", 200, "<html>proxy error</html>");
  Outcome outcome = Petit("pause");
  EXPECT_EQ(outcome.exit_code, 3) << outcome.err;
  EXPECT_THAT(outcome.err, HasSubstr("not a JSON object"));
}

// Something else on the daemon's port (a proxy's page, another service) answers 200: no command
// takes that for success.
TEST_F(RemoteCommandsTest, ASuccessThatIsNotWhatPetitSendsIsAHostError) {
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"GET", "/api/v1/health"},
      {"POST", "/api/v1/scheduler/pause"},
      {"POST", "/api/v1/scheduler/resume"},
      {"POST", "/api/v1/jobs/etl/pause"},
      {"POST", "/api/v1/jobs/etl/resume"},
      {"POST", "/api/v1/reload"},
      {"POST", "/api/v1/jobs/etl/trigger"},
      {"POST", std::string("/api/v1/runs/") + kRun + "/retry"}};
  for (const char* body : {"<html>proxy</html>", "[1, 2]", "{\"runs\": [1, {]"}) {
    for (const auto& [method, path] : routes) server_.Respond(method, path, 200, body);
    for (const std::string& command : RemoteCommands()) {
      SCOPED_TRACE(command + " answered " + body);
      Outcome outcome = Petit(command);
      EXPECT_EQ(outcome.exit_code, 3) << outcome.out << outcome.err;
      EXPECT_THAT(outcome.out, IsEmpty());
      EXPECT_EQ(std::count(outcome.err.begin(), outcome.err.end(), '\n'), 1) << outcome.err;
    }
  }
  // JSON of another shape.
  for (const char* body :
       {"{\"a\": 1}", "{\"paused\": \"yes\", \"run_id\": 12345678, \"plan\": 1}"}) {
    for (const auto& [method, path] : routes) server_.Respond(method, path, 200, body);
    for (const std::string& command :
         {std::string("pause"), std::string("resume etl"), std::string("trigger etl --detach"),
          std::string("retry ") + kRun}) {
      SCOPED_TRACE(command + " answered " + body);
      Outcome outcome = Petit(command);
      EXPECT_EQ(outcome.exit_code, 3) << outcome.out << outcome.err;
      EXPECT_THAT(outcome.out, IsEmpty());
    }
  }
}

}  // namespace
}  // namespace petit
