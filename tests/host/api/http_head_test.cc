// The request head's parsing (api/http_head.h) without a socket: where a head ends, what is taken
// from it, and each class of head the server refuses before any route sees it.
#include "api/http_head.h"

#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace petit::host::internal {
namespace {

constexpr uint64_t kMaxBody = 1024;

// The refusal's status, or 0 when the head is accepted.
int StatusOf(const std::string& head, ParsedRequest* out = nullptr) {
  ParsedRequest request;
  std::optional<ApiResponse> refusal = ParseRequestHead(head, kMaxBody, request);
  if (out != nullptr) *out = request;
  return refusal ? refusal->status : 0;
}

TEST(HttpHeadTest, FindsTheEndOfAHeadWithEitherLineEnd) {
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\nHost: a\r\n\r\nbody", 0), 27u);
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\nHost: a\n\nbody", 0), 24u);
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\nHost: a\r\n", 0), std::string::npos);
  EXPECT_EQ(FindHeadEnd("", 0), std::string::npos);
}

TEST(HttpHeadTest, TakesWhatTheRouterAndTheConnectionNeed) {
  ParsedRequest request;
  ASSERT_EQ(StatusOf("POST /api/v1/jobs/x/trigger?a=1 HTTP/1.0\r\nHost: localhost\r\n"
                     "Authorization: Bearer t\r\nContent-Type: Application/JSON; charset=utf-8\r\n"
                     "Content-Length: 12\r\nOrigin: https://o\r\nLast-Event-ID: 7\r\n\r\n",
                     &request),
            0);
  EXPECT_EQ(request.head.method, "POST");
  EXPECT_EQ(request.head.target, "/api/v1/jobs/x/trigger?a=1");
  EXPECT_EQ(request.head.host, "localhost");
  EXPECT_EQ(request.head.authorization, "Bearer t");
  EXPECT_EQ(request.head.content_type, "application/json");
  EXPECT_EQ(request.head.origin, "https://o");
  EXPECT_EQ(request.head.last_event_id, "7");
  EXPECT_TRUE(request.http10);
  EXPECT_EQ(request.body_bytes, 12u);
}

TEST(HttpHeadTest, RefusesEveryMalformedOrAmbiguousHead) {
  using namespace std::string_view_literals;  // "..."sv keeps the NUL of the first case
  const struct {
    std::string_view head;
    int status;
  } kCases[] = {
      {"GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n"sv, 400},           // NUL
      {"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"sv, 400},           // CR ending no line
      {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n"sv, 400},             // two spaces
      {"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"sv, 400},             // a tab
      {"GET / HTTP/1.1\r\nHost: a\r\nno colon\r\n\r\n"sv, 400},  // a line without ':'
      {"GET / HTTP/1.1\r\nHost : a\r\n\r\n"sv, 400},             // space before ':'
      {"GET / HTTP/2.0\r\n\r\n"sv, 400},                         // another version
      {"}GET / HTTP/1.1\r\nHost: a\r\n\r\n"sv, 400},             // a method that is no token
      {"G(T / HTTP/1.1\r\nHost: a\r\n\r\n"sv, 400},              // likewise
      {"GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n"sv, 400},        // a fragment in the target
      {"GET / HTTP/1.1\r\nHost: a\r\nX-\x7f\xff(): a\r\n\r\n"sv,
       400},                                                    // a field name that is no token
      {"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"sv, 400},  // two Hosts
      {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"sv, 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"sv, 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1234567890123456789\r\n\r\n"sv, 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"sv, 411},
      {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1025\r\n\r\n"sv, 413},
      {"GET / HTTP/1.1\r\n\r\n"sv, 400},                                  // HTTP/1.1 without Host
      {"GET http://127.0.0.1@evil/ HTTP/1.1\r\nHost: a\r\n\r\n"sv, 400},  // a userinfo
      {"GET http:///api/health HTTP/1.1\r\nHost: a\r\n\r\n"sv, 400},      // an empty host
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(StatusOf(std::string(c.head)), c.status) << c.head;
  }
}

TEST(HttpHeadTest, HostIsOptionalOnlyBeforeHttp11AndMayBeEmpty) {
  EXPECT_EQ(StatusOf("GET /api/health HTTP/1.0\r\n\r\n"), 0);
  ParsedRequest request;
  ASSERT_EQ(StatusOf("GET /api/health HTTP/1.1\r\nHost:\r\n\r\n", &request), 0);
  EXPECT_EQ(request.head.host, "");
}

// RFC 9112, 3.2.2: the host is the target's authority, whatever Host says, so the checks made on
// the host (a loopback name without a token) see the host the request is really for.
TEST(HttpHeadTest, TheHostOfATargetInAbsoluteFormIsItsAuthority) {
  ParsedRequest request;
  ASSERT_EQ(StatusOf("POST http://evil.example:8565/api/v1/scheduler/pause HTTP/1.1\r\n"
                     "Host: 127.0.0.1\r\n\r\n",
                     &request),
            0);
  EXPECT_EQ(request.head.host, "evil.example:8565");
  ASSERT_EQ(StatusOf("GET HTTP://localhost?x=1 HTTP/1.1\r\nHost: other\r\n\r\n", &request), 0);
  EXPECT_EQ(request.head.host, "localhost");
  ASSERT_EQ(StatusOf("GET /http://evil/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", &request), 0);
  EXPECT_EQ(request.head.host, "127.0.0.1");  // a path, not an absolute form
}

TEST(LooksLikeABodyTest, ARequestLineIsNotABodyAndTooLittleIsNotYetEither) {
  EXPECT_TRUE(LooksLikeABody("{\"dry_run\": true}"));
  EXPECT_TRUE(LooksLikeABody("\r\n[1]"));
  EXPECT_TRUE(LooksLikeABody("params=x"));
  EXPECT_TRUE(LooksLikeABody("GETX/ HTTP/1.1"));
  EXPECT_FALSE(LooksLikeABody(""));
  EXPECT_FALSE(LooksLikeABody("\r\n"));
  EXPECT_FALSE(LooksLikeABody("PO"));
  EXPECT_FALSE(LooksLikeABody("GET /api/health HTTP/1.1\r\n"));
  EXPECT_FALSE(LooksLikeABody("\r\nDELETE /x HTTP/1.1\r\n"));
}

}  // namespace
}  // namespace petit::host::internal
