// ApiService: the HTTP API of `petit run`: an HttpServer (api/http_server.h) serving AllRoutes
// (api/routes.h) over the running Daemon, plugged into ServeUntilSignalled as its companion. It
// listens before the daemon starts (a port in use refuses to start `petit run`, naming the
// address), serves once the daemon runs, logging "api listening on http://127.0.0.1:8565", and
// stops before the daemon drains, so no request reaches a daemon being torn down.
//
// Ownership: borrows the Daemon it is started with, and the log given to Prepare; both outlive
// Stop. Threads: as DaemonCompanion (runtime/daemon.h).
#ifndef PETIT_HOST_API_API_SERVICE_H_
#define PETIT_HOST_API_API_SERVICE_H_

#include <memory>

#include "config/global_config.h"
#include "runtime/daemon.h"
#include "runtime/host_env.h"

namespace petit::host {

class HttpServer;
class Metrics;
struct ApiServices;

class ApiService : public DaemonCompanion {
 public:
  // `config`: petit.yaml's api (enabled); `host`: where a reload reads the jobs and petit.yaml.
  ApiService(ApiConfig config, HostOptions host);
  ~ApiService() override;

  Status Prepare(DaemonLog& log) override;
  void Start(Daemon& daemon) override;
  void Stop() override;

 private:
  const ApiConfig config_;
  const HostOptions host_;
  DaemonLog* log_ = nullptr;          // set by Prepare
  std::unique_ptr<Metrics> metrics_;  // what /metrics serves; outlives the server's threads
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<ApiServices> services_;  // what the routes borrow; outlives the server's threads
};

}  // namespace petit::host

#endif  // PETIT_HOST_API_API_SERVICE_H_
