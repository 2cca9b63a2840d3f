#include "api/http_router.h"

#include <Poco/SHA2Engine.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <utility>

namespace petit::host::internal {

struct HttpRouter::CompiledRoute {
  Route route;
  std::vector<std::string> segments;  // "{id}" kept as is; is_param says which
  std::vector<bool> is_param;
  // Literal segments earlier in the path weigh more: "/runs/query" beats "/runs/{id}".
  uint64_t literal_score = 0;
};

namespace {

using Digest = HttpRouter::Digest;

Digest Sha256(std::string_view text) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(text.data(), static_cast<unsigned>(text.size()));
  const Poco::DigestEngine::Digest& bytes = engine.digest();
  Digest digest{};
  std::copy_n(bytes.begin(), std::min(bytes.size(), digest.size()), digest.begin());
  return digest;
}

// Equal digests, in time independent of where they differ.
bool SameDigest(const Digest& a, const Digest& b) {
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// False on a '%' not followed by two hex digits.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int high = HexValue(in[i + 1]);
      const int low = HexValue(in[i + 2]);
      if (high < 0 || low < 0) return false;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path.starts_with('/')) path.remove_prefix(1);
  if (path.ends_with('/')) path.remove_suffix(1);  // "/api/jobs/" is "/api/jobs"
  if (path.empty()) return segments;
  for (size_t start = 0;;) {
    const size_t slash = path.find('/', start);
    segments.push_back(path.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

HttpRouter::CompiledRoute Compile(Route route) {
  HttpRouter::CompiledRoute compiled;
  for (std::string_view segment : SplitPath(route.pattern)) {
    const bool param = segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
    if (!param && compiled.segments.size() < 64) {
      compiled.literal_score |= uint64_t{1} << (63 - compiled.segments.size());
    }
    compiled.segments.emplace_back(param ? segment.substr(1, segment.size() - 2) : segment);
    compiled.is_param.push_back(param);
  }
  compiled.route = std::move(route);
  return compiled;
}

bool MatchPath(const HttpRouter::CompiledRoute& route, const std::vector<std::string>& segments) {
  if (route.segments.size() != segments.size()) return false;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (route.is_param[i] ? segments[i].empty() : segments[i] != route.segments[i]) return false;
  }
  return true;
}

// "localhost", "127.0.0.1", "[::1]", with or without a port.
bool IsLoopbackHost(std::string_view host) {
  if (host.starts_with('[')) {
    const size_t close = host.find(']');
    return close != std::string_view::npos && host.substr(0, close + 1) == "[::1]";
  }
  host = host.substr(0, host.find(':'));
  return EqualsIgnoringCase(host, "localhost") || host == "127.0.0.1";
}

}  // namespace

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

HttpRouter::HttpRouter(const ApiConfig& config, std::vector<Route> routes, LogLine log)
    : config_(config), log_(std::move(log)) {
  tokens_ = !config_.token.empty() || !config_.read_only_token.empty();
  operator_digest_ = Sha256(config_.token);
  read_only_digest_ = Sha256(config_.read_only_token);
  for (Route& route : routes) {
    for (const CompiledRoute& known : routes_) {
      if (known.route.method == route.method && known.route.pattern == route.pattern) {
        log_("api: route " + route.method + " " + route.pattern +
             " is declared twice; the first wins");
      }
    }
    routes_.push_back(Compile(std::move(route)));
  }
}

HttpRouter::~HttpRouter() = default;

std::string HttpRouter::AllowedOrigin(const std::string& origin) const {
  if (origin.empty()) return {};
  for (const std::string& allowed : config_.cors_origins) {
    if (allowed == origin) return origin;
  }
  return {};
}

ApiResponse HttpRouter::Respond(const HttpRequest& request, const std::string& origin) const {
  ApiRequest api;
  api.method = request.method;
  std::vector<std::string> segments;
  if (std::optional<ApiResponse> bad = ParseTarget(request.target, api, segments)) return *bad;

  const CompiledRoute* best = nullptr;
  std::vector<std::string> allowed;
  for (const CompiledRoute& route : routes_) {
    if (!MatchPath(route, segments)) continue;
    const std::string& method = route.route.method;
    if (std::find(allowed.begin(), allowed.end(), method) == allowed.end()) {
      allowed.push_back(method);
    }
    const bool fits = method == request.method || (request.method == "HEAD" && method == "GET");
    if (fits && (best == nullptr || route.literal_score > best->literal_score)) best = &route;
  }
  std::string allow;
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), "GET") != allowed.end()) {
    allowed.push_back("HEAD");
  }
  for (const std::string& method : allowed) allow += (allow.empty() ? "" : ", ") + method;
  // A browser's preflight carries no token.
  if (request.method == "OPTIONS" && !origin.empty() && !request.preflight_method.empty() &&
      !allowed.empty()) {
    ApiResponse preflight;
    preflight.status = 204;
    preflight.headers = {
        {"Access-Control-Allow-Methods", allow},
        {"Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID"},
        {"Access-Control-Max-Age", "600"}};
    return preflight;
  }
  // Without a valid token a caller learns nothing but the public routes_: not even which paths
  // exist.
  const Access access = best != nullptr ? best->route.access : Access::kRead;
  if (std::optional<ApiResponse> denied = Authorize(request, access, api)) return *denied;
  if (allowed.empty()) {
    return ErrorResponse(404, "NOT_FOUND", "no such path: " + api.path);
  }
  if (best == nullptr) {
    ApiResponse response = ErrorResponse(
        405, "METHOD_NOT_ALLOWED",
        request.method + " is not allowed on " + api.path + " (allowed: " + allow + ")");
    response.headers.emplace_back("Allow", allow);
    return response;
  }
  const Route& route = best->route;
  if (std::optional<ApiResponse> refused = RefuseBrowserAttack(request, route, origin)) {
    return *refused;
  }
  if (!request.body.empty() && route.method != "GET" &&
      request.content_type != "application/json") {
    return ErrorResponse(
        415, "UNSUPPORTED_MEDIA_TYPE",
        "the request body must be application/json, not '" +
            (request.content_type.empty() ? std::string("(none)") : request.content_type) + "'");
  }
  for (size_t i = 0; i < segments.size(); ++i) {
    if (best->is_param[i]) api.params[best->segments[i]] = std::move(segments[i]);
  }
  api.content_type = request.content_type;
  api.body = request.body;
  api.last_event_id = request.last_event_id;
  try {
    return route.handler(api);
  } catch (const std::exception& e) {
    log_("api: " + request.method + " " + api.path + ": the handler failed: " + e.what());
  } catch (...) {
    log_("api: " + request.method + " " + api.path + ": the handler failed");
  }
  return ErrorResponse(500, "INTERNAL_ERROR", "internal error (logged by the server)");
}

