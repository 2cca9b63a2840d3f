// The OpenAPI 3.0 document of everything the API serves: the original Petit's ten paths, /api/v1
// (routes, events, logs), /metrics and this document itself, served at GET /api/openapi.json
// without a token. Hand-written, so that it says what each answer holds; a test compares its
// operations with the route table, both ways.
#ifndef PETIT_HOST_API_OPENAPI_H_
#define PETIT_HOST_API_OPENAPI_H_

#include <string_view>
#include <vector>

#include "api/api_types.h"

namespace petit::host {

// The document, JSON text (valid UTF-8), built once.
std::string_view OpenApiDocument();

// GET /api/openapi.json (Access::kPublic).
std::vector<Route> OpenApiRoutes();

}  // namespace petit::host

#endif  // PETIT_HOST_API_OPENAPI_H_
