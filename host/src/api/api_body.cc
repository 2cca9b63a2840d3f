#include "api/api_body.h"

#include <Poco/Exception.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>

#include <exception>
#include <set>
#include <string>
#include <utility>

#include "api/api_json.h"
#include "petit/core/suggest.h"

namespace petit::host {
namespace {

// Poco's handler keeps the last of two values of one key; a body saying {"dry_run": true,
// "dry_run": false} has no meaning to act on, so the first repeated key is noted and refused.
class NoDuplicateKeysHandler : public Poco::JSON::ParseHandler {
 public:
  NoDuplicateKeysHandler() : ParseHandler(/*preserveObjectOrder=*/true) {}

  void startObject() override {
    keys_.emplace_back();
    ParseHandler::startObject();
  }
  void endObject() override {
    keys_.pop_back();
    ParseHandler::endObject();
  }
  void key(const std::string& k) override {
    if (!keys_.empty() && !keys_.back().insert(k).second && duplicate_.empty()) duplicate_ = k;
    ParseHandler::key(k);
  }
  const std::string& duplicate() const { return duplicate_; }

 private:
  std::vector<std::set<std::string>> keys_;  // of each object being read, innermost last
  std::string duplicate_;
};

}  // namespace

ParsedBody ParseBody(const ApiRequest& request, const std::vector<std::string_view>& allowed) {
  ParsedBody parsed;
  const size_t first = request.body.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {  // blank: no parameters
    parsed.object = new Poco::JSON::Object;
    return parsed;
  }
  if (request.content_type != "application/json") {
    parsed.error = Error(
        415, "the body must be JSON (Content-Type: application/json), not '" +
                 (request.content_type.empty() ? std::string("none") : request.content_type) + "'");
    return parsed;
  }
  // Poco's answer to a bare `null` ("Attempt to set value on an empty stack") says nothing.
  if (request.body[first] != '{') {
    parsed.error = Error(400, "the body must be a JSON object");
    return parsed;
  }
  try {
    Poco::SharedPtr<NoDuplicateKeysHandler> handler = new NoDuplicateKeysHandler;
    Poco::JSON::Parser parser(handler);
    Poco::Dynamic::Var value = parser.parse(request.body);
    if (!handler->duplicate().empty()) {
      parsed.error = Error(400, "the body gives the key '" + handler->duplicate() +
                                    "' more than once; give each key once");
      return parsed;
    }
    // Begun with '{' (checked above) and parsed whole: an object.
    parsed.object = value.extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    parsed.error = Error(400, "the body is not valid JSON: " + e.message());
    return parsed;
  } catch (const std::exception& e) {
    parsed.error = Error(400, std::string("the body is not valid JSON: ") + e.what());
    return parsed;
  }
  for (const std::string& name : parsed.object->getNames()) {
    bool known = false;
    for (std::string_view field : allowed) known = known || field == name;
    if (known) continue;
    std::string message = "unknown field '" + name + "' in the body";
    if (auto close = ClosestMatch(name, allowed)) message += " (did you mean '" + *close + "'?)";
    parsed.error = Error(400, message);
    parsed.object = nullptr;
    return parsed;
  }
  return parsed;
}

std::optional<ApiResponse> RefuseBody(const ApiRequest& request) {
  return ParseBody(request, {}).error;
}

std::optional<bool> BodyBool(const Poco::JSON::Object& body, const std::string& name,
                             std::optional<ApiResponse>& error) {
  if (!body.has(name) || body.isNull(name)) return std::nullopt;
  const Poco::Dynamic::Var value = body.get(name);
  if (!value.isBoolean()) {
    error = Error(400, "field '" + name + "' must be true or false");
    return std::nullopt;
  }
  return value.extract<bool>();
}

std::optional<std::string> BodyString(const Poco::JSON::Object& body, const std::string& name,
                                      std::optional<ApiResponse>& error) {
  if (!body.has(name) || body.isNull(name)) return std::nullopt;
  const Poco::Dynamic::Var value = body.get(name);
  if (!value.isString()) {
    error = Error(400, "field '" + name + "' must be a string");
    return std::nullopt;
  }
  return value.extract<std::string>();
}

}  // namespace petit::host
