// AllRoutes: every route the HTTP API serves, composed from the route files (compat, v1, events,
// metrics, openapi), each of which exposes `std::vector<Route> XxxRoutes(ApiServices&)`.
//
// Ownership: ApiServices borrows what the routes call; everything it points to outlives the
// server that serves the routes (api/api_service.h stops the server first).
#ifndef PETIT_HOST_API_ROUTES_H_
#define PETIT_HOST_API_ROUTES_H_

#include <vector>

#include "api/api_types.h"

namespace petit::host {

class DaemonApi;
class EventJournal;
class Metrics;
struct HostOptions;

struct ApiServices {
  DaemonApi& daemon;
  EventJournal* journal = nullptr;    // the event stream's recent events (api/event_routes.h)
  Metrics* metrics = nullptr;         // what /metrics serves (api/metrics.h)
  const HostOptions* host = nullptr;  // where a reload reads the jobs and petit.yaml
};

// The routes of every file, in one table; no two share a method and pattern.
std::vector<Route> AllRoutes(ApiServices& services);

}  // namespace petit::host

#endif  // PETIT_HOST_API_ROUTES_H_
