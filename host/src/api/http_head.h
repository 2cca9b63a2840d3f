// Reading an HTTP/1.x request head, apart from any socket: where the head ends in the bytes
// received so far, and what the server (api/http_server.h) takes from it, or its refusal. Poco's
// parser reads the fields (with its limits: 100 fields, values of 8 KiB); the checks around it
// refuse what Poco would let through and a proxy in front might read otherwise (request
// smuggling: fields without a colon or with whitespace before it, a lone CR, a NUL, duplicate
// Host / Authorization / Content-Type, a second Content-Length that differs, Transfer-Encoding).
//
// Pure functions of their arguments; any thread.
#ifndef PETIT_HOST_API_HTTP_HEAD_H_
#define PETIT_HOST_API_HTTP_HEAD_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "api/api_types.h"
#include "api/http_router.h"

namespace petit::host::internal {

// A request as its head describes it: what the router reads (its body still empty: the body
// follows the head), and what the connection needs.
struct ParsedRequest {
  HttpRequest head;
  bool http10 = false;
  bool keep_alive = true;
  bool expect_continue = false;  // Expect: 100-continue
  uint64_t body_bytes = 0;       // Content-Length; 0 when absent
  bool length_given = false;     // a Content-Length was sent
};

// Whether `after`, what a client sent past a request head without a Content-Length, is a body
// rather than the next request: it does not begin (past blank lines) with a method token and a
// space. False while too little has arrived to tell.
bool LooksLikeABody(std::string_view after);

// The end of the request head (just past its blank line) in `in`, searching from `from`; npos
// while incomplete. Bare LF line ends are accepted, as Poco's parser does.
size_t FindHeadEnd(std::string_view in, size_t from);

// Parses `head` (the bytes up to FindHeadEnd) into `out`. The refusal when it is malformed (400),
// its fields are beyond Poco's limits (431), it sends Transfer-Encoding (411) or announces a body
// beyond `max_body_bytes` (413); then `out` is unspecified.
std::optional<ApiResponse> ParseRequestHead(std::string_view head, uint64_t max_body_bytes,
                                            ParsedRequest& out);

}  // namespace petit::host::internal

#endif  // PETIT_HOST_API_HTTP_HEAD_H_
