// HttpServer on port 0 with routes of the test's own: routing, the bounds on requests and
// connections, tokens, CORS, the path prefix, streams and stopping. Every refusal is checked to be
// JSON with its code.
#include "api/http_server.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "host/api/raw_http_client.h"
#include "petit/core/json.h"

namespace petit::host {
namespace {

using ::testing::HasSubstr;
using testing::HttpResponse;
using ::testing::Not;
using testing::RawHttpClient;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// What a stream handler did, for the test to wait on.
struct StreamProbe {
  std::mutex mu;
  std::condition_variable changed;
  int started = 0;                // guarded by mu
  int ended = 0;                  // guarded by mu
  bool saw_failed_write = false;  // guarded by mu
  bool saw_stopping = false;      // guarded by mu

  // Waits until `ended` reaches `count`; false after `patience`.
  bool WaitEnded(int count, Clock::duration patience) {
    std::unique_lock lock(mu);
    return changed.wait_for(lock, patience, [&] { return ended >= count; });
  }
  bool WaitStarted(int count, Clock::duration patience) {
    std::unique_lock lock(mu);
    return changed.wait_for(lock, patience, [&] { return started >= count; });
  }
};

// {"code": ...} of an error answer, checking it is the JSON error shape.
std::string CodeOf(const HttpResponse& response) {
  EXPECT_EQ(response.Header("content-type"), "application/json") << response.body;
  EXPECT_TRUE(response.body.starts_with("{\"error\":")) << response.body;
  const size_t at = response.body.find("\"code\":\"");
  if (at == std::string::npos) return "(no code)";
  const size_t start = at + 8;
  return response.body.substr(start, response.body.find('"', start) - start);
}

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() {
    config_.port = 0;
    config_.timeout = milliseconds(1000);
  }

  ~HttpServerTest() override {
    ReleaseSlow();  // a failed test must not leave Stop waiting for it
    if (server_ != nullptr) server_->Stop();
  }

  std::vector<Route> Routes() {
    std::vector<Route> routes;
    auto add = [&](std::string method, std::string pattern, Access access, RouteHandler handler) {
      Route route;
      route.method = std::move(method);
      route.pattern = std::move(pattern);
      route.access = access;
      route.handler = std::move(handler);
      routes.push_back(std::move(route));
    };
    add("GET", "/api/health", Access::kPublic,
        [](const ApiRequest&) { return JsonResponse("{\"status\":\"ok\"}"); });
    add("GET", "/things/{id}", Access::kRead, [](const ApiRequest& request) {
      std::string json = "{\"route\":\"param\",\"id\":" + JsonUtf8String(request.Param("id")) +
                         ",\"path\":" + JsonUtf8String(request.path) +
                         ",\"q\":" + JsonUtf8String(request.Query("q").value_or("-")) +
                         ",\"read_only\":" + (request.read_only ? "true" : "false") + "}";
      return JsonResponse(json);
    });
    add("GET", "/things/special", Access::kRead,
        [](const ApiRequest&) { return JsonResponse("{\"route\":\"literal\"}"); });
    add("POST", "/things/{id}/poke", Access::kOperate, [](const ApiRequest& request) {
      return JsonResponse("{\"body\":" + JsonUtf8String(request.body) + "}", 202);
    });
    add("GET", "/boom", Access::kRead,
        [](const ApiRequest&) -> ApiResponse { throw std::runtime_error("kaboom"); });
    // Writes 64 KiB chunks until the client stops taking them or the server stops.
    add("GET", "/flood", Access::kRead, [this](const ApiRequest&) {
      ApiResponse response;
      response.content_type = "text/event-stream";
      response.stream = [this](StreamSink& sink) {
        Started();
        const std::string chunk(64 * 1024, 'x');
        bool wrote = true;
        while (!sink.stopping() && (wrote = sink.Write(chunk))) {
        }
        Ended(!wrote, sink.stopping());
      };
      return response;
    });
    // One event, then waits for the server to stop (as an event stream with nothing new).
    add("GET", "/quiet", Access::kRead, [this](const ApiRequest&) {
      ApiResponse response;
      response.content_type = "text/event-stream";
      response.headers.emplace_back("Cache-Control", "no-cache");  // as the event routes say
      response.stream = [this](StreamSink& sink) {
        Started();
        sink.Write("data: hello\n\n");
        std::unique_lock lock(quiet_mu_);
        while (!sink.stopping()) quiet_wake_.wait_for(lock, milliseconds(10));
        lock.unlock();
        Ended(false, true);
      };
      return response;
    });
    // Holds its worker until the test releases it.
    add("GET", "/slow", Access::kRead, [this](const ApiRequest&) {
      Started();
      std::unique_lock lock(quiet_mu_);
      quiet_wake_.wait(lock, [this] { return release_slow_; });
      return JsonResponse("{\"slow\":true}");
    });
    return routes;
  }

  void ReleaseSlow() {
    std::lock_guard lock(quiet_mu_);
    release_slow_ = true;
    quiet_wake_.notify_all();
  }

