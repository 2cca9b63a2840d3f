// Fuzzes the JSON bodies of the API's POST routes (api/api_body.h, Poco::JSON inside): the input
// is the body, sent as application/json to a route that takes {params, from, task, dry_run}, and
// to one that takes no body.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "api/api_body.h"
#include "api/api_types.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  petit::host::ApiRequest request;
  request.method = "POST";
  request.path = "/api/v1/runs/x/retry";
  request.content_type = "application/json";
  request.body.assign(reinterpret_cast<const char*>(data), size);
  petit::host::ParsedBody body =
      petit::host::ParseBody(request, {"params", "from", "task", "dry_run"});
  if (!body.error) {
    std::optional<petit::host::ApiResponse> error;
    (void)petit::host::BodyString(*body.object, "from", error);
    (void)petit::host::BodyString(*body.object, "task", error);
    (void)petit::host::BodyBool(*body.object, "dry_run", error);
  }
  (void)petit::host::RefuseBody(request);
  return 0;
}
