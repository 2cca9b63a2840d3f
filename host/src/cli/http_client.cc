#include "cli/http_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>
#include <utility>

namespace petit::host {
namespace {

// A response head larger than this is not from a Petit daemon (its heads are a few hundred bytes).
constexpr size_t kMaxHeadBytes = 64 * 1024;
constexpr size_t kReadChunk = 16 * 1024;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

bool ContainsToken(std::string_view list, std::string_view token) {
  const std::string lower = Lower(list);
  size_t start = 0;
  while (start <= lower.size()) {
    size_t comma = lower.find(',', start);
    if (comma == std::string::npos) comma = lower.size();
    if (Trim(std::string_view(lower).substr(start, comma - start)) == token) return true;
    start = comma + 1;
  }
  return false;
}

std::string Errno(int error) { return std::strerror(error); }

int Millis(std::chrono::milliseconds timeout) {
  return static_cast<int>(std::clamp<int64_t>(timeout.count(), 0, 24 * 3600 * 1000));
}

}  // namespace

HttpUrlParse ParseHttpUrl(std::string_view text) {
  HttpUrlParse parsed;
  auto refuse = [&parsed](std::string why) {
    parsed.refusal = std::move(why);
    return parsed;
  };
  const size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return refuse("is not an http URL");
  const std::string scheme = Lower(text.substr(0, scheme_end));
  if (scheme == "https") {
    return refuse("uses https, which the CLI does not speak: give the daemon's own http address");
  }
  if (scheme != "http") return refuse("is not an http URL");
  std::string_view rest = text.substr(scheme_end + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view after =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos ||
      after.find_first_of("?#") != std::string_view::npos) {
    return refuse("has parts the CLI does not use (user, query or fragment)");
  }
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return refuse("is not a URL: an unclosed '['");
    host = authority.substr(1, close - 1);
    std::string_view tail = authority.substr(close + 1);
    if (!tail.empty()) {
      if (!tail.starts_with(':')) return refuse("is not a URL: text after ']'");
      port = tail.substr(1);
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return refuse("names no host");
  for (const char c : host) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isspace(u) != 0 || std::iscntrl(u) != 0 || c == '/' || c == '\\') {
      return refuse("is not a URL: its host has a '" + std::string(1, c) + "'");
    }
  }
  parsed.url.host = Lower(host);
  if (!port.empty()) {
    uint32_t number = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (error != std::errc() || end != port.data() + port.size() || number > 65535) {
      return refuse("is not a URL: bad port '" + std::string(port) + "'");
    }
    if (number == 0) return refuse("has port 0");
    parsed.url.port = static_cast<uint16_t>(number);
  }
  std::string path(after);
  while (!path.empty() && path.back() == '/') path.pop_back();
  parsed.url.prefix = std::move(path);
  return parsed;
}

std::string UrlHost(const std::string& host) {
  if (host.find(':') != std::string::npos) return "[" + host + "]";
  return host;
}

