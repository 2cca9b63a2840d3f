// A blocking HTTP/1.1 client on a raw socket, for tests of the API server: it sends exactly the
// bytes a test writes (malformed heads, lies in Content-Length) and reads one response with a
// deadline. Header-only; GoogleTest reports failures.
#ifndef PETIT_TESTS_HOST_API_RAW_HTTP_CLIENT_H_
#define PETIT_TESTS_HOST_API_RAW_HTTP_CLIENT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace petit::testing {

struct HttpResponse {
  int status = 0;  // 0: no (whole) response before the deadline or the end of the connection
  std::map<std::string, std::string> headers;  // names in lower case
  std::string head;                            // the head as received, without its blank line
  std::string body;

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class RawHttpClient {
 public:
  // Generous, for a loaded machine; a passing test never waits for it.
  static constexpr auto kPatience = std::chrono::seconds(20);

  explicit RawHttpClient(uint16_t port, const char* address = "127.0.0.1") {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    inet_pton(AF_INET, address, &to.sin_addr);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
      ADD_FAILURE() << "connect to port " << port << ": " << std::strerror(errno);
      close(fd_);
      fd_ = -1;
    }
  }
  ~RawHttpClient() {
    if (fd_ >= 0) close(fd_);
  }
  RawHttpClient(const RawHttpClient&) = delete;
  RawHttpClient& operator=(const RawHttpClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  // False when the server closed or reset the connection first.
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // "METHOD target HTTP/1.1" with Host (localhost unless given), the extra header lines ("Name:
  // value") and the body (with its Content-Length when not empty), then the response.
  HttpResponse Request(const std::string& method, const std::string& target,
                       const std::vector<std::string>& headers = {}, const std::string& body = "") {
    std::string request = method + " " + target + " HTTP/1.1\r\n";
    bool has_host = false;
    for (const std::string& header : headers) {
      request += header + "\r\n";
      has_host |= header.starts_with("Host:");
    }
    if (!has_host) request += "Host: localhost\r\n";
    if (!body.empty()) request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    request += "\r\n" + body;
    if (!Send(request)) return {};
    return Read(method == "HEAD");
  }

  // One response: its head, then a Content-Length body, a chunked body, or (Connection: close
  // without either) the bytes until the end of the connection.
  HttpResponse Read(bool head_only = false) {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    HttpResponse response;
    size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadSome(deadline)) return {};
    }
    const std::string head = buffer_.substr(0, head_end);
    response.head = head;
    buffer_.erase(0, head_end + 4);
    size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.")) return {};
    response.status = std::stoi(status_line.substr(9, 3));
    while (line_end != std::string::npos) {
      const size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end - start);
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      response.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    if (response.status == 100) return Read(head_only);
    if (head_only || response.status == 204) return response;
    if (!response.Header("content-length").empty()) {
      const size_t length = std::stoul(response.Header("content-length"));
      while (buffer_.size() < length) {
        if (!ReadSome(deadline)) return {};
      }
      response.body = buffer_.substr(0, length);
      buffer_.erase(0, length);
      return response;
    }
    if (response.Header("transfer-encoding") == "chunked") {
      for (;;) {
        size_t size_end;
        while ((size_end = buffer_.find("\r\n")) == std::string::npos) {
          if (!ReadSome(deadline)) return response;  // a stream cut short: what came
        }
        const size_t size = std::stoul(buffer_.substr(0, size_end), nullptr, 16);
        while (buffer_.size() < size_end + 2 + size + 2) {
          if (!ReadSome(deadline)) return response;
        }
        response.body += buffer_.substr(size_end + 2, size);
        buffer_.erase(0, size_end + 2 + size + 2);
        if (size == 0) return response;
      }
    }
    while (ReadSome(deadline)) {
    }
    response.body = std::move(buffer_);
    buffer_.clear();
    return response;
  }

  // True once the server has closed the connection (end of file or reset), read within
  // `patience`; bytes that arrive meanwhile are dropped.
  bool ClosedWithin(std::chrono::milliseconds patience) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (ReadSome(deadline)) buffer_.clear();
    return closed_;
  }

 private:
  // False at the end of the connection, on error, or at the deadline.
  bool ReadSome(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || fd_ < 0) return false;
    pollfd wait{fd_, POLLIN, 0};
    if (poll(&wait, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[16384];
    const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool closed_ = false;
  std::string buffer_;
};

}  // namespace petit::testing

#endif  // PETIT_TESTS_HOST_API_RAW_HTTP_CLIENT_H_
