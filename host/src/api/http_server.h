// HttpServer: serves a table of routes (api/api_types.h) over HTTP/1.1 on one address, bounded so
// that a slow or hostile client cannot stall other clients, nor the daemon whose routes it serves.
//
// How a connection is served: one reader thread waits (epoll) on every open connection and reads
// what arrives without blocking; only a request that has arrived whole, head and body, goes to one
// of up to api.max_threads worker threads, which runs its route and writes the answer, then gives a
// keep-alive connection back to the reader. Workers start as requests need them (one more when a
// request finds none waiting), so an idle daemon holds one thread for its API, not seventeen. So an
// idle connection, or one trickling its request byte by byte, holds no thread: a thousand of them
// do not delay anyone else. (Poco 1.11's Net::HTTPServer gives each accepted connection a pool
// thread that blocks reading it, so a few dozen idle connections starve it; Poco still parses every
// request head here, resolves the bind address and hashes the tokens.) Bounds:
// - api.max_connections open connections; at the limit a new one closes the connection that has
//   waited longest for its (next) request, or, when every connection has a request running, is
//   answered 503 and closed.
// - A request must arrive whole within api.timeout of its first byte, and a keep-alive connection
//   idle for api.timeout is closed; a head beyond kMaxHeadBytes is answered 431, a body beyond
//   api.max_body_bytes 413 (from its Content-Length, before it is read); chunked request bodies
//   411. The client must take each response, and each write of a stream, within api.timeout, or
//   the connection is dropped (StreamSink::Write returns false).
// - Streams (ApiResponse::stream) hold a worker each, at most api.max_streams at once (503
//   beyond); they are sent chunked (close-delimited to HTTP/1.0) and end the connection. Stop
//   waits for them: a stream waiting for something to send must look at StreamSink::stopping()
//   every 100 ms or so.
//
// What it answers itself (api/http_router.h decides once a request is whole), always as JSON
// {"error", "code"}, in this order: 400 for a malformed request; when tokens are configured and the
// route is not Access::kPublic (or there is no route), 401 UNAUTHORIZED (with WWW-Authenticate:
// Bearer) for a missing or wrong token (RFC 6750's invalid_token), and 403 FORBIDDEN for the
// read-only token on an Access::kOperate route; 404 NOT_FOUND for a path no route has; 405
// METHOD_NOT_ALLOWED (with Allow) for a known path and another method; 415 for a body that is not
// application/json; 500 INTERNAL_ERROR (and one log line) when a handler throws. So without a token
// a caller learns nothing but the public routes. HEAD is served for GET routes.
//
// Browsers: without tokens, a request whose Host is not a loopback name is refused 403 (DNS
// rebinding); a write (not GET) that carries an Origin other than a listed one or the API's own
// is refused 403 (cross-site request forgery).
// Tokens are compared as SHA-256 digests in constant time. CORS headers are sent only to the
// origins listed in api.cors_origins (never '*'), which also get their preflight (OPTIONS)
// answered. A request under api.path_prefix is routed with the prefix removed; without it, as is.
//
// The server does not check that a bind off the loopback has a token: the config does
// (config/global_config.h), for every command alike.
//
// Threads: Listen, Start and Stop are called by one owner thread; the destructor stops. Route
// handlers run on the workers, several at once. The server's threads run at niceness +5, so that
// a flood of requests leaves the processor to the scheduler and the runs first.
#ifndef PETIT_HOST_API_HTTP_SERVER_H_
#define PETIT_HOST_API_HTTP_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_types.h"
#include "config/global_config.h"
#include "petit/core/status.h"

namespace petit::host {

class HttpServer {
 public:
  // The request line and headers together, at most.
  static constexpr size_t kMaxHeadBytes = 16 * 1024;

  using LogLine = std::function<void(std::string_view)>;

  // `config`: bind, port and the api.* limits, tokens, origins and prefix; `log` gets one line
  // per handler failure.
  HttpServer(ApiConfig config, LogLine log);
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on api.bind:api.port, starting no thread (connections wait in the backlog until
  // Start). kUnavailable naming the address when it cannot ("cannot listen on 127.0.0.1:8565:
  // Address already in use").
  Status Listen();
  // The port listened on (the one chosen when api.port is 0); 0 before Listen.
  uint16_t port() const;
  // "http://127.0.0.1:8565" ("http://[::1]:8565"), with the prefix when there is one.
  std::string url() const;

  // Serves `routes` until Stop, on threads of its own. After a successful Listen, once.
  void Start(std::vector<Route> routes);

  // Stops listening, closes idle connections, answers requests not yet started 503, tells the
  // streams (StreamSink::stopping) and waits for the running requests: promptly, since writes to
  // clients are abandoned on stop. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace petit::host

#endif  // PETIT_HOST_API_HTTP_SERVER_H_
