#include "api/api_loader.h"

#include <string>
#include <string_view>
#include <utility>

#include "petit/storage/internal_module.h"

namespace petit::host {

ApiCompanion::ApiCompanion(ApiConfig config, HostOptions host)
    : config_(std::move(config)), host_(std::move(host)) {}

ApiCompanion::~ApiCompanion() { Stop(); }

Status ApiCompanion::Prepare(DaemonLog& log) {
  // Poco and the server are mapped only now, by loading the module that holds them.
  Result<const void*> module = storage::LoadInternalModule(
      storage::InternalModuleDir() + "/" + kApiModuleFile, kApiModuleEntry, "the API module");
  if (!module.ok()) {
    return Unavailable("not starting: " + module.status().message() +
                       " (or set api.enabled: false in petit.yaml)");
  }
  server_ = static_cast<const ApiModule*>(*module)->create(
      config_, host_, [&log](std::string_view line) { log.Line(line); });
  Status listening = server_->Listen();
  if (!listening.ok()) server_.reset();
  return listening;
}

void ApiCompanion::Start(Daemon& daemon) {
  if (server_ != nullptr) server_->Start(daemon);
}

void ApiCompanion::Stop() {
  if (server_ != nullptr) server_->Stop();
}

}  // namespace petit::host
