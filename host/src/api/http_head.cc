#include "api/http_head.h"

#include <Poco/Exception.h>
#include <Poco/MemoryStream.h>
#include <Poco/Net/HTTPMessage.h>
#include <Poco/Net/HTTPRequest.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace petit::host::internal {
namespace {

// RFC 9110, 5.6.2: what a method and a field name are made of.
bool IsToken(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// Poco skips a header line without a colon, and keeps whitespace before the colon in the name
// ("Transfer-Encoding : chunked" would then not be Transfer-Encoding, while a proxy in front may
// take it as such: request smuggling). RFC 9112, 5.1 makes both a 400, as folded lines are.
// The message naming what is wrong, or empty.
std::string MalformedHeaderLine(std::string_view head) {
  // NUL, or a CR that ends no line, in a field: RFC 9110, 5.5 lets a server refuse them, and a
  // proxy may cut the field there.
  for (size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\0') return "the head holds a NUL byte";
    if (head[i] == '\r' && (i + 1 >= head.size() || head[i + 1] != '\n')) {
      return "the head holds a CR that ends no line";
    }
  }
  // The request line is exactly "METHOD SP TARGET SP VERSION" (RFC 9112, 3).
  std::string_view request_line = head.substr(0, head.find('\n'));
  if (request_line.ends_with('\r')) request_line.remove_suffix(1);
  if (std::count(request_line.begin(), request_line.end(), ' ') != 2 ||
      request_line.find('\t') != std::string_view::npos) {
    return "the request line must be METHOD, target and version separated by single spaces";
  }
  if (!IsToken(request_line.substr(0, request_line.find(' ')))) {
    return "the method is not a token (RFC 9110, 9.1)";
  }
  const std::string_view target = request_line.substr(request_line.find(' ') + 1);
  if (target.substr(0, target.find(' ')).find('#') != std::string_view::npos) {
    return "the target holds a fragment ('#'), which a request never sends";
  }
  size_t start = head.find('\n');
  while (start != std::string_view::npos && start + 1 < head.size()) {
    const size_t end = head.find('\n', start + 1);
    std::string_view line = head.substr(start + 1, end - start - 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (!line.empty()) {
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) return "a header line has no ':'";
      const std::string_view name = line.substr(0, colon);
      if (name.empty() || name.find_first_of(" \t") != std::string_view::npos) {
        return "a header name is empty or has whitespace before its ':'";
      }
      if (!IsToken(name)) return "a header name holds a byte a field name may not (RFC 9110, 5.1)";
    }
    start = end;
  }
  return {};
}

// The authority of a target in absolute form ("http://authority/path"), or nothing for the usual
// origin form ("/path").
std::optional<std::string_view> AbsoluteFormAuthority(std::string_view target) {
  const size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const std::string_view scheme = target.substr(0, scheme_end);
  if (!EqualsIgnoringCase(scheme, "http") && !EqualsIgnoringCase(scheme, "https")) {
    return std::nullopt;
  }
  const std::string_view rest = target.substr(scheme_end + 3);
  return rest.substr(0, rest.find_first_of("/?"));
}

}  // namespace

size_t FindHeadEnd(std::string_view in, size_t from) {
  for (size_t i = in.find('\n', from); i != std::string_view::npos; i = in.find('\n', i + 1)) {
    if (i + 1 < in.size() && in[i + 1] == '\n') return i + 2;
    if (i + 2 < in.size() && in[i + 1] == '\r' && in[i + 2] == '\n') return i + 3;
  }
  return std::string_view::npos;
}

std::optional<ApiResponse> ParseRequestHead(std::string_view head, uint64_t max_body_bytes,
                                            ParsedRequest& out) {
  if (const std::string malformed = MalformedHeaderLine(head); !malformed.empty()) {
    return ErrorResponse(400, "BAD_REQUEST", "malformed request: " + malformed);
  }
  Poco::Net::HTTPRequest parsed;
  try {
    Poco::MemoryInputStream stream(head.data(), static_cast<std::streamsize>(head.size()));
    parsed.read(stream);
  } catch (const Poco::Exception& e) {
    const std::string what = e.message();
    // Poco's words for its limits on fields (MessageHeader: 100 fields, values of 8 KiB).
    const bool too_big = what.find("Too many") != std::string::npos ||
                         what.find("value too long") != std::string::npos;
    if (too_big) {
      return ErrorResponse(431, "HEADERS_TOO_LARGE", "request head refused: " + what);
    }
    return ErrorResponse(400, "BAD_REQUEST", "malformed request: " + e.displayText());
  }
  const std::string& version = parsed.getVersion();
  if (version != Poco::Net::HTTPMessage::HTTP_1_1 && version != Poco::Net::HTTPMessage::HTTP_1_0) {
    return ErrorResponse(400, "BAD_REQUEST", "unsupported HTTP version '" + version + "'");
  }
  // Two of these would leave the router and a proxy in front each free to pick one (RFC 9110,
  // 5.3; RFC 9112, 3.2 for Host).
  for (const char* single : {"Host", "Authorization", "Content-Type"}) {
    int count = 0;
    for (const auto& field : parsed) count += EqualsIgnoringCase(field.first, single);
    if (count > 1) {
      return ErrorResponse(400, "BAD_REQUEST",
                           std::string("malformed request: more than one ") + single + " header");
    }
  }
  ParsedRequest request;
  request.head.method = parsed.getMethod();
  request.head.target = parsed.getURI();
  request.http10 = version == Poco::Net::HTTPMessage::HTTP_1_0;
  // RFC 9112, 3.2: an HTTP/1.1 request without Host is a 400 (an empty one is allowed).
  if (!request.http10 && !parsed.has("Host")) {
    return ErrorResponse(400, "BAD_REQUEST",
                         "malformed request: an HTTP/1.1 request must have a Host header");
  }
  request.keep_alive = parsed.getKeepAlive();
  request.head.authorization = parsed.get("Authorization", "");
  request.head.origin = parsed.get("Origin", "");
  request.head.last_event_id = parsed.get("Last-Event-ID", "");
  request.head.preflight_method = parsed.get("Access-Control-Request-Method", "");
  request.head.host = parsed.get("Host", "");
  // RFC 9112, 3.2.2: of a target in absolute form ("http://host/path") the server takes the host
  // from the target and ignores Host, so the checks on the host (a loopback name when there is no
  // token) read that one. A userinfo ("user@") there is deprecated and could hide the host.
  if (std::optional<std::string_view> authority = AbsoluteFormAuthority(request.head.target)) {
    if (authority->find('@') != std::string_view::npos) {
      return ErrorResponse(400, "BAD_REQUEST",
                           "malformed request: the target's authority holds a userinfo ('@')");
    }
    // RFC 9110, 4.2.1: an http URI with an empty host is invalid (and would name no host).
    if (authority->empty()) {
      return ErrorResponse(400, "BAD_REQUEST", "malformed request: the target's host is empty");
    }
    request.head.host = std::string(*authority);
  }
  request.expect_continue =
      !request.http10 && EqualsIgnoringCase(parsed.get("Expect", ""), "100-continue");
  const std::string content_type = parsed.get("Content-Type", "");  // get() returns its default
  const std::string_view type =
      Trim(std::string_view(content_type).substr(0, content_type.find(';')));
  request.head.content_type.reserve(type.size());
  for (char ch : type) request.head.content_type.push_back(static_cast<char>(std::tolower(ch)));
  if (parsed.has("Transfer-Encoding")) {
    return ErrorResponse(411, "LENGTH_REQUIRED",
                         "send the request body with a Content-Length (Transfer-Encoding is "
                         "not accepted)");
  }
  uint64_t length = 0;
  std::optional<std::string> seen;
  for (const auto& [name, value] : parsed) {
    if (!EqualsIgnoringCase(name, "Content-Length")) continue;
    const std::string_view digits = Trim(value);
    if (digits.empty() || digits.size() > 18 ||
        digits.find_first_not_of("0123456789") != std::string_view::npos ||
        (seen && *seen != digits)) {
      return ErrorResponse(400, "BAD_REQUEST", "malformed Content-Length");
    }
    seen = std::string(digits);
    length = std::stoull(*seen);
  }
  if (length > max_body_bytes) {
    return ErrorResponse(413, "PAYLOAD_TOO_LARGE",
                         "the request body of " + std::to_string(length) +
                             " bytes exceeds api.max_body_bytes (" +
                             std::to_string(max_body_bytes) + ")");
  }
  request.body_bytes = length;
  request.length_given = seen.has_value();
  out = std::move(request);
  return std::nullopt;
}

bool LooksLikeABody(std::string_view after) {
  size_t i = 0;
  while (i < after.size() && (after[i] == '\r' || after[i] == '\n')) ++i;
  size_t token = 0;
  while (i + token < after.size() && after[i + token] >= 'A' && after[i + token] <= 'Z') ++token;
  if (i + token == after.size()) return false;  // nothing yet, or a method still arriving
  return token == 0 || after[i + token] != ' ';
}

}  // namespace petit::host::internal
