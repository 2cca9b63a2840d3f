// ApiService: the HTTP API of `petit run`: an HttpServer (api/http_server.h) serving AllRoutes
// (api/routes.h) over the running Daemon; the ApiServer the API module makes (api/api_module.h),
// which ApiCompanion (api/api_loader.h) plugs into ServeUntilSignalled. It listens before the
// daemon starts (a port in use refuses to start `petit run`, naming the address), serves once the
// daemon runs, logging "api listening on http://127.0.0.1:8565", and stops before the daemon
// drains, so no request reaches a daemon being torn down.
//
// Ownership: borrows the Daemon it is started with, which outlives Stop. Threads: as ApiServer.
#ifndef PETIT_HOST_API_API_SERVICE_H_
#define PETIT_HOST_API_API_SERVICE_H_

#include <memory>

#include "api/api_module.h"
#include "config/global_config.h"
#include "runtime/daemon.h"
#include "runtime/host_env.h"

namespace petit::host {

class HttpServer;
class EventJournal;
class Metrics;
struct ApiServices;

class ApiService final : public ApiServer {
 public:
  // `config`: petit.yaml's api (enabled); `host`: where a reload reads the jobs and petit.yaml;
  // `log`: one line of the daemon's log.
  ApiService(ApiConfig config, HostOptions host, ApiLogLine log);
  ~ApiService() override;

  Status Listen() override;
  void Start(DaemonApi& daemon) override;
  void Stop() override;

 private:
  const ApiConfig config_;
  const HostOptions host_;
  const ApiLogLine log_;
  std::unique_ptr<HttpServer> server_;
  // Observe the daemon from Start until Stop, which destroys them after the server stopped and
  // before the daemon goes.
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<EventJournal> journal_;
  std::unique_ptr<ApiServices> services_;  // what the routes borrow; outlives the server's threads
};

}  // namespace petit::host

#endif  // PETIT_HOST_API_API_SERVICE_H_
