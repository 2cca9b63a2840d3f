#include "api/api_types.h"

#include <utility>

#include "petit/core/json.h"

namespace petit::host {

ApiResponse ErrorResponse(int status, std::string_view code, std::string_view message) {
  std::string body = "{\"error\":";
  body += JsonUtf8String(message);  // may quote what a client sent: never invalid JSON
  body += ",\"code\":";
  AppendJsonString(body, code);
  body += "}";
  return JsonResponse(std::move(body), status);
}

ApiResponse JsonResponse(std::string json, int status) {
  ApiResponse response;
  response.status = status;
  response.body = std::move(json);
  return response;
}

}  // namespace petit::host
