// The CLI's API client: where it looks for the daemon, what it sends, and what it says when
// nothing answers.
#include "cli/api_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "host/cli/fake_api_server.h"
#include "storage_backends/test_databases.h"

namespace petit::host {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// Sets (or unsets) PETIT_API_TOKEN for one test.
class ScopedToken {
 public:
  explicit ScopedToken(const char* value) {
    if (const char* old = getenv("PETIT_API_TOKEN")) old_ = old;
    if (value == nullptr) {
      unsetenv("PETIT_API_TOKEN");
    } else {
      setenv("PETIT_API_TOKEN", value, 1);
    }
  }
  ~ScopedToken() {
    if (old_.has_value()) {
      setenv("PETIT_API_TOKEN", old_->c_str(), 1);
    } else {
      unsetenv("PETIT_API_TOKEN");
    }
  }

 private:
  std::optional<std::string> old_;
};

// A loopback port nothing listens on: bound, then closed.
uint16_t ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

TEST(ParseServerUrlTest, AcceptsHttpUrlsWithAndWithoutPortAndPrefix) {
  ScopedToken token(nullptr);
  struct Case {
    const char* given;
    const char* url;
  };
  for (const Case& c : {Case{"http://127.0.0.1:8565", "http://127.0.0.1:8565"},
                        Case{"http://127.0.0.1:8565/", "http://127.0.0.1:8565"},
                        Case{"http://ops.example.com", "http://ops.example.com:80"},
                        Case{"http://proxy:8080/petit/", "http://proxy:8080/petit"},
                        Case{"http://proxy:8080/a/b", "http://proxy:8080/a/b"},
                        Case{"http://[::1]:9000", "http://[::1]:9000"},
                        Case{"HTTP://LocalHost:1", "http://localhost:1"}}) {
    SCOPED_TRACE(c.given);
    Result<DaemonAddress> address = ParseServerUrl(c.given);
    ASSERT_TRUE(address.ok()) << address.status().ToString();
    EXPECT_EQ(address->url, c.url);
    EXPECT_EQ(address->token, "");
  }
}

TEST(ParseServerUrlTest, RefusesWhatIsNotAPlainHttpUrlNamingTheProblem) {
  struct Case {
    const char* given;
    const char* says;
  };
  for (const Case& c :
       {Case{"", "is not an http URL"}, Case{"127.0.0.1:8565", "is not an http URL"},
        Case{"ftp://host/", "is not an http URL"}, Case{"https://host:8565", "https"},
        Case{"http://", "names no host"}, Case{"http:///petit", "names no host"},
        Case{"http://host:0", "port"}, Case{"http://host:99999", "not a URL"},
        Case{"http://user:pw@host:1", "parts the CLI does not use"},
        Case{"http://host:1/?x=1", "parts the CLI does not use"},
        Case{"http://host:1/#top", "parts the CLI does not use"}}) {
    SCOPED_TRACE(c.given);
    Result<DaemonAddress> address = ParseServerUrl(c.given);
    ASSERT_FALSE(address.ok()) << address->url;
    EXPECT_EQ(address.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(address.status().message(), HasSubstr(c.says));
    EXPECT_THAT(address.status().message(), HasSubstr("--server '" + std::string(c.given) + "'"));
    EXPECT_THAT(address.status().message(), Not(HasSubstr("\n")));
  }
}

TEST(AddressFromConfigTest, ReachesEveryInterfaceBindOnTheLoopback) {
  ScopedToken token(nullptr);
  struct Case {
    const char* bind;
    const char* url;
  };
  for (const Case& c :
       {Case{"127.0.0.1", "http://127.0.0.1:7000"}, Case{"0.0.0.0", "http://127.0.0.1:7000"},
        Case{"::", "http://[::1]:7000"}, Case{"::1", "http://[::1]:7000"},
        Case{"fd00::5", "http://[fd00::5]:7000"}, Case{"10.1.2.3", "http://10.1.2.3:7000"},
        Case{"localhost", "http://localhost:7000"}}) {
    SCOPED_TRACE(c.bind);
    ApiConfig api;
    api.bind = c.bind;
    api.port = 7000;
    EXPECT_EQ(AddressFromConfig(api).url, c.url);
  }
}

TEST(AddressFromConfigTest, PetitApiTokenOverridesTheConfiguredToken) {
  ApiConfig api;
  api.token = "from-yaml";
  {
    ScopedToken token(nullptr);
    EXPECT_EQ(AddressFromConfig(api).token, "from-yaml");
  }
  {
    ScopedToken token("from-env");
    EXPECT_EQ(AddressFromConfig(api).token, "from-env");
  }
}

class FindDaemonTest : public ::testing::Test {
 protected:
  std::string WriteConfig(const std::string& text) {
    const std::string path = dir_.path() + "/petit.yaml";
    std::ofstream(path) << text;
    return path;
  }
  testing::TempDir dir_;
};

TEST_F(FindDaemonTest, WithoutConfigOrServerItIsTheDefaultLoopbackAddress) {
  ScopedToken token(nullptr);
  Args args;
  args.host.jobs_dir = dir_.path();  // no petit.yaml in it
  std::vector<std::string> warnings;
  Result<DaemonAddress> address = FindDaemon(args, warnings);
  ASSERT_TRUE(address.ok()) << address.status().ToString();
  EXPECT_EQ(address->url, "http://127.0.0.1:8565");
  EXPECT_EQ(address->token, "");
  EXPECT_THAT(warnings, IsEmpty());
}

TEST_F(FindDaemonTest, ReadsBindPortAndTokenFromTheDirectorysPetitYaml) {
  ScopedToken token(nullptr);
  WriteConfig("api:\n  bind: 0.0.0.0\n  port: 9123\n  token: s3cret\n  path_prefix: /petit\n");
  Args args;
  args.host.jobs_dir = dir_.path();
  std::vector<std::string> warnings;
  Result<DaemonAddress> address = FindDaemon(args, warnings);
  ASSERT_TRUE(address.ok()) << address.status().ToString();
  EXPECT_EQ(address->url, "http://127.0.0.1:9123/petit");
  EXPECT_EQ(address->token, "s3cret");
}

TEST_F(FindDaemonTest, ConfigOptionWinsOverTheDirectory) {
  ScopedToken token(nullptr);
  WriteConfig("api:\n  port: 9001\n");
  testing::TempDir other;
  const std::string config = other.path() + "/elsewhere.yaml";
  std::ofstream(config) << "api:\n  port: 9002\n";
  Args args;
  args.host.jobs_dir = dir_.path();
  args.host.config_path = config;
  std::vector<std::string> warnings;
  Result<DaemonAddress> address = FindDaemon(args, warnings);
  ASSERT_TRUE(address.ok()) << address.status().ToString();
  EXPECT_EQ(address->url, "http://127.0.0.1:9002");
}

TEST_F(FindDaemonTest, ServerOptionWinsAndTakesTheTokenFromTheEnvironmentOrConfig) {
  WriteConfig("api:\n  port: 9001\n  token: yaml-token\n");
  Args args;
  args.host.jobs_dir = dir_.path();
  args.server = "http://10.0.0.7:8000/petit";
  std::vector<std::string> warnings;
  {
    ScopedToken token(nullptr);
    Result<DaemonAddress> address = FindDaemon(args, warnings);
    ASSERT_TRUE(address.ok()) << address.status().ToString();
    EXPECT_EQ(address->url, "http://10.0.0.7:8000/petit");
    EXPECT_EQ(address->token, "yaml-token");
  }
  {
    ScopedToken token("env-token");
    Result<DaemonAddress> address = FindDaemon(args, warnings);
    ASSERT_TRUE(address.ok()) << address.status().ToString();
    EXPECT_EQ(address->token, "env-token");
  }
  args.server = "https://10.0.0.7";
  EXPECT_EQ(FindDaemon(args, warnings).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(FindDaemonTest, AnUnreadableOrInvalidPetitYamlLeavesTheDefaultsWithAWarning) {
  ScopedToken token("env-token");
  for (const char* text : {"api: [unclosed\n", "api:\n  port: not-a-number\n", "nonsense: 1\n"}) {
    SCOPED_TRACE(text);
    WriteConfig(text);
    Args args;
    args.host.jobs_dir = dir_.path();
    std::vector<std::string> warnings;
    Result<DaemonAddress> address = FindDaemon(args, warnings);
    ASSERT_TRUE(address.ok()) << address.status().ToString();
    EXPECT_EQ(address->url, "http://127.0.0.1:8565");
    EXPECT_EQ(address->token, "env-token");
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_THAT(warnings[0], HasSubstr("petit.yaml not read"));
    EXPECT_THAT(warnings[0], Not(HasSubstr("\n")));
  }
  if (geteuid() != 0) {  // root reads any file
    const std::string path = WriteConfig("api:\n  port: 9001\n");
    std::filesystem::permissions(path, std::filesystem::perms::none);
    Args args;
    args.host.config_path = path;
    std::vector<std::string> warnings;
    Result<DaemonAddress> address = FindDaemon(args, warnings);
    ASSERT_TRUE(address.ok()) << address.status().ToString();
    EXPECT_EQ(address->url, "http://127.0.0.1:8565");
    EXPECT_THAT(warnings, ::testing::SizeIs(1));
  }
}

TEST(ApiClientTest, GetAndPostReachThePathWithTheTokenAndJson) {
  testing::FakeApiServer server;
  server.Respond("GET", "/api/v1/scheduler", 200, R"({"paused":false})");
  server.Respond("POST", "/api/v1/runs/x/retry", 202, R"({"run_id":"x"})");
  Result<std::unique_ptr<ApiClient>> client = ApiClient::Create(DaemonAddress{server.url(), "tok"});
  ASSERT_TRUE(client.ok()) << client.status().ToString();

  Result<ApiAnswer> got = (*client)->Get("/api/v1/scheduler");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, R"({"paused":false})");

  Result<ApiAnswer> posted = (*client)->Post("/api/v1/runs/x/retry", R"({"dry_run":true})");
  ASSERT_TRUE(posted.ok()) << posted.status().ToString();
  EXPECT_EQ(posted->status, 202);

  // Any other status is an answer too, passed on as it came.
  Result<ApiAnswer> missing = (*client)->Get("/api/v1/runs/nope");
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_EQ(missing->status, 404);
  EXPECT_THAT(missing->body, HasSubstr("NOT_FOUND"));

  const std::vector<testing::FakeApiServer::Request> requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].authorization, "Bearer tok");
  EXPECT_EQ(requests[1].method, "POST");
  EXPECT_EQ(requests[1].uri, "/api/v1/runs/x/retry");
  EXPECT_EQ(requests[1].content_type, "application/json");
  EXPECT_EQ(requests[1].body, R"({"dry_run":true})");
}

TEST(ApiClientTest, ThePathPrefixComesBeforeEveryPathAndNoTokenSendsNoAuthorization) {
  testing::FakeApiServer server;
  server.Respond("GET", "/petit/api/v1/health", 200, "{}");
  Result<std::unique_ptr<ApiClient>> client =
      ApiClient::Create(DaemonAddress{server.url() + "/petit", ""});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Result<ApiAnswer> got = (*client)->Get("/api/v1/health");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->status, 200);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].authorization, "");
}

TEST(ApiClientTest, NothingListeningIsUnavailableWithTheOneLineMessage) {
  const std::string url = "http://127.0.0.1:" + std::to_string(ClosedPort());
  Result<std::unique_ptr<ApiClient>> client = ApiClient::Create(DaemonAddress{url, ""});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  for (int i = 0; i < 2; ++i) {  // and again on the same client
    Result<ApiAnswer> got = (*client)->Get("/api/v1/scheduler");
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
    EXPECT_EQ(got.status().message(), "no daemon answers at " + url + " (is `petit run` running?)");
  }
}

TEST(ApiClientTest, AListenerThatHangsUpOrNeverAnswersIsUnavailable) {
  // Accepts connections (the kernel does, from the backlog) but never reads or answers.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  ApiClientOptions options;
  options.io_timeout = std::chrono::milliseconds(200);  // a real socket: the wait is the point
  Result<std::unique_ptr<ApiClient>> client = ApiClient::Create(DaemonAddress{url, ""}, options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Result<ApiAnswer> got = (*client)->Get("/api/v1/scheduler");
  close(fd);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(got.status().message(), HasSubstr(url));
  EXPECT_THAT(got.status().message(), Not(HasSubstr("\n")));
}

}  // namespace
}  // namespace petit::host
