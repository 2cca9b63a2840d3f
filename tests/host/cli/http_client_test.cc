// The CLI's HTTP client (cli/http_client.h, through ApiClient where it can): the body framings a
// server or a proxy in front of it may answer with, a kept connection the server closed, and the
// lines of an event stream split across chunks. The server is a scripted loopback socket: each
// connection it accepts answers its requests with canned bytes, in order, then closes.
#include "cli/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/api_client.h"

namespace petit::host {
namespace {

using ::testing::ElementsAre;

constexpr std::chrono::milliseconds kTimeout{5000};

// Per connection, the answers to its requests in order.
using Scripts = std::vector<std::vector<std::string>>;

// Accepts one connection per script; on each, reads a request head per answer and writes the
// answer, then closes the connection. Records the request lines it read.
class ScriptedServer {
 public:
  explicit ScriptedServer(Scripts scripts) : scripts_(std::move(scripts)) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(listen(fd_, 8), 0);
    socklen_t length = sizeof address;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    Join();
    close(fd_);
  }

  // Waits until every script has been answered (the client must have closed what it kept).
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Read after Join.
  const std::vector<std::string>& request_lines() const { return request_lines_; }

 private:
  void Serve() {
    for (const std::vector<std::string>& answers : scripts_) {
      const int connection = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (connection < 0) return;
      std::string in;
      for (const std::string& answer : answers) {
        size_t end;
        while ((end = in.find("\r\n\r\n")) == std::string::npos) {
          char buffer[4096];
          const ssize_t got = recv(connection, buffer, sizeof buffer, 0);
          if (got <= 0) break;
          in.append(buffer, static_cast<size_t>(got));
        }
        if (end == std::string::npos) break;
        request_lines_.push_back(in.substr(0, in.find("\r\n")));
        in.erase(0, end + 4);
        send(connection, answer.data(), answer.size(), MSG_NOSIGNAL);
      }
      close(connection);
    }
  }

  const Scripts scripts_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::vector<std::string> request_lines_;
  std::thread thread_;
};

TEST(HttpClientTest, ReadsAChunkedBodyThenAContentLengthOneOnTheSameConnection) {
  ScriptedServer server(
      Scripts{{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
               "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}"}});
  Result<std::unique_ptr<ApiClient>> client = ApiClient::Create(DaemonAddress{server.url(), ""});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Result<ApiAnswer> first = (*client)->Get("/a");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "hello world");
  Result<ApiAnswer> second = (*client)->Get("/b");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->status, 404);
  EXPECT_EQ(second->body, "{}");
  client->reset();
  server.Join();
  EXPECT_THAT(server.request_lines(), ElementsAre("GET /a HTTP/1.1", "GET /b HTTP/1.1"));
}

TEST(HttpClientTest, ABodyEndedByTheCloseIsReadWholeAndTheNextRequestConnectsAgain) {
  ScriptedServer server(
      Scripts{{"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\":1}"},
              {"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{\"b\":2}"}});
  Result<std::unique_ptr<ApiClient>> client = ApiClient::Create(DaemonAddress{server.url(), ""});
  ASSERT_TRUE(client.ok());
  Result<ApiAnswer> first = (*client)->Post("/x", "{}");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->body, "{\"a\":1}");
  Result<ApiAnswer> second = (*client)->Get("/y");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->body, "{\"b\":2}");
}

TEST(HttpClientTest, AKeptConnectionTheServerClosedIsRetriedOnceOnANewOne) {
  // The first connection answers once with keep-alive, then closes (an idle timeout).
  ScriptedServer server(Scripts{{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1"},
                                {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2"}});
  Result<std::unique_ptr<ApiClient>> client = ApiClient::Create(DaemonAddress{server.url(), ""});
  ASSERT_TRUE(client.ok());
  Result<ApiAnswer> first = (*client)->Get("/1");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  Result<ApiAnswer> second = (*client)->Get("/2");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->body, "2");
}

TEST(HttpClientTest, AnAnswerThatIsNotHttpIsUnavailableOnOneLine) {
  ScriptedServer server(Scripts{{"SSH-2.0-OpenSSH_9.2\r\n\r\n"}});
  Result<std::unique_ptr<ApiClient>> client = ApiClient::Create(DaemonAddress{server.url(), ""});
  ASSERT_TRUE(client.ok());
  Result<ApiAnswer> answer = (*client)->Get("/api/v1/health");
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(answer.status().message(), ::testing::HasSubstr("not HTTP"));
  EXPECT_EQ(answer.status().message().find('\n'), std::string::npos);
}

TEST(HttpClientTest, ABodyOverTheLimitIsRefused) {
  ScriptedServer server(Scripts{{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"}});
  ApiClientOptions options;
  options.max_body_bytes = 4;
  Result<std::unique_ptr<ApiClient>> client =
      ApiClient::Create(DaemonAddress{server.url(), ""}, options);
  ASSERT_TRUE(client.ok());
  Result<ApiAnswer> answer = (*client)->Get("/big");
  ASSERT_FALSE(answer.ok());
  EXPECT_THAT(answer.status().message(), ::testing::HasSubstr("sent more than 4 bytes"));
}

TEST(HttpConnectionTest, ReadsBodyLinesSplitAcrossChunksAndLineEnds) {
  ScriptedServer server(
      Scripts{{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               "4\r\nid: \r\n"
               "a\r\n1\r\ndata: x\r\n"
               "3\r\n\n\n:\r\n"
               "0\r\n\r\n"}});
  HttpConnection connection("127.0.0.1", server.port());
  ASSERT_TRUE(connection.Connect(kTimeout).ok());
  ASSERT_TRUE(connection.Send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n", kTimeout).ok());
  bool received_nothing = false;
  Result<HttpResponseHead> head = connection.ReadHead(kTimeout, received_nothing);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_TRUE(head->chunked);
  std::vector<std::string> lines;
  std::string line;
  while (true) {
    Result<bool> more = connection.ReadBodyLine(*head, kTimeout, line);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    lines.push_back(line);
  }
  EXPECT_THAT(lines, ElementsAre("id: 1", "data: x", "", ":"));
}

TEST(HttpUrlTest, SpellsHostsAndEncodesSegments) {
  HttpUrlParse parsed = ParseHttpUrl("http://[::1]:9/p/");
  ASSERT_EQ(parsed.refusal, "");
  EXPECT_EQ(parsed.url.host, "::1");
  EXPECT_EQ(UrlHost(parsed.url.host), "[::1]");
  EXPECT_EQ(parsed.url.port, 9);
  EXPECT_EQ(parsed.url.prefix, "/p");
  EXPECT_EQ(PercentEncodeSegment("a b/c?d#e%f&g=h+i;j~k.l-m_n:o@p"),
            "a%20b%2Fc%3Fd%23e%25f%26g%3Dh%2Bi%3Bj~k.l-m_n:o@p");
  EXPECT_EQ(PercentEncodeSegment("é"), "%C3%A9");
}

}  // namespace
}  // namespace petit::host
