// The HTTP API of the real `petit run`: it answers on the address it logs, refuses to start when it
// cannot listen or would listen off the loopback without a token, asks for the token it has, and
// stops with the daemon while connections are open.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "host/api/raw_http_client.h"
#include "integration/daemon_process.h"
#include "integration/petit_process.h"
#include "petit/host/exit_codes.h"

namespace petit::host {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::HttpResponse;
using ::testing::Not;
using testing::RawHttpClient;
using ::testing::StartsWith;

constexpr char kListening[] = "api listening on http://127.0.0.1:";

bool Connectable(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  const bool connected = connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
  close(fd);
  return connected;
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "petit-api-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    jobs_ = dir_ / "jobs";
    fs::create_directories(jobs_);
    std::ofstream(jobs_ / "hello.yaml") << "id: hello\ntasks:\n  - id: a\n    type: command\n"
                                           "    command: \"true\"\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  void WriteConfig(const std::string& yaml) { std::ofstream(jobs_ / "petit.yaml") << yaml; }

  std::unique_ptr<testing::DaemonProcess> StartDaemon(const std::vector<std::string>& env = {}) {
    return std::make_unique<testing::DaemonProcess>(
        PETIT_EXE,
        std::vector<std::string>{"run", jobs_.string(), "--storage",
                                 "sqlite://" + (dir_ / "petit.db").string()},
        env);
  }

  // The port of the "api listening on" line, once logged; 0 if it never is.
  static uint16_t ListeningPort(testing::DaemonProcess& daemon) {
    if (!daemon.WaitForLine(kListening, "")) return 0;
    const std::string& err = daemon.err();
    const size_t at = err.find(kListening) + sizeof kListening - 1;
    return static_cast<uint16_t>(std::stoi(err.substr(at)));
  }

  fs::path dir_;
  fs::path jobs_;
};

TEST_F(ApiTest, HealthAnswersOnTheLoggedAddressAndTheServerStopsWithTheDaemon) {
  WriteConfig("api: {port: 0}\n");
  auto daemon = StartDaemon();
  const uint16_t port = ListeningPort(*daemon);
  ASSERT_NE(port, 0) << daemon->err();
  RawHttpClient client(port);
  HttpResponse health = client.Request("GET", "/api/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_THAT(health.body, StartsWith("{\"status\":\"ok\",\"version\":\""));
  HttpResponse unknown = client.Request("GET", "/api/no/such/thing");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_THAT(unknown.body, HasSubstr("\"code\":\"NOT_FOUND\""));
  // An idle connection and one mid-request do not hold the stop.
  RawHttpClient idle(port);
  RawHttpClient partial(port);
  ASSERT_TRUE(partial.Send("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(daemon->Terminate(), kExitOk) << daemon->err();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(idle.ClosedWithin(std::chrono::seconds(5)));
  EXPECT_FALSE(Connectable(port)) << "nothing listens any more";
}

// SIGTERM drains the runs: the API answers until they have ended, saying the daemon stops, so an
// operator can still see what holds the stop and cancel it; then it closes with the daemon.
TEST_F(ApiTest, TheApiAnswersThroughTheDrainAndCancelsTheRunThatHoldsIt) {
  WriteConfig("api: {port: 0}\nshutdown_grace: 3600\n");
  std::ofstream(jobs_ / "long.yaml") << "id: long\ntasks:\n  - id: wait\n    type: command\n"
                                        "    command: sleep\n    args: [\"3600\"]\n";
  auto daemon = StartDaemon();
  const uint16_t port = ListeningPort(*daemon);
  ASSERT_NE(port, 0) << daemon->err();
  RawHttpClient client(port);
  HttpResponse triggered = client.Request("POST", "/api/v1/jobs/long/trigger");
  ASSERT_EQ(triggered.status, 202) << triggered.body;
  const size_t at = triggered.body.find("\"run_id\":\"");
  ASSERT_NE(at, std::string::npos) << triggered.body;
  const std::string run = triggered.body.substr(at + 10, 36);
  ASSERT_TRUE(daemon->WaitForLine("job long run " + run, "task wait (attempt 1) started"))
      << daemon->err();

  daemon->Signal(SIGTERM);
  ASSERT_TRUE(daemon->WaitFor("stopping: no new fires; waiting for 1 active run")) << daemon->err();
  HttpResponse health = client.Request("GET", "/api/v1/health");
  EXPECT_THAT(health.body, HasSubstr("\"stopping\":true")) << health.status;
  EXPECT_EQ(client.Request("POST", "/api/v1/jobs/hello/trigger").status, 503);
  HttpResponse cancelled = client.Request("POST", "/api/v1/runs/" + run + "/cancel");
  EXPECT_EQ(cancelled.status, 202) << cancelled.body;
  EXPECT_EQ(daemon->WaitForExit(), kExitOk) << daemon->err();
  EXPECT_THAT(daemon->err(), HasSubstr("job long run " + run));
  EXPECT_FALSE(Connectable(port)) << "nothing listens any more";
}

TEST_F(ApiTest, ADisabledApiListensNowhere) {
  WriteConfig("api: {enabled: false}\n");
  auto daemon = StartDaemon();
  ASSERT_TRUE(daemon->WaitFor("running 1 job")) << daemon->err();
  EXPECT_EQ(daemon->Terminate(), kExitOk);
  EXPECT_THAT(daemon->err(), Not(HasSubstr("api listening")));
}

TEST_F(ApiTest, APortInUseRefusesToStartNamingTheAddress) {
  const int holder = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  ASSERT_EQ(bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(holder, 1), 0);
  socklen_t length = sizeof address;
  getsockname(holder, reinterpret_cast<sockaddr*>(&address), &length);
  const std::string port = std::to_string(ntohs(address.sin_port));
  WriteConfig("api: {port: " + port + "}\n");
  auto daemon = StartDaemon();
  EXPECT_EQ(daemon->WaitForExit(), kExitHostError);
  EXPECT_THAT(daemon->err(), HasSubstr("not starting: the API cannot listen on 127.0.0.1:" + port +
                                       ": Address already in use"));
  EXPECT_THAT(daemon->err(), Not(HasSubstr("running 1 job"))) << "refused before the daemon ran";
  close(holder);
}

TEST_F(ApiTest, AnyBindButTheLoopbackRefusesToStartWithoutAToken) {
  WriteConfig("api: {bind: 0.0.0.0, port: 0}\n");
  auto daemon = StartDaemon();
  EXPECT_EQ(daemon->WaitForExit(), kExitUsage);
  EXPECT_THAT(daemon->err(), HasSubstr("petit.yaml:1:13: the API may listen on '0.0.0.0' only "
                                       "with a 'token' (or PETIT_API_TOKEN)"));
  EXPECT_THAT(daemon->err(), Not(HasSubstr("api listening")));
}

TEST_F(ApiTest, WithATokenFromTheEnvironmentRequestsWithoutItGet401) {
  // 127.0.0.2 is not one of the loopback binds the config lets go without a token (127.0.0.1,
  // localhost, ::1), and reaches no other machine.
  WriteConfig("api: {bind: 127.0.0.2, port: 0, read_only_token: look}\n");
  auto daemon = StartDaemon({"PETIT_API_TOKEN=s3cret"});
  const std::string prefix = "api listening on http://127.0.0.2:";
  ASSERT_TRUE(daemon->WaitForLine(prefix, "")) << daemon->err();
  const std::string& err = daemon->err();
  const uint16_t port =
      static_cast<uint16_t>(std::stoi(err.substr(err.find(prefix) + prefix.size())));
  RawHttpClient client(port, "127.0.0.2");
  EXPECT_EQ(client.Request("GET", "/api/health").status, 200) << "health is public";
  for (const std::vector<std::string>& headers : {std::vector<std::string>{},
                                                  {"Authorization: Bearer wrong"},
                                                  {"Authorization: Bearer s3cret-and-more"},
                                                  {"Authorization: Basic czNjcmV0"}}) {
    HttpResponse denied = client.Request("GET", "/api/jobs", headers);
    EXPECT_EQ(denied.status, 401) << (headers.empty() ? "none" : headers[0]);
    EXPECT_THAT(denied.body, HasSubstr("\"code\":\"UNAUTHORIZED\""));
    EXPECT_THAT(denied.Header("www-authenticate"), StartsWith("Bearer"));
  }
  for (const char* token : {"s3cret", "look"}) {
    HttpResponse allowed =
        client.Request("GET", "/api/jobs", {std::string("Authorization: Bearer ") + token});
    EXPECT_NE(allowed.status, 401) << token;
    EXPECT_NE(allowed.status, 0) << token;
  }
  EXPECT_EQ(daemon->Terminate(), kExitOk);
}

// "2026-12-02T04:03:18" for the UTC second `epoch_seconds`.
std::string UtcSecond(time_t epoch_seconds) {
  tm parts{};
  gmtime_r(&epoch_seconds, &parts);
  char text[32];
  strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
  return text;
}

// The milliseconds by which the run of `occurrence` (a "run started" line) started after it.
int64_t FireDelayMillis(const std::string& err, const std::string& occurrence) {
  const size_t at = err.find("occurrence " + occurrence + "+00:00");
  const size_t line = err.rfind('\n', at) + 1;  // npos + 1 == 0 for the first line
  // The line starts "2026-12-02T04:03:18.002Z petit: ..." and the occurrence is a whole second.
  const std::string stamp = err.substr(line, 23);
  if (stamp.compare(0, 19, occurrence) != 0) {
    return stamp.compare(0, 19, occurrence) > 0 ? 1000 : -1;  // a later second: a second late
  }
  return std::stoi(stamp.substr(20, 3));
}

TEST_F(ApiTest, TheDaemonKeepsFiringOnTimeWhileClientsMisbehave) {
  std::ofstream(jobs_ / "tick.yaml") << "id: tick\nschedule: \"* * * * * *\"\ntasks:\n"
                                        "  - id: a\n    type: command\n    command: \"true\"\n";
  WriteConfig("api: {port: 0}\n");
  auto daemon = StartDaemon();
  const uint16_t port = ListeningPort(*daemon);
  ASSERT_NE(port, 0) << daemon->err();

  // A thousand connections that never send a byte (both ends live in this process).
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  std::vector<std::unique_ptr<RawHttpClient>> idle;
  for (int i = 0; i < 1000; ++i) idle.push_back(std::make_unique<RawHttpClient>(port));
  // Event streams that are never read, and a request that trickles in.
  std::vector<std::unique_ptr<RawHttpClient>> deaf;
  for (int i = 0; i < 4; ++i) {
    deaf.push_back(std::make_unique<RawHttpClient>(port));
    deaf.back()->Send("GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  }
  RawHttpClient trickle(port);
  trickle.Send("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nHo");

  // The next three occurrences each fire, each within a second of its time (a bound for a loaded
  // test machine; the figures are bench/api_bench.py's), while health still answers.
  const time_t first = time(nullptr) + 2;
  for (time_t second = first; second < first + 3; ++second) {
    const std::string occurrence = UtcSecond(second);
    ASSERT_TRUE(daemon->WaitForLine("occurrence " + occurrence, "run started")) << daemon->err();
    const int64_t delay = FireDelayMillis(daemon->err(), occurrence);
    EXPECT_GE(delay, 0) << occurrence;
    EXPECT_LT(delay, 1000) << occurrence;
    EXPECT_EQ(RawHttpClient(port).Request("GET", "/api/health").status, 200);
  }
  EXPECT_EQ(daemon->Terminate(), kExitOk);
}

TEST_F(ApiTest, TasksNeverSeeTheOperatorTokenOfTheEnvironment) {
  // A task that finds the token in its environment fails; so does the run, and petit exits 1.
  std::ofstream(jobs_ / "snoop.yaml") << "id: snoop\ntasks:\n  - id: look\n    type: command\n"
                                         "    shell: 'test -z \"$PETIT_API_TOKEN\"'\n";
  const std::string args = "PETIT_API_TOKEN=s3cret " + testing::ShellQuote(PETIT_EXE) +
                           " trigger " + testing::ShellQuote(jobs_.string()) + " snoop --storage " +
                           testing::ShellQuote("sqlite://" + (dir_ / "petit.db").string());
  testing::Outcome seen = testing::RunPetit("/usr/bin/env", args, dir_);
  EXPECT_EQ(seen.exit_code, kExitOk) << seen.out << seen.err;
}

}  // namespace
}  // namespace petit::host
