// Reading a POST body of the API (Poco::JSON, kept inside api/): an empty body means {}; a body
// needs Content-Type application/json (else 415), must be one JSON object (else 400), and may only
// have the members a route knows (else 400 naming the first other one, with the closest known).
// Any thread.
#ifndef PETIT_HOST_API_API_BODY_H_
#define PETIT_HOST_API_API_BODY_H_

#include <Poco/JSON/Object.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_types.h"

namespace petit::host {

struct ParsedBody {
  Poco::JSON::Object::Ptr object;  // set when error is not
  std::optional<ApiResponse> error;
};

ParsedBody ParseBody(const ApiRequest& request, const std::vector<std::string_view>& allowed);

// For a route that takes no body: the 400 (or 415) when the body is not empty, {} or blank.
std::optional<ApiResponse> RefuseBody(const ApiRequest& request);

// The member `name` of `body` as a boolean; nullopt when absent; `error` set (400 naming it) when
// of another type.
std::optional<bool> BodyBool(const Poco::JSON::Object& body, const std::string& name,
                             std::optional<ApiResponse>& error);
// The member as a string; numbers and booleans are refused (400 naming it), like other types.
std::optional<std::string> BodyString(const Poco::JSON::Object& body, const std::string& name,
                                      std::optional<ApiResponse>& error);

}  // namespace petit::host

#endif  // PETIT_HOST_API_API_BODY_H_
