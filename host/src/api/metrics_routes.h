// GET /metrics: the Prometheus text exposition (api/metrics.h), for the read-only token.
//
// Ownership: the routes borrow `metrics`, which must outlive the server that serves them.
#ifndef PETIT_HOST_API_METRICS_ROUTES_H_
#define PETIT_HOST_API_METRICS_ROUTES_H_

#include <vector>

#include "api/api_types.h"
#include "api/metrics.h"

namespace petit::host {

std::vector<Route> MetricsRoutes(Metrics& metrics);

}  // namespace petit::host

#endif  // PETIT_HOST_API_METRICS_ROUTES_H_
