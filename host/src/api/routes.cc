#include "api/routes.h"

#include <string>

#include "api/metrics_routes.h"
#include "petit/core/json.h"

namespace petit::host {
namespace {

// The original Petit's GET /api/health, {"status": "ok", "version": ...}: what a load balancer
// or `petit run`'s own test asks. The compat routes (api/compat_routes.h) take it over when they
// are composed in below.
std::vector<Route> ServerRoutes(ApiServices& /*services*/) {
  Route health;
  health.method = "GET";
  health.pattern = "/api/health";
  health.access = Access::kPublic;
  health.summary = "Whether the server answers, and its version";
  health.handler = [](const ApiRequest&) {
    return JsonResponse("{\"status\":\"ok\",\"version\":" + JsonUtf8String(PETIT_VERSION) + "}");
  };
  return {health};
}

void Append(std::vector<Route>& all, std::vector<Route> routes) {
  for (Route& route : routes) all.push_back(std::move(route));
}

}  // namespace

std::vector<Route> AllRoutes(ApiServices& services) {
  std::vector<Route> all;
  Append(all, ServerRoutes(services));
  if (services.metrics != nullptr) Append(all, MetricsRoutes(*services.metrics));
  return all;
}

}  // namespace petit::host
