#include "api/routes.h"

#include <utility>

#include "api/compat_routes.h"
#include "api/metrics_routes.h"
#include "api/openapi.h"
#include "api/v1_routes.h"

namespace petit::host {
namespace {

void Append(std::vector<Route>& all, std::vector<Route> routes) {
  for (Route& route : routes) all.push_back(std::move(route));
}

}  // namespace

std::vector<Route> AllRoutes(ApiServices& services) {
  std::vector<Route> all;
  // /api/health is the compat route's (the original's shape).
  Append(all, CompatRoutes(services.daemon));
  Append(all, V1Routes(services.daemon, services.host));
  Append(all, OpenApiRoutes());
  if (services.metrics != nullptr) Append(all, MetricsRoutes(*services.metrics));
  return all;
}

}  // namespace petit::host
