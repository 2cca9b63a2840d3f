#include "api/api_service.h"

#include <string>
#include <utility>

#include "api/http_server.h"
#include "api/metrics.h"
#include "api/routes.h"
#include "runtime/event_journal.h"

namespace petit::host {

ApiService::ApiService(ApiConfig config, HostOptions host, ApiLogLine log)
    : config_(std::move(config)), host_(std::move(host)), log_(std::move(log)) {}

ApiService::~ApiService() { Stop(); }

Status ApiService::Listen() {
  server_ = std::make_unique<HttpServer>(config_, [this](std::string_view line) { log_(line); });
  Status listening = server_->Listen();
  if (!listening.ok()) {
    server_.reset();
    return Unavailable("not starting: the API " + listening.message() +
                       " (change api.port or api.bind in petit.yaml, or set api.enabled: false)");
  }
  return Status::Ok();
}

void ApiService::Start(DaemonApi& daemon) {
  if (server_ == nullptr) return;
  metrics_ = std::make_unique<Metrics>(daemon);
  journal_ = std::make_unique<EventJournal>(daemon.events());
  services_ = std::make_unique<ApiServices>(ApiServices{
      .daemon = daemon, .journal = journal_.get(), .metrics = metrics_.get(), .host = &host_});
  server_->Start(AllRoutes(*services_));
  log_("api listening on " + server_->url());
}

void ApiService::Stop() {
  if (journal_ != nullptr) journal_->Stop();  // wakes the event streams, which then end
  if (server_ != nullptr) server_->Stop();
  // Both observe the daemon, which goes after this.
  journal_.reset();
  metrics_.reset();
}

}  // namespace petit::host
