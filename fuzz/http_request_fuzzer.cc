// Fuzzes the API's request handling short of the socket: the input is the bytes a client sends.
// The head is found and parsed (api/http_head.h) as the server does; a request that passes goes,
// with the body its Content-Length announces, to two routers (api/http_router.h): one with tokens,
// CORS origins and a path prefix, one without (loopback only), over routes with {name} segments
// whose POST handler reads its JSON body (api/api_body.h).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_body.h"
#include "api/api_types.h"
#include "api/http_head.h"
#include "api/http_router.h"
#include "config/global_config.h"

namespace {

using petit::host::Access;
using petit::host::ApiRequest;
using petit::host::ApiResponse;
using petit::host::Route;

ApiResponse Echo(const ApiRequest& request) {
  std::string body = request.method + " " + request.path;
  for (const auto& [key, value] : request.params) body += " " + key + "=" + value;
  for (const auto& [key, value] : request.query) body += " ?" + key + "=" + value;
  return petit::host::JsonResponse("\"" + std::to_string(body.size()) + "\"");
}

ApiResponse Trigger(const ApiRequest& request) {
  petit::host::ParsedBody body = petit::host::ParseBody(request, {"params", "from", "dry_run"});
  if (body.error) return std::move(*body.error);
  std::optional<ApiResponse> error;
  (void)petit::host::BodyString(*body.object, "from", error);
  (void)petit::host::BodyBool(*body.object, "dry_run", error);
  if (error) return std::move(*error);
  return Echo(request);
}

ApiResponse NoBody(const ApiRequest& request) {
  if (auto refused = petit::host::RefuseBody(request)) return std::move(*refused);
  return Echo(request);
}

std::vector<Route> Routes() {
  return {
      {"GET", "/health", Access::kPublic, Echo, "health"},
      {"GET", "/api/v1/jobs", Access::kRead, Echo, "jobs"},
      {"GET", "/api/v1/jobs/{id}", Access::kRead, Echo, "job"},
      {"POST", "/api/v1/jobs/{id}/trigger", Access::kOperate, Trigger, "trigger"},
      {"POST", "/api/v1/jobs/{id}/pause", Access::kOperate, NoBody, "pause"},
      {"GET", "/api/v1/runs/{id}/tasks/{task}/logs", Access::kRead, Echo, "logs"},
      {"GET", "/api/v1/runs/latest", Access::kRead, Echo, "latest"},
  };
}

struct Routers {
  std::unique_ptr<petit::host::internal::HttpRouter> guarded;
  std::unique_ptr<petit::host::internal::HttpRouter> open;
};

const Routers& TheRouters() {
  static const Routers routers = [] {
    petit::host::ApiConfig guarded;
    guarded.bind = "0.0.0.0";
    guarded.token = "operator-token";
    guarded.read_only_token = "reader-token";
    guarded.cors_origins = {"https://ops.example.com"};
    guarded.path_prefix = "/petit";
    const auto ignore = [](std::string_view) {};
    return Routers{std::make_unique<petit::host::internal::HttpRouter>(guarded, Routes(), ignore),
                   std::make_unique<petit::host::internal::HttpRouter>(petit::host::ApiConfig{},
                                                                       Routes(), ignore)};
  }();
  return routers;
}

constexpr uint64_t kMaxBodyBytes = 64 * 1024;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t head_end = petit::host::internal::FindHeadEnd(in, 0);
  if (head_end == std::string_view::npos) return 0;
  petit::host::internal::ParsedRequest request;
  if (petit::host::internal::ParseRequestHead(in.substr(0, head_end), kMaxBodyBytes, request)) {
    return 0;
  }
  // The server waits for the whole body; a shorter input gives what arrived.
  request.head.body = std::string(in.substr(head_end, request.body_bytes));
  for (const auto* router : {TheRouters().guarded.get(), TheRouters().open.get()}) {
    const std::string origin = router->AllowedOrigin(request.head.origin);
    (void)router->Respond(request.head, origin);
  }
  return 0;
}
