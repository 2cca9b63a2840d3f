// ApiCompanion: the HTTP API as `petit run`'s companion (runtime/daemon.h), in the binary: it
// loads the API module (api/api_module.h) when the daemon is prepared, so that only a `petit run`
// whose petit.yaml enables the API maps the module and Poco.
//
// Ownership: borrows the log given to Prepare, which outlives Stop. Threads: as DaemonCompanion.
#ifndef PETIT_HOST_API_API_LOADER_H_
#define PETIT_HOST_API_API_LOADER_H_

#include <memory>

#include "api/api_module.h"
#include "config/global_config.h"
#include "runtime/daemon.h"
#include "runtime/host_env.h"

namespace petit::host {

class ApiCompanion final : public DaemonCompanion {
 public:
  // `config`: petit.yaml's api (enabled); `host`: where a reload reads the jobs and petit.yaml.
  ApiCompanion(ApiConfig config, HostOptions host);
  ~ApiCompanion() override;

  // Fails (refusing to start `petit run`) when the module cannot be loaded or the API cannot
  // listen.
  Status Prepare(DaemonLog& log) override;
  void Start(Daemon& daemon) override;
  void Stop() override;

 private:
  const ApiConfig config_;
  const HostOptions host_;
  std::unique_ptr<ApiServer> server_;  // made by the module in Prepare
};

}  // namespace petit::host

#endif  // PETIT_HOST_API_API_LOADER_H_