  void Started() {
    std::lock_guard lock(probe_.mu);
    ++probe_.started;
    probe_.changed.notify_all();
  }
  void Ended(bool failed_write, bool stopping) {
    std::lock_guard lock(probe_.mu);
    ++probe_.ended;
    probe_.saw_failed_write |= failed_write;
    probe_.saw_stopping |= stopping;
    probe_.changed.notify_all();
  }

  void StartServer() {
    server_ = std::make_unique<HttpServer>(config_, [this](std::string_view line) {
      std::lock_guard lock(log_mu_);
      log_.emplace_back(line);
    });
    Status listening = server_->Listen();
    ASSERT_TRUE(listening.ok()) << listening.ToString();
    server_->Start(Routes());
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }

  HttpResponse Get(const std::string& target, const std::vector<std::string>& headers = {}) {
    RawHttpClient client(port_);
    return client.Request("GET", target, headers);
  }

  std::vector<std::string> Log() {
    std::lock_guard lock(log_mu_);
    return log_;
  }

  ApiConfig config_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
  StreamProbe probe_;
  std::mutex quiet_mu_;
  std::condition_variable quiet_wake_;
  bool release_slow_ = false;  // guarded by quiet_mu_
  std::mutex log_mu_;
  std::vector<std::string> log_;  // guarded by log_mu_
};

TEST_F(HttpServerTest, RoutesLiteralAndParamSegmentsAndDecodesThem) {
  StartServer();
  HttpResponse health = Get("/api/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "{\"status\":\"ok\"}");
  EXPECT_EQ(health.Header("content-type"), "application/json");

  HttpResponse param = Get("/things/a%20b?q=x%2By+z&&other=1");
  EXPECT_EQ(param.status, 200);
  EXPECT_EQ(param.body,
            "{\"route\":\"param\",\"id\":\"a b\",\"path\":\"/things/a b\",\"q\":\"x+y z\","
            "\"read_only\":false}");
  // A key given twice is refused, not read as one of its values (percent-encoded or not).
  for (const char* target : {"/things/x?q=1&q=2", "/things/x?q=1&%71=2"}) {
    HttpResponse twice = Get(target);
    EXPECT_EQ(twice.status, 400) << target;
    EXPECT_THAT(twice.body, HasSubstr("query parameter 'q' is given more than once")) << target;
  }
  EXPECT_EQ(Get("/things/special").body, "{\"route\":\"literal\"}") << "a literal beats {id}";
  EXPECT_EQ(Get("/things/special/").body, "{\"route\":\"literal\"}") << "a trailing / is ignored";
  // Addressed to a loopback name: without a token that is all the API answers (the host of an
  // absolute form is its authority).
  EXPECT_EQ(Get("http://127.0.0.1/api/health").status, 200) << "the absolute form";
  EXPECT_EQ(Get("HTTP://localhost/api/health").status, 200) << "its scheme in any case";
}

// The niceness of each of this process's threads named petit-api*, by name.
std::map<std::string, int> ApiThreadNiceness() {
  std::map<std::string, int> nice;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::string name;
    std::getline(std::ifstream(task.path() / "comm"), name);
    if (name.rfind("petit-api", 0) != 0) continue;
    std::string stat;
    std::getline(std::ifstream(task.path() / "stat"), stat);
    // Fields after the command's closing parenthesis: state is field 3, nice field 19.
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 19 && fields >> field; ++i) {
    }
    nice[name] = std::stoi(field);
  }
  return nice;
}

TEST_F(HttpServerTest, ItsThreadsRunFiveBelowTheNicenessOfTheThreadThatMadeIt) {
  // As a daemon started with `nice -n 2` (or by root, who may raise a niceness): the server's
  // threads end at 7, not at an absolute 5 above the scheduler.
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  const int before = getpriority(PRIO_PROCESS, tid);
  ASSERT_EQ(setpriority(PRIO_PROCESS, tid, 2), 0);
  StartServer();
  setpriority(PRIO_PROCESS, tid, before);     // best effort: lowering it back needs CAP_SYS_NICE
  ASSERT_EQ(Get("/api/health").status, 200);  // a worker has started
  const std::map<std::string, int> nice = ApiThreadNiceness();
  ASSERT_TRUE(nice.contains("petit-api-read"));
  ASSERT_GE(nice.size(), 2u) << "the reader and at least one worker";
  for (const auto& [name, value] : nice) EXPECT_EQ(value, 7) << name;
}

TEST_F(HttpServerTest, UnknownPathsAndMethodsAreJson404And405) {
  StartServer();
  for (const char* path : {"/", "/nope", "/api", "/api/health/extra", "/things", "/things//poke",
                           "/things/1/poke/more"}) {
    HttpResponse response = Get(path);
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_EQ(CodeOf(response), "NOT_FOUND") << path;
  }
  RawHttpClient client(port_);
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"}) {
    HttpResponse response = client.Request(method, "/api/health");
    EXPECT_EQ(response.status, 405) << method;
    EXPECT_EQ(CodeOf(response), "METHOD_NOT_ALLOWED") << method;
    EXPECT_EQ(response.Header("allow"), "GET, HEAD") << method;
  }
  HttpResponse get_on_post = client.Request("GET", "/things/1/poke");
  EXPECT_EQ(get_on_post.status, 405);
  EXPECT_EQ(get_on_post.Header("allow"), "POST");
  HttpResponse head = client.Request("HEAD", "/api/health");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-length"), "15");
  EXPECT_EQ(client.Request("GET", "/api/health").status, 200) << "HEAD sent no body";
}

