// The API module (api/api_module.h): the HTTP server, the routes and Poco, which only `petit run`
// maps.
#include <memory>
#include <utility>

#include "api/api_module.h"
#include "api/api_service.h"
#include "petit/storage/internal_module.h"

namespace petit::host {
namespace {

std::unique_ptr<ApiServer> Create(const ApiConfig& config, const HostOptions& host,
                                  ApiLogLine log) {
  return std::make_unique<ApiService>(config, host, std::move(log));
}

}  // namespace
}  // namespace petit::host

extern "C" __attribute__((visibility("default"))) const void* petit_api_module_v1() {
  static const petit::host::ApiModule module = {petit::storage::InternalModuleBuild().data(),
                                                &petit::host::Create};
  return &module;
}
