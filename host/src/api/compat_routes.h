// The original Petit's ten endpoints, with its paths, JSON shapes, status words (`completed`,
// `pending`) and error answers, so that scripts written against it run unchanged: a thin adapter
// over the Daemon and the store, writing through the JSON the v1 routes use (api/api_json.h).
//
//   GET  /api/health                  {status: "ok", version}
//   GET  /api/scheduler/state         {state: running|paused|stopped, is_running, is_paused}
//   POST /api/scheduler/pause|resume  {message: "scheduler paused"|"scheduler resumed"}
//   GET  /api/jobs                    {jobs: [{id, name, enabled, scheduled, task_count}], count}
//   GET  /api/jobs/{id}               {id, name, enabled, scheduled, task_count}
//   POST /api/jobs/{id}/trigger       {run_id, job_id, message: "job '<id>' triggered"}
//   GET  /api/jobs/{id}/runs?limit=N  {runs: [run], count}, newest first, N 20 by default
//   GET  /api/runs/{id}               {id, job_id, status, started_at, ended_at, duration_ms,
//   error} GET  /api/runs/{id}/tasks         {tasks: [{task_id, run_id, status, attempts,
//   started_at,
//                                      ended_at, duration_ms, error}], count}
// Errors as the original's: 404 NOT_FOUND ("job not found: X", "invalid run id", "run not found:
// X"), 429 TOO_MANY_REQUESTS ("max concurrent runs exceeded: X"), 503 SERVICE_UNAVAILABLE
// ("scheduler is not running"), 500 INTERNAL_ERROR. Unknown query parameters are ignored, as the
// original did.
//
// The routes borrow the daemon, which must outlive them; their handlers are thread-safe.
#ifndef PETIT_HOST_API_COMPAT_ROUTES_H_
#define PETIT_HOST_API_COMPAT_ROUTES_H_

#include <vector>

#include "api/api_types.h"

namespace petit::host {

class DaemonApi;

std::vector<Route> CompatRoutes(DaemonApi& daemon);

}  // namespace petit::host

#endif  // PETIT_HOST_API_COMPAT_ROUTES_H_
