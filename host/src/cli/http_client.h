// The CLI's HTTP/1.1 client of a running daemon, over a blocking POSIX socket: what `petit
// status`, `pause`, `watch` and the other remote commands send (cli/api_client.h, sse_client.h).
// Written for the daemon's own server (api/http_server.h) and what a reverse proxy in front of it
// sends back: a connect with a timeout, requests with a Content-Length body, responses whose body
// is Content-Length, chunked or ended by the close, read with a timeout on every wait. Not a
// general client: no TLS, no redirects, no proxies, no 1xx answers but 100 skipped.
//
// It exists so that the petit binary links no HTTP library: a command's start-up is mostly the
// dynamic loader resolving the symbols of what the binary links (README, "Start-up").
//
// Errors: kUnavailable for what the network or the peer did (refused, reset, timed out, closed
// early, malformed answer); each message is one line.
// Threads: an HttpConnection is used by one thread at a time, except ShutDown, which any thread
// may call while another reads (that read then returns kUnavailable).
#ifndef PETIT_HOST_CLI_HTTP_CLIENT_H_
#define PETIT_HOST_CLI_HTTP_CLIENT_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "petit/core/status.h"

namespace petit::host {

// An http URL of the form http://HOST[:PORT][/PREFIX], checked: what `--server` takes.
struct HttpUrl {
  std::string host;  // lower case, without brackets for an IPv6 literal
  uint16_t port = 80;
  std::string prefix;  // "" or "/a/b": the path without its trailing "/"
};

// The reason a URL is refused, as a phrase that follows the URL in a message ("uses https, ...",
// "names no host", "has port 0", ...); the URL otherwise.
struct HttpUrlParse {
  HttpUrl url;
  std::string refusal;  // empty when `url` is valid
};
HttpUrlParse ParseHttpUrl(std::string_view text);

// "host" or "[::1]": the host as a URL spells it.
std::string UrlHost(const std::string& host);

// `segment` percent-encoded for one segment of a path: everything but unreserved characters
// (RFC 3986: letters, digits, "-._~") and the sub-delimiters a path allows unencoded, except
// those that mean something to a query or the server's router ("?#%&=+;/").
std::string PercentEncodeSegment(std::string_view segment);

struct HttpResponseHead {
  int status = 0;
  // Header names in lower case, values trimmed, in the order received.
  std::vector<std::pair<std::string, std::string>> headers;
  // How the body ends.
  bool chunked = false;
  bool has_length = false;
  uint64_t content_length = 0;
  // The server closes the connection after this answer (Connection: close, HTTP/1.0, or a body
  // ended by the close).
  bool closes = false;

  // The first header named `name` (lower case), or "".
  std::string_view Header(std::string_view name) const;
};

class HttpConnection {
 public:
  HttpConnection(std::string host, uint16_t port);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Connects unless connected; each address the host resolves to is tried in turn, each for up to
  // `timeout`.
  Status Connect(std::chrono::milliseconds timeout);
  bool connected() const { return fd_ >= 0; }
  // A connection kept from a previous exchange (reused: its peer may have closed it meanwhile).
  bool reused() const { return exchanges_ > 0; }
  void Close();

  // Sends all of `bytes`, waiting at most `timeout` for each part to leave.
  Status Send(std::string_view bytes, std::chrono::milliseconds timeout);
  // Reads the response head (skipping 100 Continue answers), each wait at most `timeout`.
  // `received_nothing` tells whether the connection ended before the first byte of it (a kept
  // connection the server closed: worth one retry on a new one).
  Result<HttpResponseHead> ReadHead(std::chrono::milliseconds timeout, bool& received_nothing);
  // Reads the whole body of `head`; kResourceExhausted past `max_bytes` (then the connection is
  // closed). Afterwards the connection is
  // kept for the next exchange unless the head says the server closes it.
  Result<std::string> ReadBody(const HttpResponseHead& head, std::chrono::milliseconds timeout,
                               size_t max_bytes);
  // Reads the next line of the body of `head` (an event stream), without its "\n" or "\r\n":
  // true with the line, false at the end of the body. Each wait is at most `idle`.
  Result<bool> ReadBodyLine(const HttpResponseHead& head, std::chrono::milliseconds idle,
                            std::string& line);

  // Wakes a read blocked on another thread (it fails); the socket stays open until Close.
  void ShutDown();

 private:
  // Waits for the socket to be readable (or writable), at most `timeout`.
  Status Wait(short events, std::chrono::milliseconds timeout);
  // Appends what the socket has to buffer_, waiting at most `timeout`; false at the peer's close.
  Result<bool> Fill(std::chrono::milliseconds timeout);
  // Appends the next decoded bytes of the body of `head` to body_; false at the body's end.
  Result<bool> NextBodyBytes(const HttpResponseHead& head, std::chrono::milliseconds timeout);
  // One line of buffer_ (a chunk size, a trailer), without its line end.
  Result<std::string> ReadRawLine(std::chrono::milliseconds timeout);
  void ResetBody();

  const std::string host_;
  const uint16_t port_;
  std::atomic<int> fd_{-1};
  int exchanges_ = 0;
  std::string buffer_;  // received and not yet consumed
  // Decoding of the current response's body.
  std::string body_;           // decoded body bytes not yet handed out
  uint64_t remaining_ = 0;     // of the Content-Length, or of the current chunk
  bool in_chunk_ = false;      // remaining_ counts the current chunk's bytes
  bool body_done_ = false;     // the body's end was read
  bool body_started_ = false;  // the fields above are set up for the current response
};

}  // namespace petit::host

#endif  // PETIT_HOST_CLI_HTTP_CLIENT_H_