std::string PercentEncodeSegment(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (const char c : segment) {
    const auto u = static_cast<unsigned char>(c);
    const bool plain = std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_' || c == '~' ||
                       c == '!' || c == '$' || c == '\'' || c == '(' || c == ')' || c == '*' ||
                       c == ',' || c == ':' || c == '@';
    if (plain) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

std::string_view HttpResponseHead::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

HttpConnection::HttpConnection(std::string host, uint16_t port)
    : host_(std::move(host)), port_(port) {}

HttpConnection::~HttpConnection() { Close(); }

void HttpConnection::Close() {
  const int fd = fd_.exchange(-1);
  if (fd >= 0) ::close(fd);
  buffer_.clear();
  exchanges_ = 0;
  ResetBody();
}

void HttpConnection::ShutDown() {
  const int fd = fd_.load();
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

void HttpConnection::ResetBody() {
  body_.clear();
  remaining_ = 0;
  in_chunk_ = false;
  body_done_ = false;
  body_started_ = false;
}

Status HttpConnection::Connect(std::chrono::milliseconds timeout) {
  if (connected()) return Status::Ok();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* addresses = nullptr;
  const std::string port = std::to_string(port_);
  if (const int error = ::getaddrinfo(host_.c_str(), port.c_str(), &hints, &addresses);
      error != 0) {
    return Unavailable("cannot resolve " + host_ + ": " + ::gai_strerror(error));
  }
  std::string last_error = "no address";
  for (const addrinfo* a = addresses; a != nullptr; a = a->ai_next) {
    const int fd =
        ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) {
      last_error = Errno(errno);
      continue;
    }
    int error = ::connect(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
    if (error == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      const int ready = ::poll(&p, 1, Millis(timeout));
      socklen_t length = sizeof error;
      if (ready == 0) {
        error = ETIMEDOUT;
      } else if (ready < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
        error = errno;
      }
    }
    if (error != 0) {
      last_error = Errno(error);
      ::close(fd);
      continue;
    }
    // Requests leave in one write; waiting for an ACK before the next would only add delay.
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fd_.store(fd);
    ::freeaddrinfo(addresses);
    return Status::Ok();
  }
  ::freeaddrinfo(addresses);
  return Unavailable("cannot connect to " + UrlHost(host_) + ":" + port + ": " + last_error);
}

Status HttpConnection::Wait(short events, std::chrono::milliseconds timeout) {
  pollfd p{fd_.load(), events, 0};
  while (true) {
    const int ready = ::poll(&p, 1, Millis(timeout));
    if (ready > 0) return Status::Ok();
    if (ready == 0) {
      return Unavailable("no answer within " + std::to_string(timeout.count()) + " ms");
    }
    if (errno != EINTR) return Unavailable(Errno(errno));
  }
}

Status HttpConnection::Send(std::string_view bytes, std::chrono::milliseconds timeout) {
  if (!connected()) return Unavailable("not connected");
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd_.load(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent > 0) {
      bytes.remove_prefix(static_cast<size_t>(sent));
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (Status ready = Wait(POLLOUT, timeout); !ready.ok()) return ready;
      continue;
    }
    return Unavailable(sent == 0 ? "the connection closed" : Errno(errno));
  }
  return Status::Ok();
}

Result<bool> HttpConnection::Fill(std::chrono::milliseconds timeout) {
  char chunk[kReadChunk];
  while (true) {
    const int fd = fd_.load();
    if (fd < 0) return Unavailable("not connected");
    const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
    if (got > 0) {
      buffer_.append(chunk, static_cast<size_t>(got));
      return true;
    }
    if (got == 0) return false;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return Unavailable(Errno(errno));
    if (Status ready = Wait(POLLIN, timeout); !ready.ok()) return ready;
  }
}

Result<HttpResponseHead> HttpConnection::ReadHead(std::chrono::milliseconds timeout,
                                                  bool& received_nothing) {
  received_nothing = false;
  ResetBody();
  while (true) {
    size_t end = std::string::npos;
    size_t separator = 0;
    while (true) {
      const size_t crlf = buffer_.find("\r\n\r\n");
      const size_t lf = buffer_.find("\n\n");
      if (crlf != std::string::npos && (lf == std::string::npos || crlf < lf)) {
        end = crlf;
        separator = 4;
      } else if (lf != std::string::npos) {
        end = lf;
        separator = 2;
      }
      if (end != std::string::npos) break;
      if (buffer_.size() > kMaxHeadBytes) return Unavailable("the answer's head is too long");
      const bool was_empty = buffer_.empty();
      Result<bool> more = Fill(timeout);
      if (!more.ok()) {
        received_nothing = was_empty;
        return more.status();
      }
      if (!*more) {
        received_nothing = was_empty;
        return Unavailable(was_empty ? "the connection closed without an answer"
                                     : "the connection closed within the answer's head");
      }
    }
    const std::string head = buffer_.substr(0, end);
    buffer_.erase(0, end + separator);
    HttpResponseHead parsed;
    size_t line_end = head.find('\n');
    const std::string_view status_line = Trim(std::string_view(head).substr(0, line_end));
    // "HTTP/1.1 200 OK"
    if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 || status_line[8] != ' ') {
      return Unavailable("the answer is not HTTP/1.x");
    }
    const bool http10 = status_line[7] == '0';
    int status = 0;
    const auto [status_end, status_error] =
        std::from_chars(status_line.data() + 9, status_line.data() + 12, status);
    if (status_error != std::errc() || status_end != status_line.data() + 12 || status < 100) {
      return Unavailable("the answer has no valid status");
    }
    parsed.status = status;
    while (line_end != std::string::npos) {
      const size_t start = line_end + 1;
      line_end = head.find('\n', start);
      const std::string_view line = Trim(std::string_view(head).substr(
          start, line_end == std::string::npos ? std::string::npos : line_end - start));
      if (line.empty()) continue;
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      parsed.headers.emplace_back(Lower(Trim(line.substr(0, colon))),
                                  std::string(Trim(line.substr(colon + 1))));
    }
    if (status == 100) continue;  // the final answer follows
    const std::string_view connection = parsed.Header("connection");
    parsed.closes =
        http10 ? !ContainsToken(connection, "keep-alive") : ContainsToken(connection, "close");
    if (ContainsToken(parsed.Header("transfer-encoding"), "chunked")) {
      parsed.chunked = true;
    } else if (std::string_view length = parsed.Header("content-length"); !length.empty()) {
      const auto [length_end, length_error] =
          std::from_chars(length.data(), length.data() + length.size(), parsed.content_length);
      if (length_error != std::errc() || length_end != length.data() + length.size()) {
        return Unavailable("the answer's Content-Length is not a number");
      }
      parsed.has_length = true;
    } else if (status == 204 || status == 304 || status < 200) {
      parsed.has_length = true;  // no body
    } else {
      parsed.closes = true;  // the body ends with the connection
    }
    return parsed;
  }
}

Result<std::string> HttpConnection::ReadRawLine(std::chrono::milliseconds timeout) {
  while (true) {
    const size_t end = buffer_.find('\n');
    if (end != std::string::npos) {
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (buffer_.size() > kMaxHeadBytes) return Unavailable("a chunk's size line is too long");
    Result<bool> more = Fill(timeout);
    if (!more.ok()) return more.status();
    if (!*more) return Unavailable("the connection closed within the answer's body");
  }
}

Result<bool> HttpConnection::NextBodyBytes(const HttpResponseHead& head,
                                           std::chrono::milliseconds timeout) {
  if (!body_started_) {
    body_started_ = true;
    remaining_ = head.has_length ? head.content_length : 0;
    body_done_ = head.has_length && head.content_length == 0;
  }
  if (body_done_) return false;
  if (head.chunked && !in_chunk_) {
    Result<std::string> size_line = ReadRawLine(timeout);
    if (!size_line.ok()) return size_line.status();
    const std::string_view digits =
        Trim(std::string_view(*size_line).substr(0, size_line->find(';')));
    uint64_t size = 0;
    const auto [end, error] =
        std::from_chars(digits.data(), digits.data() + digits.size(), size, 16);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
      return Unavailable("a chunk of the answer has no valid size");
    }
    if (size == 0) {
      while (true) {  // trailers, up to the empty line
        Result<std::string> trailer = ReadRawLine(timeout);
        if (!trailer.ok()) return trailer.status();
        if (trailer->empty()) break;
      }
      body_done_ = true;
      return false;
    }
    remaining_ = size;
    in_chunk_ = true;
  }
  if (buffer_.empty()) {
    Result<bool> more = Fill(timeout);
    if (!more.ok()) return more.status();
    if (!*more) {
      if (head.chunked || head.has_length) {
        return Unavailable("the connection closed within the answer's body");
      }
      body_done_ = true;
      return false;
    }
  }
  if (!head.chunked && !head.has_length) {
    body_ += buffer_;
    buffer_.clear();
    return true;
  }
  const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, buffer_.size()));
  body_.append(buffer_, 0, take);
  buffer_.erase(0, take);
  remaining_ -= take;
  if (remaining_ == 0) {
    if (head.chunked) {
      Result<std::string> chunk_end = ReadRawLine(timeout);
      if (!chunk_end.ok()) return chunk_end.status();
      in_chunk_ = false;
    } else {
      body_done_ = true;
    }
  }
  return true;
}

Result<std::string> HttpConnection::ReadBody(const HttpResponseHead& head,
                                             std::chrono::milliseconds timeout, size_t max_bytes) {
  while (true) {
    Result<bool> more = NextBodyBytes(head, timeout);
    if (!more.ok()) {
      Close();
      return more.status();
    }
    if (body_.size() > max_bytes) {
      Close();
      return ResourceExhausted("more than " + std::to_string(max_bytes) + " bytes");
    }
    if (!*more) break;
  }
  std::string body = std::move(body_);
  ResetBody();
  ++exchanges_;
  if (head.closes) Close();
  return body;
}

Result<bool> HttpConnection::ReadBodyLine(const HttpResponseHead& head,
                                          std::chrono::milliseconds idle, std::string& line) {
  while (true) {
    const size_t end = body_.find('\n');
    if (end != std::string::npos) {
      line.assign(body_, 0, end);
      body_.erase(0, end + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return true;
    }
    Result<bool> more = NextBodyBytes(head, idle);
    if (!more.ok()) return more.status();
    if (!*more) {
      if (body_.empty()) return false;
      line = std::move(body_);
      body_.clear();
      return true;
    }
  }
}

}  // namespace petit::host