TEST_F(HttpServerTest, MalformedRequestsAreJson400AndTheConnectionEnds) {
  StartServer();
  for (const std::string& head : {
           std::string("GARBAGE\r\n\r\n"),
           std::string("GET /api/health HTTP/9.9\r\n\r\n"),
           std::string("GET /api/health FTP/1.0\r\n\r\n"),
           std::string("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n"),
           std::string("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n"),
           std::string(
               "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 12abc\r\n\r\n"),
           std::string("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                       "3\r\nContent-Length: 4\r\n\r\n"),
           std::string("GET /things/%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
           std::string("GET /things/x?q=%4 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
           std::string("GET no-slash HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
           // Whitespace before the colon, or a folded line: a proxy may read these otherwise.
           std::string("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Name : value\r\n\r\n"),
           std::string("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Name\t: value\r\n\r\n"),
           std::string(
               "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: b\r\n folded: c\r\n\r\n"),
           std::string("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n: no name\r\n\r\n"),
           // Request lines of other shapes, and bytes a proxy may read otherwise.
           std::string("GET /api/health HTTP/1.1 extra\r\n\r\n"),
           std::string("GET  /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
           std::string("GET\t/api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
           std::string("GET /api/health\r\nHost: x\r\n\r\n"),
           std::string("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\0b\r\n\r\n", 55),
           std::string("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\rX-B: b\r\n\r\n"),
           // Fields that must be single, given twice.
           std::string("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil\r\n\r\n"),
           std::string("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer a\r\n"
                       "authorization: Bearer b\r\n\r\n"),
           std::string("POST /things/1/poke HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                       "application/json\r\n"
                       "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}"),
       }) {
    RawHttpClient client(port_);
    ASSERT_TRUE(client.Send(head));
    HttpResponse response = client.Read();
    EXPECT_EQ(response.status, 400) << head;
    EXPECT_EQ(CodeOf(response), "BAD_REQUEST") << head;
  }
  RawHttpClient chunked(port_);
  chunked.Send(
      "POST /things/1/poke HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: "
      "chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  HttpResponse response = chunked.Read();
  EXPECT_EQ(response.status, 411);
  EXPECT_EQ(CodeOf(response), "LENGTH_REQUIRED");
  EXPECT_TRUE(chunked.ClosedWithin(milliseconds(5000)));

  // "Transfer-Encoding : chunked" is not taken as no body (the chunks as the next request).
  RawHttpClient smuggler(port_);
  smuggler.Send(
      "POST /things/1/poke HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding : "
      "chunked\r\n\r\n0\r\n\r\n"
      "GET /things/2 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  HttpResponse smuggled = smuggler.Read();
  EXPECT_EQ(smuggled.status, 400);
  EXPECT_EQ(CodeOf(smuggled), "BAD_REQUEST");
  EXPECT_TRUE(smuggler.ClosedWithin(milliseconds(5000)));
}

TEST_F(HttpServerTest, OversizedHeadsAndBodiesAreRefusedBeforeTheyAreRead) {
  config_.max_body_bytes = 4096;
  StartServer();
  // A body over the limit, announced and not sent: refused from its Content-Length.
  RawHttpClient announced(port_);
  announced.Send(
      "POST /things/1/poke HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: 4097\r\n\r\n");
  HttpResponse big = announced.Read();
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(CodeOf(big), "PAYLOAD_TOO_LARGE");
  EXPECT_THAT(big.body, HasSubstr("api.max_body_bytes (4096)"));
  // ... and sent: the client still reads the answer, not a reset.
  RawHttpClient sent(port_);
  HttpResponse big_sent = sent.Request("POST", "/things/1/poke", {"Content-Type: application/json"},
                                       std::string(200 * 1024, ' '));
  EXPECT_EQ(big_sent.status, 413);
  // At the limit it is served.
  RawHttpClient fits(port_);
  EXPECT_EQ(fits.Request("POST", "/things/1/poke", {"Content-Type: application/json"},
                         std::string(4096, ' '))
                .status,
            202);
  // Heads: one header too long, too many headers, a head over the limit without its end.
  RawHttpClient long_header(port_);
  HttpResponse response =
      long_header.Request("GET", "/api/health", {"X-Big: " + std::string(9000, 'a')});
  EXPECT_EQ(response.status, 431);
  EXPECT_EQ(CodeOf(response), "HEADERS_TOO_LARGE");
  std::vector<std::string> many;
  for (int i = 0; i < 150; ++i) many.push_back("X-H" + std::to_string(i) + ": v");
  RawHttpClient many_headers(port_);
  response = many_headers.Request("GET", "/api/health", many);
  EXPECT_EQ(response.status, 431);
  EXPECT_EQ(CodeOf(response), "HEADERS_TOO_LARGE");
  RawHttpClient endless(port_);
  endless.Send("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: " +
               std::string(HttpServer::kMaxHeadBytes, 'a'));
  response = endless.Read();
  EXPECT_EQ(response.status, 431);
  EXPECT_EQ(CodeOf(response), "HEADERS_TOO_LARGE");
  RawHttpClient long_target(port_);
  response = long_target.Request("GET", "/things/" + std::string(20000, 'a'));
  EXPECT_EQ(response.status, 431);
}

TEST_F(HttpServerTest, PostBodiesMustBeJson) {
  StartServer();
  RawHttpClient client(port_);
  for (const std::vector<std::string>& headers :
       {std::vector<std::string>{},
        {"Content-Type: text/plain"},
        {"Content-Type: application/x-www-form-urlencoded"},
        {"Content-Type: application/jsonx"}}) {
    HttpResponse response = client.Request("POST", "/things/1/poke", headers, "{\"a\":1}");
    EXPECT_EQ(response.status, 415) << (headers.empty() ? "no type" : headers[0]);
    EXPECT_EQ(CodeOf(response), "UNSUPPORTED_MEDIA_TYPE");
  }
  HttpResponse json = client.Request(
      "POST", "/things/1/poke", {"Content-Type: Application/JSON; charset=utf-8"}, "{\"a\":1}");
  EXPECT_EQ(json.status, 202);
  EXPECT_EQ(json.body, "{\"body\":\"{\\\"a\\\":1}\"}");
  EXPECT_EQ(client.Request("POST", "/things/1/poke").status, 202) << "an empty body needs no type";
}

TEST_F(HttpServerTest, BodiesWaitingForContinueAndPipelinedRequestsAreServed) {
  StartServer();
  RawHttpClient client(port_);
  client.Send(
      "POST /things/1/poke HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: 2\r\nExpect: 100-continue\r\n\r\n");
  client.Send("{}");
  EXPECT_EQ(client.Read().status, 202);
  client.Send(
      "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /things/7 HTTP/1.1\r\nHost: "
      "127.0.0.1\r\n\r\n"
      "GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(client.Read().status, 200);
  EXPECT_THAT(client.Read().body, HasSubstr("\"id\":\"7\""));
  HttpResponse last = client.Read();
  EXPECT_EQ(last.status, 404);
  EXPECT_EQ(last.Header("connection"), "close");
  EXPECT_TRUE(client.ClosedWithin(milliseconds(5000)));
}

// A body sent without Content-Length is not acted on as if there were none: {"dry_run": true}
// would otherwise be ignored and the defaults done. A bodiless POST (curl -X POST) still works,
// and so does one followed by a pipelined request.
TEST_F(HttpServerTest, ABodyWithoutContentLengthIs411AndNotActedOn) {
  StartServer();
  for (const char* version : {"HTTP/1.1", "HTTP/1.0"}) {
    RawHttpClient client(port_);
    ASSERT_TRUE(client.Send(std::string("POST /things/1/poke ") + version +
                            "\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\r\n"
                            "{\"dry_run\": true}"));
    HttpResponse response = client.Read();
    EXPECT_EQ(response.status, 411) << version;
    EXPECT_EQ(CodeOf(response), "LENGTH_REQUIRED") << version;
    EXPECT_TRUE(client.ClosedWithin(milliseconds(5000))) << version;
  }
  RawHttpClient bodiless(port_);
  ASSERT_TRUE(
      bodiless.Send("POST /things/1/poke HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /things/7 "
                    "HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  EXPECT_EQ(bodiless.Read().status, 202);
  EXPECT_THAT(bodiless.Read().body, HasSubstr("\"id\":\"7\""));
}

// A client that promises more than it sends and closes its side is answered, not hung up on: it
// may still read, and a silent close looks like a server crash.
TEST_F(HttpServerTest, ARequestCutShortByTheClientClosingItsSideIsAnswered400) {
  StartServer();
  RawHttpClient short_body(port_);
  ASSERT_TRUE(short_body.Send(
      "POST /things/1/poke HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: 50\r\n\r\n{\"dry_run\": true}"));
  ASSERT_EQ(shutdown(short_body.fd(), SHUT_WR), 0);
  HttpResponse response = short_body.Read();
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(CodeOf(response), "BAD_REQUEST");
  EXPECT_THAT(response.body, HasSubstr("50 bytes of body"));
  RawHttpClient short_head(port_);
  ASSERT_TRUE(short_head.Send("GET /things/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  ASSERT_EQ(shutdown(short_head.fd(), SHUT_WR), 0);
  response = short_head.Read();
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(response.body, HasSubstr("within its head"));
  EXPECT_TRUE(Log().empty()) << "nothing reached a handler";
}

// Each field once: a handler's Cache-Control replaces the server's default rather than joining
// it, and a stream's own fields are not repeated by the server, for GET and for HEAD alike.
TEST_F(HttpServerTest, EveryHeaderFieldIsSentOnce) {
  StartServer();
  const auto count = [](const std::string& head, const std::string& field) {
    size_t n = 0;
    for (size_t at = head.find(field); at != std::string::npos; at = head.find(field, at + 1)) ++n;
    return n;
  };
  HttpResponse plain = Get("/things/1");
  EXPECT_EQ(count(plain.head, "Cache-Control:"), 1u) << plain.head;
  EXPECT_EQ(plain.Header("cache-control"), "no-store");
  RawHttpClient head_client(port_);
  HttpResponse head = head_client.Request("HEAD", "/quiet");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(count(head.head, "Cache-Control:"), 1u) << head.head;
  EXPECT_EQ(head.Header("cache-control"), "no-cache");
  RawHttpClient stream(port_);
  ASSERT_TRUE(stream.Send("GET /quiet HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  ASSERT_TRUE(probe_.WaitStarted(1, std::chrono::seconds(20)));
  server_->Stop();  // the stream then ends cleanly, and the whole response can be read
  HttpResponse streamed = stream.Read();
  EXPECT_EQ(streamed.status, 200);
  EXPECT_EQ(count(streamed.head, "Cache-Control:"), 1u) << streamed.head;
  EXPECT_EQ(count(streamed.head, "X-Accel-Buffering:"), 1u) << streamed.head;
  EXPECT_EQ(streamed.Header("cache-control"), "no-cache");
  EXPECT_EQ(streamed.Header("x-content-type-options"), "nosniff");
}

TEST_F(HttpServerTest, HandlerExceptionsAre500AndOneLogLine) {
  StartServer();
  HttpResponse response = Get("/boom");
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(CodeOf(response), "INTERNAL_ERROR");
  EXPECT_THAT(response.body, Not(HasSubstr("kaboom"))) << "internals stay in the log";
  std::vector<std::string> log = Log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_THAT(log[0], HasSubstr("GET /boom"));
  EXPECT_THAT(log[0], HasSubstr("kaboom"));
  EXPECT_EQ(Get("/api/health").status, 200) << "the server carries on";
}

class HttpServerTokenTest : public HttpServerTest {
 protected:
  HttpServerTokenTest() {
    config_.token = "operator-token-0123456789";
    config_.read_only_token = "reader";
  }
};

TEST_F(HttpServerTokenTest, MissingOrMalformedTokensAre401WithTheBearerChallenge) {
  StartServer();
  for (const std::vector<std::string>& headers : {std::vector<std::string>{},
                                                  {"Authorization: Basic b3BlcmF0b3I6eA=="},
                                                  {"Authorization: Bearer"},
                                                  {"Authorization: Bearer    "},
                                                  {"Authorization: bearer"},
                                                  {"Authorization: operator-token-0123456789"}}) {
    HttpResponse response = Get("/things/1", headers);
    const std::string what = headers.empty() ? "none" : headers[0];
    EXPECT_EQ(response.status, 401) << what;
    EXPECT_EQ(CodeOf(response), "UNAUTHORIZED") << what;
    EXPECT_EQ(response.Header("www-authenticate"), "Bearer realm=\"petit\"") << what;
  }
}

TEST_F(HttpServerTokenTest, WrongTokensAre401WhateverTheirLength) {
  StartServer();
  for (const std::string& token :
       {std::string("x"), std::string("operator-token-012345678"),
        std::string("operator-token-01234567890"), std::string("OPERATOR-TOKEN-0123456789"),
        std::string("readers"), std::string(4000, 'o')}) {
    HttpResponse response = Get("/things/1", {"Authorization: Bearer " + token});
    EXPECT_EQ(response.status, 401) << token.size();
    EXPECT_EQ(CodeOf(response), "UNAUTHORIZED");
    EXPECT_THAT(response.Header("www-authenticate"), HasSubstr("error=\"invalid_token\""));
  }
}

TEST_F(HttpServerTokenTest, TheReadOnlyTokenReadsButCannotOperate) {
  StartServer();
  HttpResponse read = Get("/things/1", {"Authorization: Bearer reader"});
  EXPECT_EQ(read.status, 200);
  EXPECT_THAT(read.body, HasSubstr("\"read_only\":true"));
  RawHttpClient client(port_);
  HttpResponse write = client.Request("POST", "/things/1/poke", {"Authorization: Bearer reader"});
  EXPECT_EQ(write.status, 403);
  EXPECT_EQ(CodeOf(write), "FORBIDDEN");
  HttpResponse op = client.Request("POST", "/things/1/poke",
                                   {"Authorization:   bearer operator-token-0123456789  "});
  EXPECT_EQ(op.status, 202);
  HttpResponse op_read = Get("/things/1", {"Authorization: Bearer operator-token-0123456789"});
  EXPECT_THAT(op_read.body, HasSubstr("\"read_only\":false"));
  EXPECT_EQ(Get("/api/health").status, 200) << "public routes need no token";
  EXPECT_EQ(Get("/nope").status, 401) << "without a token, not even which paths exist";
  EXPECT_EQ(Get("/nope", {"Authorization: Bearer reader"}).status, 404);
  EXPECT_EQ(client.Request("PUT", "/things/1", {"Authorization: Bearer reader"}).status, 405);
  EXPECT_EQ(client.Request("PUT", "/things/1").status, 401);
  EXPECT_EQ(Get("/api/health", {"Authorization: Bearer wrong"}).status, 200);
}

TEST_F(HttpServerTest, WithoutTokensEveryCallerOperates) {
  StartServer();
  RawHttpClient client(port_);
  EXPECT_EQ(client.Request("POST", "/things/1/poke").status, 202);
  EXPECT_EQ(client.Request("POST", "/things/1/poke", {"Authorization: Bearer anything"}).status,
            202);
}

TEST_F(HttpServerTest, CorsHeadersGoOnlyToListedOrigins) {
  config_.cors_origins = {"https://ops.example.com"};
  StartServer();
  HttpResponse listed = Get("/things/1", {"Origin: https://ops.example.com"});
  EXPECT_EQ(listed.Header("access-control-allow-origin"), "https://ops.example.com");
  EXPECT_EQ(listed.Header("vary"), "Origin");
  for (const char* origin : {"https://evil.example.com", "null", "https://ops.example.com.evil"}) {
    HttpResponse other = Get("/things/1", {std::string("Origin: ") + origin});
    EXPECT_EQ(other.status, 200);
    EXPECT_EQ(other.headers.count("access-control-allow-origin"), 0u) << origin;
  }
  RawHttpClient client(port_);
  HttpResponse preflight =
      client.Request("OPTIONS", "/things/1/poke",
                     {"Origin: https://ops.example.com", "Access-Control-Request-Method: POST",
                      "Access-Control-Request-Headers: authorization, content-type"});
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.Header("access-control-allow-origin"), "https://ops.example.com");
  EXPECT_EQ(preflight.Header("access-control-allow-methods"), "POST");
  EXPECT_THAT(preflight.Header("access-control-allow-headers"), HasSubstr("Authorization"));
  HttpResponse stranger =
      client.Request("OPTIONS", "/things/1/poke",
                     {"Origin: https://evil.example.com", "Access-Control-Request-Method: POST"});
  EXPECT_EQ(stranger.status, 405);
  EXPECT_EQ(stranger.headers.count("access-control-allow-origin"), 0u);
}

TEST_F(HttpServerTest, PagesElsewhereCannotWriteThroughABrowser) {
  config_.cors_origins = {"https://ops.example.com"};
  StartServer();
  RawHttpClient client(port_);
  const std::string host = "Host: 127.0.0.1:" + std::to_string(port_);
  for (const char* origin : {"https://evil.example.com", "null", "http://127.0.0.1:1"}) {
    HttpResponse forged =
        client.Request("POST", "/things/1/poke", {std::string("Origin: ") + origin});
    EXPECT_EQ(forged.status, 403) << origin;
    EXPECT_EQ(CodeOf(forged), "FORBIDDEN") << origin;
    EXPECT_THAT(forged.body, HasSubstr("cross-origin request")) << origin;
  }
  EXPECT_EQ(client.Request("POST", "/things/1/poke", {"Origin: https://ops.example.com"}).status,
            202)
      << "a listed origin";
  HttpResponse same = client.Request("POST", "/things/1/poke",
                                     {host, "Origin: http://127.0.0.1:" + std::to_string(port_)});
  EXPECT_EQ(same.status, 202) << "the API's own origin";
  EXPECT_EQ(Get("/things/1", {"Origin: https://evil.example.com"}).status, 200)
      << "reads are not refused (and without CORS headers a page cannot read them)";
}

TEST_F(HttpServerTest, WithoutTokensOnlyLoopbackNamesAreAnswered) {
  StartServer();
  for (const std::string& host : {std::string("127.0.0.1"), std::string("localhost:8565"),
                                  std::string("LOCALHOST"), std::string("[::1]:80")}) {
    RawHttpClient client(port_);
    client.Send("GET /things/1 HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    EXPECT_EQ(client.Read().status, 200) << host;
  }
  for (const std::string& host :
       {std::string("evil.example.com"), std::string("127.0.0.1.evil.example.com"),
        std::string("[::2]:80")}) {
    RawHttpClient client(port_);
    client.Send("GET /things/1 HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    HttpResponse rebound = client.Read();
    EXPECT_EQ(rebound.status, 403) << host;
    EXPECT_THAT(rebound.body, HasSubstr("loopback name")) << host;
  }
  RawHttpClient no_host(port_);
  no_host.Send("GET /things/1 HTTP/1.0\r\n\r\n");
  EXPECT_EQ(no_host.Read().status, 200);
  // A target in absolute form names its host itself (RFC 9112, 3.2.2): Host cannot vouch for it.
  RawHttpClient absolute(port_);
  absolute.Send(
      "POST http://evil.example.com/things/1/poke HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Content-Length: 0\r\n\r\n");
  HttpResponse elsewhere = absolute.Read();
  EXPECT_EQ(elsewhere.status, 403);
  EXPECT_THAT(elsewhere.body, HasSubstr("evil.example.com"));
  RawHttpClient loopback(port_);
  loopback.Send("GET http://127.0.0.1/things/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(loopback.Read().status, 200);
  RawHttpClient missing(port_);
  missing.Send("GET /things/1 HTTP/1.1\r\n\r\n");
  HttpResponse refused = missing.Read();
  EXPECT_EQ(refused.status, 400);
  EXPECT_THAT(refused.body, HasSubstr("Host"));
}

TEST_F(HttpServerTest, ThePathPrefixIsServedWithAndWithoutIt) {
  config_.path_prefix = "/petit";
  StartServer();
  EXPECT_EQ(Get("/petit/api/health").status, 200);
  EXPECT_EQ(Get("/api/health").status, 200);
  EXPECT_THAT(Get("/petit/things/9").body, HasSubstr("\"path\":\"/things/9\""));
  EXPECT_EQ(Get("/petitx/api/health").status, 404);
  EXPECT_THAT(server_->url(), ::testing::EndsWith("/petit"));
}

// Opens `count` connections that never send a byte.
std::vector<std::unique_ptr<RawHttpClient>> IdleConnections(uint16_t port, int count) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;  // both ends of every connection live in this process
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  std::vector<std::unique_ptr<RawHttpClient>> idle;
  for (int i = 0; i < count; ++i) {
    idle.push_back(std::make_unique<RawHttpClient>(port));
    if (!idle.back()->connected()) break;
  }
  return idle;
}

TEST_F(HttpServerTest, AThousandIdleConnectionsDoNotDelayANewClient) {
  config_.max_threads = 4;
  config_.max_connections = 2000;
  config_.timeout = milliseconds(60000);  // none of them times out during the test
  StartServer();
  std::vector<std::unique_ptr<RawHttpClient>> idle = IdleConnections(port_, 1000);
  ASSERT_EQ(idle.size(), 1000u);
  for (int i = 0; i < 20; ++i) {
    const auto start = Clock::now();
    HttpResponse health = Get("/api/health");
    EXPECT_EQ(health.status, 200);
    EXPECT_LT(Clock::now() - start, milliseconds(1000));
  }
  // They are all still open: no thread was spent on them.
  RawHttpClient& first = *idle.front();
  EXPECT_EQ(first.Request("GET", "/api/health").status, 200);
}

TEST_F(HttpServerTest, AtTheConnectionLimitTheLongestIdleConnectionMakesRoom) {
  config_.max_threads = 4;
  config_.max_connections = 64;
  config_.timeout = milliseconds(60000);
  StartServer();
  std::vector<std::unique_ptr<RawHttpClient>> idle = IdleConnections(port_, 1000);
  ASSERT_EQ(idle.size(), 1000u);
  const auto start = Clock::now();
  HttpResponse health = Get("/api/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_LT(Clock::now() - start, milliseconds(1000));
  EXPECT_TRUE(idle.front()->ClosedWithin(milliseconds(5000)))
      << "the oldest idle connection was closed to make room";
}

TEST_F(HttpServerTest, ASlowRequestIsCutOffAtTheTimeoutWithoutDelayingOthers) {
  config_.max_threads = 1;
  config_.max_streams = 0;
  StartServer();
  RawHttpClient slow(port_);
  ASSERT_TRUE(slow.Send("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
  const auto start = Clock::now();
  EXPECT_EQ(Get("/api/health").status, 200) << "the only worker is not held by the slow client";
  HttpResponse cut = slow.Read();
  EXPECT_EQ(cut.status, 408);
  EXPECT_EQ(CodeOf(cut), "REQUEST_TIMEOUT");
  EXPECT_GE(Clock::now() - start, milliseconds(900));
  EXPECT_TRUE(slow.ClosedWithin(milliseconds(5000)));
  RawHttpClient idle(port_);
  EXPECT_TRUE(idle.ClosedWithin(milliseconds(5000))) << "an idle connection is closed too";
}

TEST_F(HttpServerTest, AStreamClientThatNeverReadsIsDroppedAndStopStillReturns) {
  config_.timeout = milliseconds(2000);
  StartServer();
  RawHttpClient reader(port_);
  ASSERT_TRUE(reader.Send("GET /flood HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));  // and never reads
  ASSERT_TRUE(probe_.WaitStarted(1, std::chrono::seconds(20)));
  EXPECT_TRUE(probe_.WaitEnded(1, std::chrono::seconds(20)))
      << "the stream must end once a write stalls for api.timeout";
  {
    std::lock_guard lock(probe_.mu);
    EXPECT_TRUE(probe_.saw_failed_write);
    EXPECT_FALSE(probe_.saw_stopping);
  }
  EXPECT_EQ(Get("/api/health").status, 200);
  // Another that never reads, and a quiet one, open while the server stops.
  RawHttpClient flooded(port_);
  ASSERT_TRUE(flooded.Send("GET /flood HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  RawHttpClient quiet(port_);
  ASSERT_TRUE(quiet.Send("GET /quiet HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  ASSERT_TRUE(probe_.WaitStarted(3, std::chrono::seconds(20)));
  const auto start = Clock::now();
  server_->Stop();
  EXPECT_LT(Clock::now() - start, milliseconds(1500)) << "Stop does not wait out write timeouts";
  EXPECT_TRUE(probe_.WaitEnded(3, std::chrono::seconds(1)));
  HttpResponse stopped = quiet.Read();
  EXPECT_EQ(stopped.status, 200);
  EXPECT_EQ(stopped.body, "data: hello\n\n") << "the quiet stream ended cleanly";
}

TEST_F(HttpServerTest, AStreamEndsWhenItsClientGoesAway) {
  config_.timeout = milliseconds(60000);  // only noticing the client gone ends it in time
  StartServer();
  {
    RawHttpClient reader(port_);
    ASSERT_TRUE(reader.Send("GET /flood HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    ASSERT_TRUE(probe_.WaitStarted(1, std::chrono::seconds(20)));
  }  // closed
  EXPECT_TRUE(probe_.WaitEnded(1, std::chrono::seconds(20)));
  std::lock_guard lock(probe_.mu);
  EXPECT_TRUE(probe_.saw_failed_write);
}

TEST_F(HttpServerTest, ASlowHandlerHoldsOnlyItsOwnThread) {
  config_.max_threads = 2;
  config_.max_streams = 1;
  StartServer();
  RawHttpClient slow(port_);
  ASSERT_TRUE(slow.Send("GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  ASSERT_TRUE(probe_.WaitStarted(1, std::chrono::seconds(20)));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Get("/api/health").status, 200);
  ReleaseSlow();
  EXPECT_EQ(slow.Read().body, "{\"slow\":true}");
}

// At max_streams a new stream makes room: the oldest ends (cleanly: a client that still reads
// reconnects and resumes from Last-Event-ID), so clients that stopped reading, whose writes may
// never stall on a quiet daemon, cannot lock every later watcher out.
TEST_F(HttpServerTest, AStreamBeyondMaxStreamsEndsTheOldest) {
  config_.max_streams = 2;
  StartServer();
  RawHttpClient one(port_);
  ASSERT_TRUE(one.Send("GET /quiet HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  ASSERT_TRUE(probe_.WaitStarted(1, std::chrono::seconds(20)));
  RawHttpClient two(port_);
  ASSERT_TRUE(two.Send("GET /quiet HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  ASSERT_TRUE(probe_.WaitStarted(2, std::chrono::seconds(20)));
  RawHttpClient three(port_);
  ASSERT_TRUE(three.Send("GET /quiet HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  ASSERT_TRUE(probe_.WaitStarted(3, std::chrono::seconds(20)));
  HttpResponse oldest = one.Read();
  EXPECT_EQ(oldest.status, 200);
  EXPECT_EQ(oldest.body, "data: hello\n\n") << "the oldest stream ended cleanly";
  EXPECT_TRUE(probe_.WaitEnded(1, std::chrono::seconds(20)));
  EXPECT_EQ(Get("/api/health").status, 200);
  server_->Stop();
  EXPECT_EQ(two.Read().body, "data: hello\n\n");
  EXPECT_EQ(three.Read().body, "data: hello\n\n");
  EXPECT_TRUE(probe_.WaitEnded(3, std::chrono::seconds(20)));
}

TEST_F(HttpServerTest, AStreamIsChunkedOverHttp11AndCloseDelimitedOverHttp10) {
  StartServer();
  RawHttpClient one_one(port_);
  ASSERT_TRUE(one_one.Send("GET /quiet HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  RawHttpClient one_zero(port_);
  ASSERT_TRUE(one_zero.Send("GET /quiet HTTP/1.0\r\n\r\n"));
  ASSERT_TRUE(probe_.WaitStarted(2, std::chrono::seconds(20)));
  server_->Stop();
  HttpResponse chunked = one_one.Read();
  EXPECT_EQ(chunked.Header("transfer-encoding"), "chunked");
  EXPECT_EQ(chunked.Header("content-type"), "text/event-stream");
  EXPECT_EQ(chunked.body, "data: hello\n\n");
  HttpResponse plain = one_zero.Read();
  EXPECT_EQ(plain.headers.count("transfer-encoding"), 0u);
  EXPECT_EQ(plain.body, "data: hello\n\n");
}

TEST_F(HttpServerTest, ListeningOnAPortInUseNamesTheAddress) {
  StartServer();
  ApiConfig taken = config_;
  taken.port = port_;
  HttpServer second(taken, [](std::string_view) {});
  Status status = second.Listen();
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(port_) +
                                          ": Address already in use"));
}

TEST_F(HttpServerTest, ServesIpv6Loopback) {
  config_.bind = "::1";
  server_ = std::make_unique<HttpServer>(config_, [](std::string_view) {});
  if (!server_->Listen().ok()) GTEST_SKIP() << "no IPv6 loopback here";
  server_->Start(Routes());
  EXPECT_THAT(server_->url(), HasSubstr("http://[::1]:"));
}

}  // namespace
}  // namespace petit::host
