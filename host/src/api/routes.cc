#include "api/routes.h"

#include <string>

#include "api/compat_routes.h"
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
  Append(all, CompatRoutes(services.daemon));  // includes GET /api/health
  Append(all, V1Routes(services.daemon, services.host));
  Append(all, OpenApiRoutes());
  return all;
}

}  // namespace petit::host