// Fills api.path and api.query, and the decoded segments; the 400 when malformed.
std::optional<ApiResponse> HttpRouter::ParseTarget(std::string_view target, ApiRequest& api,
                                                   std::vector<std::string>& segments) const {
  // The absolute form "http://host/path" is valid too (RFC 9112, 3.2.2).
  // The scheme is case-insensitive (RFC 3986, 3.1).
  const size_t scheme_end = target.find("://");
  if (scheme_end != std::string_view::npos &&
      (EqualsIgnoringCase(target.substr(0, scheme_end), "http") ||
       EqualsIgnoringCase(target.substr(0, scheme_end), "https"))) {
    const size_t slash = target.find('/', scheme_end + 3);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  std::string_view path = target.substr(0, target.find_first_of("?#"));
  std::string_view query;
  if (const size_t mark = target.find('?'); mark != std::string_view::npos) {
    query = target.substr(mark + 1);
    query = query.substr(0, query.find('#'));
  }
  if (!path.starts_with('/')) {
    return ErrorResponse(400, "BAD_REQUEST", "the request target must be a path");
  }
  const std::string& prefix = config_.path_prefix;
  if (!prefix.empty() && path.starts_with(prefix) &&
      (path.size() == prefix.size() || path[prefix.size()] == '/')) {
    path.remove_prefix(prefix.size());
  }
  std::string decoded;
  for (std::string_view segment : SplitPath(path)) {
    if (!PercentDecode(segment, false, decoded)) {
      return ErrorResponse(400, "BAD_REQUEST", "malformed percent-encoding in the path");
    }
    api.path += "/" + decoded;
    segments.push_back(decoded);
  }
  if (api.path.empty()) api.path = "/";
  std::string key;
  std::string value;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    if (!PercentDecode(pair.substr(0, eq), true, key) ||
        !PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1),
                       true, value)) {
      return ErrorResponse(400, "BAD_REQUEST", "malformed percent-encoding in the query");
    }
    // Keeping one of two values would answer a question the client did not ask (a filter of
    // status=failed&status=running read as running alone); lists are comma-separated.
    if (!api.query.emplace(key, value).second) {
      return ErrorResponse(400, "BAD_REQUEST",
                           "query parameter '" + key +
                               "' is given more than once (give it once; a list is "
                               "comma-separated)");
    }
  }
  return std::nullopt;
}

