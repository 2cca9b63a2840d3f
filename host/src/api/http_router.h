// HttpRouter: what the HTTP server (api/http_server.h) does with a request once it has arrived
// whole: strips api.path_prefix, finds the route ({name} segments, a literal beating a
// parameter), checks the token and what browsers may do, and calls the handler. It sees no
// socket, so the server's threads and bounds stay apart from these decisions; the order of the
// answers is documented in http_server.h.
//
// Threads: Respond and AllowedOrigin may be called from several threads at once; the routes'
// handlers must allow it (api/api_types.h).
#ifndef PETIT_HOST_API_HTTP_ROUTER_H_
#define PETIT_HOST_API_HTTP_ROUTER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_types.h"
#include "config/global_config.h"

namespace petit::host::internal {

// The parts of a request the router reads, as the server parsed them.
struct HttpRequest {
  std::string method;
  std::string target;  // as sent: "/petit/api/runs/x?limit=5"
  std::string authorization;
  std::string origin;
  std::string content_type;  // lower case, without parameters
  std::string last_event_id;
  std::string preflight_method;  // Access-Control-Request-Method
  std::string host;              // empty if absent (HTTP/1.0)
  std::string body;
};

class HttpRouter {
 public:
  using LogLine = std::function<void(std::string_view)>;
  using Digest = std::array<unsigned char, 32>;  // SHA-256
  struct CompiledRoute;

  // `config`: tokens, cors_origins, path_prefix; `log` gets one line per handler that throws (and
  // per route declared twice).
  HttpRouter(const ApiConfig& config, std::vector<Route> routes, LogLine log);
  ~HttpRouter();

  // `origin` when api.cors_origins lists it, else empty.
  std::string AllowedOrigin(const std::string& origin) const;

  // The route's response, or the router's own refusal (400, 401, 403, 404, 405, 415, 500).
  // `origin`: AllowedOrigin(request.origin).
  ApiResponse Respond(const HttpRequest& request, const std::string& origin) const;

 private:
  std::optional<ApiResponse> ParseTarget(std::string_view target, ApiRequest& api,
                                         std::vector<std::string>& segments) const;
  std::optional<ApiResponse> RefuseBrowserAttack(const HttpRequest& request, const Route& route,
                                                 const std::string& allowed_origin) const;
  std::optional<ApiResponse> Authorize(const HttpRequest& request, Access access,
                                       ApiRequest& api) const;

  const ApiConfig config_;
  const LogLine log_;
  bool tokens_ = false;
  Digest operator_digest_{};
  Digest read_only_digest_{};
  std::vector<CompiledRoute> routes_;
};

// `text` without leading and trailing spaces and tabs.
std::string_view Trim(std::string_view text);
// ASCII case-insensitive equality (header names and values).
bool EqualsIgnoringCase(std::string_view a, std::string_view b);

}  // namespace petit::host::internal

#endif  // PETIT_HOST_API_HTTP_ROUTER_H_
