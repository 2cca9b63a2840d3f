// The API module's entry (petit/storage/internal_module.h): lib/petit/modules/petit_api.so holds
// the HTTP server and every route of api/, with Poco, so that only `petit run` with the API
// enabled maps Poco and no other command pays for its symbols at start-up (README, "Start-up").
// module/api_module.cc defines the entry; api/api_loader.cc, in the binary, loads it.
//
// The module has its own copy of core's code but none of the host's: it reaches the daemon only
// through DaemonApi (runtime/daemon.h) and the StateStore, both virtual, and logs through the
// function it is given.
#ifndef PETIT_HOST_API_API_MODULE_H_
#define PETIT_HOST_API_API_MODULE_H_

#include <functional>
#include <memory>
#include <string_view>

#include "config/global_config.h"
#include "petit/core/status.h"
#include "runtime/host_env.h"

namespace petit::host {

class DaemonApi;

inline constexpr char kApiModuleFile[] = "petit_api.so";
inline constexpr char kApiModuleEntry[] = "petit_api_module_v1";

// The HTTP API of `petit run` (api/api_service.h), as the binary drives it.
// Threads: called by one thread, in the order Listen, Start, Stop; Stop is idempotent.
class ApiServer {
 public:
  virtual ~ApiServer() = default;
  // Before the daemon starts: binds the listening socket, starting no thread. A port in use
  // refuses to start `petit run`, with a message naming the address.
  virtual Status Listen() = 0;
  // Once the daemon runs: serves the routes over `daemon`, which outlives Stop.
  virtual void Start(DaemonApi& daemon) = 0;
  // Before the daemon drains: no request reaches it afterwards.
  virtual void Stop() = 0;
};

// One line of the daemon's log (DaemonLog::Line).
using ApiLogLine = std::function<void(std::string_view line)>;

// What the entry returns; `build` first, as every module's.
struct ApiModule {
  const char* build;
  // `config`: petit.yaml's api (enabled); `host`: where a reload reads the jobs and petit.yaml.
  std::unique_ptr<ApiServer> (*create)(const ApiConfig& config, const HostOptions& host,
                                       ApiLogLine log);
};

}  // namespace petit::host

#endif  // PETIT_HOST_API_API_MODULE_H_
