#include "cli/api_client.h"

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/http_client.h"

namespace petit::host {
namespace {

// A bind to every interface is reached on the loopback; an IPv6 literal needs brackets in a URL.
std::string HostForUrl(std::string host) {
  if (host.empty() || host == "0.0.0.0" || host == "*") return "127.0.0.1";
  if (host == "::" || host == "[::]") return "[::1]";
  if (host.find(':') != std::string::npos && host.front() != '[') return "[" + host + "]";
  return host;
}

Result<HttpUrl> ParseServer(std::string_view text) {
  HttpUrlParse parsed = ParseHttpUrl(text);
  if (parsed.refusal.empty()) return std::move(parsed.url);
  return InvalidArgument("--server '" + std::string(text) + "' " + parsed.refusal +
                         " (expected http://HOST[:PORT][/PREFIX], e.g. http://127.0.0.1:8565)");
}

std::string UrlOf(const HttpUrl& parsed) {
  return "http://" + HostForUrl(parsed.host) + ":" + std::to_string(parsed.port) + parsed.prefix;
}

std::string TokenFromEnvironment() {
  const char* token = std::getenv("PETIT_API_TOKEN");
  return token != nullptr ? std::string(token) : std::string();
}

}  // namespace

Result<DaemonAddress> ParseServerUrl(std::string_view url) {
  Result<HttpUrl> parsed = ParseServer(url);
  if (!parsed.ok()) return parsed.status();
  return DaemonAddress{UrlOf(*parsed), TokenFromEnvironment()};
}

DaemonAddress AddressFromConfig(const ApiConfig& api) {
  DaemonAddress address;
  address.url = "http://" + HostForUrl(api.bind) + ":" + std::to_string(api.port) + api.path_prefix;
  std::string token = TokenFromEnvironment();
  address.token = token.empty() ? api.token : std::move(token);
  return address;
}

Result<DaemonAddress> FindDaemon(const Args& args, std::vector<std::string>& warnings) {
  std::optional<DaemonAddress> server;
  if (args.server.has_value()) {
    Result<DaemonAddress> parsed = ParseServerUrl(*args.server);
    if (!parsed.ok()) return parsed.status();
    server = std::move(parsed).value();
    if (!server->token.empty()) return *server;  // petit.yaml has nothing more to say
  }
  ApiConfig api;
  Result<GlobalConfig> config = ResolveGlobalConfig(args.host.config_path, args.host.jobs_dir);
  if (config.ok()) {
    api = config->api;
  } else {
    // Unreadable (a server's /etc/petit/petit.yaml is often the daemon's alone) or invalid:
    // the defaults and PETIT_API_TOKEN may still reach the daemon.
    const std::string message = config.status().message();
    warnings.push_back("petit.yaml not read, using the API defaults: " +
                       message.substr(0, message.find('\n')));
  }
  DaemonAddress from_config = AddressFromConfig(api);
  if (server.has_value()) {
    server->token = from_config.token;
    return *server;
  }
  return from_config;
}

std::string EncodePathSegment(std::string_view segment) { return PercentEncodeSegment(segment); }

std::string NoDaemonMessage(std::string_view url) {
  return "no daemon answers at " + std::string(url) + " (is `petit run` running?)";
}

struct ApiClient::Session {
  HttpUrl target;
  HttpConnection http;
};

ApiClient::ApiClient(DaemonAddress address, ApiClientOptions options,
                     std::unique_ptr<Session> session)
    : address_(std::move(address)), options_(options), session_(std::move(session)) {}

ApiClient::~ApiClient() = default;

Result<std::unique_ptr<ApiClient>> ApiClient::Create(DaemonAddress address,
                                                     ApiClientOptions options) {
  Result<HttpUrl> parsed = ParseServer(address.url);
  if (!parsed.ok()) return parsed.status();
  auto session =
      std::unique_ptr<Session>(new Session{*parsed, HttpConnection(parsed->host, parsed->port)});
  return std::unique_ptr<ApiClient>(new ApiClient(std::move(address), options, std::move(session)));
}

Result<ApiAnswer> ApiClient::Get(std::string_view path) { return Send("GET", path, ""); }

Result<ApiAnswer> ApiClient::Post(std::string_view path, std::string_view json) {
  return Send("POST", path, json);
}

Result<ApiAnswer> ApiClient::Send(std::string_view method, std::string_view path,
                                  std::string_view json) {
  const HttpUrl& target = session_->target;
  std::string request;
  request.reserve(256 + json.size());
  request.append(method).append(" ").append(target.prefix).append(path).append(" HTTP/1.1\r\n");
  request.append("Host: ").append(UrlHost(target.host));
  if (target.port != 80) request.append(":").append(std::to_string(target.port));
  request.append("\r\nAccept: application/json\r\n");
  if (!address_.token.empty())
    request.append("Authorization: Bearer ").append(address_.token).append("\r\n");
  if (method == "POST") {
    request.append("Content-Type: application/json\r\nContent-Length: ")
        .append(std::to_string(json.size()))
        .append("\r\n");
  }
  request.append("\r\n").append(json);
  const std::string what = "the daemon at " + address_.url + " did not answer " +
                           std::string(method) + " " + std::string(path);
  HttpConnection& http = session_->http;
  // A kept connection the daemon closed meanwhile (its idle timeout) fails before any answer:
  // that request is sent once more on a new connection.
  for (int attempt = 0;; ++attempt) {
    const bool reused = http.connected() && http.reused();
    // Up to the request's end, a failure means nothing (or something else) listens there.
    if (!http.Connect(options_.connect_timeout).ok() ||
        !http.Send(request, options_.io_timeout).ok()) {
      http.Close();
      if (reused && attempt == 0) continue;
      return Unavailable(NoDaemonMessage(address_.url));
    }
    bool received_nothing = false;
    Result<HttpResponseHead> head = http.ReadHead(options_.io_timeout, received_nothing);
    if (!head.ok()) {
      http.Close();
      if (reused && received_nothing && attempt == 0) continue;
      // A connection accepted and then dropped (a daemon stopping, a non-HTTP listener) or a
      // daemon too busy to answer within io_timeout.
      return Unavailable(what + ": " + head.status().message());
    }
    Result<std::string> body = http.ReadBody(*head, options_.io_timeout, options_.max_body_bytes);
    if (!body.ok()) {
      if (body.status().code() == StatusCode::kResourceExhausted) {
        return Unavailable("the daemon at " + address_.url + " sent more than " +
                           std::to_string(options_.max_body_bytes) + " bytes for " +
                           std::string(method) + " " + std::string(path));
      }
      return Unavailable(what + ": " + body.status().message());
    }
    return ApiAnswer{head->status, std::move(body).value()};
  }
}

}  // namespace petit::host
