// The CLI's client of a running daemon's HTTP API (`petit status`, `pause`, `cancel`, ...): where
// the daemon is, and plain JSON requests to it. The HTTP is cli/http_client.h's.
//
// Where: `--server URL`, else petit.yaml's `api` (bind, port, path_prefix), petit.yaml found as
// every command finds it (--config, else the DIR operand's petit.yaml, else defaults:
// http://127.0.0.1:8565). A bind to every interface (0.0.0.0, ::) is reached on the loopback.
// The bearer token is PETIT_API_TOKEN when set, else petit.yaml's `api.token`.
//
// Threads: an ApiClient is used by one thread at a time; FindDaemon is a pure function of its
// arguments, the environment and petit.yaml.
#ifndef PETIT_HOST_CLI_API_CLIENT_H_
#define PETIT_HOST_CLI_API_CLIENT_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/args.h"
#include "config/global_config.h"
#include "petit/core/status.h"

namespace petit::host {

struct DaemonAddress {
  // "http://127.0.0.1:8565", with the path prefix if any ("http://proxy:80/petit"); no trailing
  // "/". What messages name.
  std::string url;
  std::string token;  // empty = send no Authorization header
};

// The address `--server URL` names: http only (TLS is a reverse proxy's, and the CLI talks to the
// daemon beside it), a host, an optional port (default 80), an optional path prefix; nothing
// else. kInvalidArgument, naming what is wrong, otherwise.
Result<DaemonAddress> ParseServerUrl(std::string_view url);

// The address petit.yaml's `api` gives: bind, port and path_prefix; the token as described above.
DaemonAddress AddressFromConfig(const ApiConfig& api);

// The daemon this command line means. petit.yaml is read when --server is absent, and for the
// token when PETIT_API_TOKEN is not set; a petit.yaml that cannot be read (absent, unreadable,
// invalid) leaves the defaults and adds one line to `warnings` when it exists. kInvalidArgument
// for a bad --server URL.
Result<DaemonAddress> FindDaemon(const Args& args, std::vector<std::string>& warnings);

// `segment` (a job or run id) percent-encoded for one segment of a path.
std::string EncodePathSegment(std::string_view segment);

// The one line every remote command prints when nothing answers at `url`.
std::string NoDaemonMessage(std::string_view url);

struct ApiAnswer {
  int status = 0;    // the HTTP status
  std::string body;  // the response body, as received (JSON from a petit daemon)
};

struct ApiClientOptions {
  std::chrono::milliseconds connect_timeout{1000};
  // Each send and receive once connected; a retry plan or a reload takes the daemon a moment.
  std::chrono::milliseconds io_timeout{15000};
  size_t max_body_bytes = size_t{64} << 20;
};

class ApiClient {
 public:
  // kInvalidArgument when address.url is not a URL ParseServerUrl accepts.
  static Result<std::unique_ptr<ApiClient>> Create(DaemonAddress address,
                                                   ApiClientOptions options = {});
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // `path` starts with "/" ("/api/v1/scheduler") and may hold a query; the prefix of the address
  // comes before it. Any HTTP status is an answer; kUnavailable with NoDaemonMessage when nothing
  // accepts the connection, or with what went wrong when the daemon stopped answering midway. One
  // connection is kept between requests.
  Result<ApiAnswer> Get(std::string_view path);
  // POSTs `json` as application/json.
  Result<ApiAnswer> Post(std::string_view path, std::string_view json);

  const std::string& url() const { return address_.url; }

 private:
  struct Session;
  ApiClient(DaemonAddress address, ApiClientOptions options, std::unique_ptr<Session> session);
  Result<ApiAnswer> Send(std::string_view method, std::string_view path, std::string_view json);

  DaemonAddress address_;
  ApiClientOptions options_;
  std::unique_ptr<Session> session_;
};

}  // namespace petit::host

#endif  // PETIT_HOST_CLI_API_CLIENT_H_
