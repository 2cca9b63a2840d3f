#include "api/metrics_routes.h"

#include <string>

namespace petit::host {

std::vector<Route> MetricsRoutes(Metrics& metrics) {
  Route route;
  route.method = "GET";
  route.pattern = "/metrics";
  route.access = Access::kRead;
  route.summary = "Prometheus metrics (text exposition format 0.0.4)";
  route.handler = [&metrics](const ApiRequest&) {
    ApiResponse response;
    response.content_type = std::string(metrics_text::kContentType);
    response.body = metrics.Render();
    return response;
  };
  return {std::move(route)};
}

}  // namespace petit::host
