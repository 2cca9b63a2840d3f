// The seam between the HTTP server (api/http_server.h) and what it serves: a route is a method, a
// path pattern, the access it needs and a handler that turns an ApiRequest into an ApiResponse.
// Handlers never see Poco: the server parses, bounds and authenticates the request, and writes
// the response, so route files stay plain functions over the Daemon and the store, testable
// without a socket.
//
// Errors: every answer is JSON. A handler that fails returns ErrorResponse(status, code, message)
// (the original Petit's error shape, `{"error": "...", "code": "NOT_FOUND"}`); a handler must not
// throw (the server answers 500 INTERNAL_ERROR and logs one line if it does).
//
// Streams (Server-Sent Events, followed logs): a handler may set ApiResponse::stream instead of
// body; the server sends the status and headers, then calls stream on the connection's thread
// with a sink that writes and flushes. The stream returns when the client is gone
// (StreamSink::Write returned false), the server is stopping (StreamSink::stopping()), or it is
// done. A stream holds one server thread for its whole life, so the server caps how many run at
// once (api.max_streams).
//
// Threads: handlers are called on the server's threads, several at once; whatever they capture
// must be thread-safe (the Daemon's members and the StateStore are).
#ifndef PETIT_HOST_API_API_TYPES_H_
#define PETIT_HOST_API_API_TYPES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace petit::host {

// What a route needs of the caller's token. Without any token configured (a loopback bind),
// every caller is an operator.
enum class Access : uint8_t {
  kPublic,   // no token needed even when tokens are configured (health, openapi.json)
  kRead,     // the read-only token or the operator token
  kOperate,  // the operator token: trigger, cancel, retry, pause, resume, reload
};

struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  // The path with the configured prefix (api.path_prefix) and the query string removed,
  // percent-decoded per segment: "/api/v1/runs/0190abcd".
  std::string path;
  // Query parameters, percent-decoded; each key once (the router refuses a repeated one).
  std::map<std::string, std::string, std::less<>> query;
  // Values of the pattern's {name} segments: pattern "/api/runs/{id}" gives params["id"].
  std::map<std::string, std::string, std::less<>> params;
  std::string content_type;   // without parameters, lower case: "application/json"; may be empty
  std::string body;           // at most api.max_body_bytes (the server answers 413 beyond)
  std::string last_event_id;  // the Last-Event-ID header, for event streams; empty if absent
  bool read_only = false;     // the caller used the read-only token

  // The query parameter, or nullopt.
  std::optional<std::string_view> Query(std::string_view key) const {
    auto it = query.find(key);
    if (it == query.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  const std::string& Param(std::string_view key) const {
    static const std::string kEmpty;
    auto it = params.find(key);
    return it == params.end() ? kEmpty : it->second;
  }
};

// Where a streaming handler writes. Each Write is sent and flushed at once.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // False when the client has gone (or did not take the bytes within the server's write
  // timeout): the stream must return.
  virtual bool Write(std::string_view bytes) = 0;
  // True once the server is stopping: the stream must return soon.
  virtual bool stopping() const = 0;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  // When set, the server sends status and headers (no Content-Length) and calls it; body is
  // ignored.
  std::function<void(StreamSink&)> stream;
};

using RouteHandler = std::function<ApiResponse(const ApiRequest&)>;

struct Route {
  std::string method;  // "GET" or "POST"
  // Literal segments and {name} segments: "/api/v1/runs/{id}/attempts". A {name} matches one
  // non-empty segment.
  std::string pattern;
  Access access = Access::kRead;
  RouteHandler handler;
  std::string summary;  // one line, for the OpenAPI document and 405 messages
};

// {"error": message, "code": code} with the given HTTP status. Codes are the original Petit's
// where it has one: NOT_FOUND (404), CONFLICT (409), TOO_MANY_REQUESTS (429),
// SERVICE_UNAVAILABLE (503), INTERNAL_ERROR (500); and ours in the same style: BAD_REQUEST (400),
// UNAUTHORIZED (401), FORBIDDEN (403), METHOD_NOT_ALLOWED (405), PAYLOAD_TOO_LARGE (413),
// UNSUPPORTED_MEDIA_TYPE (415).
ApiResponse ErrorResponse(int status, std::string_view code, std::string_view message);

// A 200 (or `status`) response with `json` as its body.
ApiResponse JsonResponse(std::string json, int status = 200);

}  // namespace petit::host

#endif  // PETIT_HOST_API_API_TYPES_H_
