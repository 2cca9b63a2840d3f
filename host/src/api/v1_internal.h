// The parts of V1Routes (api/v1_routes.h), one file each, and what they share. Internal to api/.
#ifndef PETIT_HOST_API_V1_INTERNAL_H_
#define PETIT_HOST_API_V1_INTERNAL_H_

#include <memory>
#include <optional>
#include <vector>

#include "api/api_json.h"
#include "api/api_types.h"
#include "runtime/daemon.h"

namespace petit::host::v1 {

std::vector<Route> JobRoutes(DaemonApi& daemon);  // v1_jobs.cc
std::vector<Route> RunRoutes(DaemonApi& daemon);  // v1_runs.cc

// The run id of the path's {id}: a 400 answer when malformed.
std::optional<RunId> RunIdOf(const ApiRequest& request, std::optional<ApiResponse>& error);
// The run of the path's {id}: 400 malformed, 404 unknown, the store's failure otherwise.
std::optional<RunRecord> RunOf(DaemonApi& daemon, const ApiRequest& request,
                               std::optional<ApiResponse>& error);

}  // namespace petit::host::v1

#endif  // PETIT_HOST_API_V1_INTERNAL_H_