// Browsers send requests on behalf of any page: a page elsewhere must not reach a token-less
// API on the loopback (cross-site request forgery: a form posted to 127.0.0.1), nor through a
// name of its own that it resolves to 127.0.0.1 (DNS rebinding). So a write that carries an
// Origin must come from a listed or the same origin, and without tokens_ the Host must be a
// loopback name. With tokens_ neither works anyway: browsers do not send bearer tokens_ by
// themselves.
std::optional<ApiResponse> HttpRouter::RefuseBrowserAttack(
    const HttpRequest& request, const Route& route, const std::string& allowed_origin) const {
  if (!tokens_ && !request.host.empty() && !IsLoopbackHost(request.host)) {
    return ErrorResponse(403, "FORBIDDEN",
                         "without api.token the API answers only requests addressed to a "
                         "loopback name (127.0.0.1, localhost, [::1]), not to '" +
                             request.host + "'");
  }
  if (route.method == "GET" || request.origin.empty() || !allowed_origin.empty()) {
    return std::nullopt;
  }
  std::string_view origin_host = request.origin;
  if (const size_t scheme = origin_host.find("://"); scheme != std::string_view::npos) {
    origin_host.remove_prefix(scheme + 3);
  }
  if (!request.host.empty() && EqualsIgnoringCase(origin_host, request.host)) {
    return std::nullopt;
  }
  return ErrorResponse(
      403, "FORBIDDEN",
      "cross-origin request from '" + request.origin + "' refused (list it in api.cors_origins)");
}

// The 401 or 403 the request gets, if any; sets api.read_only. Both digests are always
// compared, so the time taken says nothing about which token, or how much of it, matched.
std::optional<ApiResponse> HttpRouter::Authorize(const HttpRequest& request, Access access,
                                                 ApiRequest& api) const {
  if (!tokens_ || access == Access::kPublic) return std::nullopt;
  std::string_view header = Trim(request.authorization);
  std::string_view token;
  if (header.size() > 7 && EqualsIgnoringCase(header.substr(0, 7), "Bearer ")) {
    token = Trim(header.substr(7));
  }
  if (token.empty()) {
    ApiResponse response = ErrorResponse(
        401, "UNAUTHORIZED", "this request needs a token: send Authorization: Bearer <token>");
    response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"petit\"");
    return response;
  }
  const Digest digest = Sha256(token);
  const bool operator_match = SameDigest(digest, operator_digest_);
  const bool read_only_match = SameDigest(digest, read_only_digest_);
  const bool is_operator = operator_match && !config_.token.empty();
  const bool is_read_only = read_only_match && !config_.read_only_token.empty();
  if (!is_operator && !is_read_only) {
    ApiResponse response = ErrorResponse(401, "UNAUTHORIZED", "the token is not valid");
    response.headers.emplace_back("WWW-Authenticate",
                                  "Bearer realm=\"petit\", error=\"invalid_token\"");
    return response;
  }
  api.read_only = !is_operator;
  if (api.read_only && access == Access::kOperate) {
    ApiResponse response = ErrorResponse(403, "FORBIDDEN",
                                         "the read-only token cannot " + request.method + " " +
                                             api.path + ": use the operator token");
    response.headers.emplace_back("WWW-Authenticate",
                                  "Bearer realm=\"petit\", error=\"insufficient_scope\"");
    return response;
  }
  return std::nullopt;
}

}  // namespace petit::host::internal
