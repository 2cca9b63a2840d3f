#include "cli/api_client.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>

#include <cstdlib>
#include <filesystem>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace petit::host {
namespace {

Poco::Timespan ToTimespan(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

// A bind to every interface is reached on the loopback; an IPv6 literal needs brackets in a URL.
std::string HostForUrl(std::string host) {
  if (host.empty() || host == "0.0.0.0" || host == "*") return "127.0.0.1";
  if (host == "::" || host == "[::]") return "[::1]";
  if (host.find(':') != std::string::npos && host.front() != '[') return "[" + host + "]";
  return host;
}

// The parts of an http URL, checked.
struct ParsedUrl {
  std::string host;  // without brackets
  uint16_t port = 80;
  std::string prefix;  // "" or "/a/b"
};

Result<ParsedUrl> ParseHttpUrl(std::string_view text) {
  const std::string url(text);
  auto bad = [&](const std::string& why) {
    return InvalidArgument("--server '" + url + "' " + why +
                           " (expected http://HOST[:PORT][/PREFIX], e.g. http://127.0.0.1:8565)");
  };
  Poco::URI uri;
  try {
    uri = Poco::URI(url);
  } catch (const Poco::Exception& e) {
    return bad("is not a URL: " + e.message());
  }
  if (uri.getScheme() == "https") {
    return bad("uses https, which the CLI does not speak: give the daemon's own http address");
  }
  if (uri.getScheme() != "http") return bad("is not an http URL");
  if (uri.getHost().empty()) return bad("names no host");
  if (!uri.getUserInfo().empty() || !uri.getRawQuery().empty() || !uri.getFragment().empty()) {
    return bad("has parts the CLI does not use (user, query or fragment)");
  }
  ParsedUrl parsed;
  parsed.host = uri.getHost();
  parsed.port = uri.getPort();
  if (parsed.port == 0) return bad("has port 0");
  std::string path = uri.getPath();
  while (!path.empty() && path.back() == '/') path.pop_back();
  parsed.prefix = path;
  return parsed;
}

std::string UrlOf(const ParsedUrl& parsed) {
  return "http://" + HostForUrl(parsed.host) + ":" + std::to_string(parsed.port) + parsed.prefix;
}

std::string TokenFromEnvironment() {
  const char* token = std::getenv("PETIT_API_TOKEN");
  return token != nullptr ? std::string(token) : std::string();
}

}  // namespace

Result<DaemonAddress> ParseServerUrl(std::string_view url) {
  Result<ParsedUrl> parsed = ParseHttpUrl(url);
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

std::string EncodePathSegment(std::string_view segment) {
  std::string encoded;
  Poco::URI::encode(std::string(segment), "/?#%&=+;", encoded);
  return encoded;
}

std::string NoDaemonMessage(std::string_view url) {
  return "no daemon answers at " + std::string(url) + " (is `petit run` running?)";
}

struct ApiClient::Session {
  ParsedUrl target;
  Poco::Net::HTTPClientSession http;
};

ApiClient::ApiClient(DaemonAddress address, ApiClientOptions options,
                     std::unique_ptr<Session> session)
    : address_(std::move(address)), options_(options), session_(std::move(session)) {}

ApiClient::~ApiClient() = default;

Result<std::unique_ptr<ApiClient>> ApiClient::Create(DaemonAddress address,
                                                     ApiClientOptions options) {
  Result<ParsedUrl> parsed = ParseHttpUrl(address.url);
  if (!parsed.ok()) return parsed.status();
  auto session = std::make_unique<Session>();
  session->target = *parsed;
  try {
    session->http.setHost(parsed->host);
    session->http.setPort(parsed->port);
    session->http.setKeepAlive(true);
    session->http.setTimeout(ToTimespan(options.connect_timeout), ToTimespan(options.io_timeout),
                             ToTimespan(options.io_timeout));
  } catch (const Poco::Exception& e) {
    return InvalidArgument("cannot talk to " + address.url + ": " + e.displayText());
  }
  return std::unique_ptr<ApiClient>(new ApiClient(std::move(address), options, std::move(session)));
}

Result<ApiAnswer> ApiClient::Get(std::string_view path) { return Send("GET", path, ""); }

Result<ApiAnswer> ApiClient::Post(std::string_view path, std::string_view json) {
  return Send("POST", path, json);
}

Result<ApiAnswer> ApiClient::Send(std::string_view method, std::string_view path,
                                  std::string_view json) {
  Poco::Net::HTTPRequest request(std::string(method), session_->target.prefix + std::string(path),
                                 Poco::Net::HTTPMessage::HTTP_1_1);
  request.set("Accept", "application/json");
  if (!address_.token.empty()) request.set("Authorization", "Bearer " + address_.token);
  if (method == "POST") {
    request.setContentType("application/json");
    request.setContentLength(static_cast<std::streamsize>(json.size()));
  }
  // Up to the request's end, a failure means nothing (or something else) listens there.
  try {
    std::ostream& body = session_->http.sendRequest(request);
    body.write(json.data(), static_cast<std::streamsize>(json.size()));
    body.flush();
  } catch (const Poco::Exception&) {
    session_->http.reset();
    return Unavailable(NoDaemonMessage(address_.url));
  } catch (const std::exception&) {
    session_->http.reset();
    return Unavailable(NoDaemonMessage(address_.url));
  }
  ApiAnswer answer;
  try {
    Poco::Net::HTTPResponse response;
    std::istream& in = session_->http.receiveResponse(response);
    answer.status = static_cast<int>(response.getStatus());
    char buffer[16384];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
      answer.body.append(buffer, static_cast<size_t>(in.gcount()));
      if (answer.body.size() > options_.max_body_bytes) {
        session_->http.reset();
        return Unavailable("the daemon at " + address_.url + " sent more than " +
                           std::to_string(options_.max_body_bytes) + " bytes for " +
                           std::string(method) + " " + std::string(path));
      }
    }
  } catch (const Poco::Exception& e) {
    session_->http.reset();
    // A connection accepted and then dropped (a daemon stopping, a non-HTTP listener) or a
    // daemon too busy to answer within io_timeout.
    return Unavailable("the daemon at " + address_.url + " did not answer " + std::string(method) +
                       " " + std::string(path) + ": " + e.displayText());
  } catch (const std::exception& e) {
    session_->http.reset();
    return Unavailable("the daemon at " + address_.url + " did not answer " + std::string(method) +
                       " " + std::string(path) + ": " + e.what());
  }
  return answer;
}

}  // namespace petit::host
