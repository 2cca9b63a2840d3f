// Petit's own API under /api/v1 (shapes in the OpenAPI document, api/openapi.h): health with its
// parts, the scheduler, jobs (list, definition, pause, resume, trigger with parameters), runs
// (list with filters and cursor paging, one run, cancel, retry with its plan, tasks, attempts)
// and reload. Petit's vocabulary (succeeded, queued, ...); times in epoch milliseconds; absent
// values null. Bad input is 400 naming what was wrong (a malformed run id, an unknown query
// parameter or body field, with the closest known one), unknown ids 404, an operation the run's
// state forbids 409, a job at its max_active_runs 429, a stopping daemon or an unreachable store
// 503 (api/api_json.h maps each Status once).
//
// Reads come from the store where it has the answer (runs, attempts, job records), so that
// several hosts can later serve one view; the definitions and next fire times from the Daemon.
// The routes borrow the daemon (and `host`, for reload), which must outlive them; handlers are
// thread-safe.
#ifndef PETIT_HOST_API_V1_ROUTES_H_
#define PETIT_HOST_API_V1_ROUTES_H_

#include <vector>

#include "api/api_types.h"

namespace petit::host {

class DaemonApi;
struct HostOptions;

// `host` (the job directory and petit.yaml as `petit run` resolved them) is what reload re-reads;
// without it POST /api/v1/reload answers 503.
std::vector<Route> V1Routes(DaemonApi& daemon, const HostOptions* host);

}  // namespace petit::host

#endif  // PETIT_HOST_API_V1_ROUTES_H_
