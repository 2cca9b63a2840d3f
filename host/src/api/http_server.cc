#include "api/http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <Poco/Exception.h>
#include <Poco/Net/SocketAddress.h>

#include "api/http_head.h"
#include "api/http_router.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <list>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>

namespace petit::host {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kListenBacklog = 1024;
constexpr int kMaxEvents = 256;
constexpr size_t kReadChunk = 16 * 1024;
// How often the reader looks for connections past their deadline, and how long a blocked write
// waits before it looks at the stop flag again.
constexpr milliseconds kTick{100};
// How long an answered connection that was still sending (a refused body) is drained before it is
// closed, so that the client reads the answer rather than a reset.
constexpr milliseconds kLingerLimit{2000};
// The niceness of the server's threads: under a flood of requests the scheduler's and the runs'
// threads get the processor first (the scheduler never waits on the API).
constexpr int kThreadNice = 5;

// The niceness of the calling thread, or 0 when it cannot be read.
int ThreadNice() {
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
  return errno == 0 ? nice : 0;
}

// Names the calling thread and sets its niceness to `nice` (Linux: niceness is per thread).
void SetUpThread(const std::string& name, int nice) {
  pthread_setname_np(pthread_self(), name.c_str());
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), nice);
}
std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
  }
}

// A request as the reader parsed it: what the router reads, and what the connection needs.
using Request = internal::ParsedRequest;

struct Connection {
  int fd = -1;
  std::string in;      // received, not yet consumed
  size_t scanned = 0;  // bytes of `in` already searched for the end of the head
  Clock::time_point deadline;
  bool reading = false;    // bytes of a request have arrived
  bool lingering = false;  // answered and half-closed: drained until the client closes
  bool continued = false;  // "100 Continue" sent for the current request
  // The current request once its head is parsed; its body follows head_bytes in `in`.
  std::optional<Request> request;
  size_t head_bytes = 0;
  size_t body_bytes = 0;

  ~Connection() {
    if (fd >= 0) close(fd);
  }
};

bool HasControl(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

}  // namespace

struct HttpServer::Impl {
  Impl(ApiConfig api_config, LogLine log_line)
      : config(std::move(api_config)), log(std::move(log_line)) {}

  ~Impl() {
    if (listen_fd >= 0) close(listen_fd);
    if (epoll_fd >= 0) close(epoll_fd);
    if (wake_fd >= 0) close(wake_fd);
  }

  const ApiConfig config;
  const LogLine log;
  // The server's threads' niceness: kThreadNice below that of the thread that made the server
  // (the daemon's), fixed here because setpriority takes an absolute value and a worker is
  // started by another server thread, already lowered.
  const int thread_nice = std::min(ThreadNice() + kThreadNice, 19);

  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  uint16_t bound_port = 0;
  bool ipv6 = false;
  std::unique_ptr<internal::HttpRouter> router;  // set by Start before any thread reads it

  std::atomic<bool> stopping{false};
  bool started = false;
  bool stopped = false;
  std::thread reader;
  // Started by the reader thread as requests need them, up to config.max_threads; joined by Stop
  // once the reader has ended.
  std::vector<std::thread> workers;

  // Connections the reader waits on; only the reader thread touches it.
  std::unordered_map<int, std::unique_ptr<Connection>> waiting;
  bool listen_paused = false;  // out of file descriptors: accept again at the next tick

  std::mutex mu;
  std::condition_variable work_ready;
  std::deque<std::unique_ptr<Connection>> queue;      // guarded by mu: whole requests to run
  std::vector<std::unique_ptr<Connection>> returned;  // guarded by mu: keep-alive, to the reader
  size_t idle_workers = 0;           // guarded by mu: workers waiting for a request
  std::atomic<size_t> in_flight{0};  // connections queued, running, or on their way back

  // The streams running, oldest first. At max_streams a new one asks the oldest to end (its
  // sink says stopping): a client that stopped reading would otherwise keep its slot until its
  // socket buffers filled, which a quiet daemon may never do, and lock every later watcher out;
  // a client that still reads reconnects and resumes from Last-Event-ID.
  struct OpenStream {
    std::atomic<bool> displaced{false};
  };
  std::mutex streams_mu;
  std::list<OpenStream*> open_streams;  // guarded by streams_mu

  // ---- the reader thread ----

  void Wake() {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd, &one, sizeof one);
  }

  void RunReader() {
    SetUpThread("petit-api-read", thread_nice);
    std::array<epoll_event, kMaxEvents> events{};
    Clock::time_point next_tick = Clock::now() + kTick;
    while (!stopping.load()) {
      const auto wait = std::chrono::duration_cast<milliseconds>(next_tick - Clock::now());
      const int n = epoll_wait(epoll_fd, events.data(), kMaxEvents,
                               static_cast<int>(std::max<int64_t>(wait.count(), 0)));
      for (int i = 0; i < n && !stopping.load(); ++i) {
        const int fd = events[i].data.fd;
        if (fd == listen_fd) {
          Accept();
        } else if (fd == wake_fd) {
          uint64_t count = 0;
          [[maybe_unused]] ssize_t r = read(wake_fd, &count, sizeof count);
          TakeReturned();
        } else {
          auto it = waiting.find(fd);
          if (it != waiting.end()) OnReadable(it->second.get(), events[i].events);
        }
      }
      if (Clock::now() >= next_tick) {
        Expire();
        next_tick = Clock::now() + kTick;
      }
    }
    // Idle connections are closed; whatever is queued the workers answer.
    waiting.clear();
    close(listen_fd);
    listen_fd = -1;
  }

  size_t OpenConnections() const { return waiting.size() + in_flight.load(); }

  void Accept() {
    for (;;) {
      const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Level-triggered: without a pause the reader would spin on the pending connection.
          if (!EvictOldest()) PauseListening();
          if (listen_paused) return;
          continue;
        }
        return;  // EAGAIN, or an error of the pending connection
      }
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto connection = std::make_unique<Connection>();
      connection->fd = fd;
      if (OpenConnections() >= config.max_connections && !EvictOldest()) {
        // Every connection has a request running: this one is told so.
        SendNow(*connection, ErrorResponse(503, "SERVICE_UNAVAILABLE",
                                           "too many connections (api.max_connections = " +
                                               std::to_string(config.max_connections) + ")"));
        continue;
      }
      connection->deadline = Clock::now() + config.timeout;
      epoll_event event{};
      event.events = EPOLLIN | EPOLLRDHUP;
      event.data.fd = fd;
      if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) continue;
      waiting.emplace(fd, std::move(connection));
    }
  }

  void PauseListening() {
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
    listen_paused = true;
  }

  // Closes the waiting connection whose request (or next request) is the most overdue; false
  // when none waits.
  bool EvictOldest() {
    auto oldest = waiting.end();
    for (auto it = waiting.begin(); it != waiting.end(); ++it) {
      if (oldest == waiting.end() || it->second->deadline < oldest->second->deadline) oldest = it;
    }
    if (oldest == waiting.end()) return false;
    waiting.erase(oldest);  // epoll forgets a closed descriptor
    return true;
  }

  void Expire() {
    if (listen_paused) {
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.fd = listen_fd;
      if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &event) == 0) listen_paused = false;
    }
    const Clock::time_point now = Clock::now();
    for (auto it = waiting.begin(); it != waiting.end();) {
      Connection& c = *it->second;
      if (now < c.deadline) {
        ++it;
        continue;
      }
      if (c.reading && !c.lingering) {
        SendNow(c, ErrorResponse(408, "REQUEST_TIMEOUT",
                                 "the request did not arrive within api.timeout"));
      }
      it = waiting.erase(it);
    }
  }

  void OnReadable(Connection* c, uint32_t events) {
    if ((events & (EPOLLERR | EPOLLHUP)) != 0 && (events & EPOLLIN) == 0) {
      waiting.erase(c->fd);
      return;
    }
    char buffer[kReadChunk];
    for (;;) {
      const ssize_t n = recv(c->fd, buffer, sizeof buffer, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) {  // the client closed, or the connection broke
        if (n == 0 && c->reading && !c->lingering && !c->in.empty()) {
          // It closed its side within a request (a Content-Length larger than the body it sent):
          // told, rather than hung up on, since it may still read.
          SendNow(*c, ErrorResponse(400, "BAD_REQUEST",
                                    c->request ? "the request ended before the " +
                                                     std::to_string(c->body_bytes) +
                                                     " bytes of body its Content-Length announced"
                                               : std::string("the request ended within its head")));
        }
        waiting.erase(c->fd);
        return;
      }
      if (c->lingering) continue;
      if (!c->reading) {
        c->reading = true;
        c->deadline = Clock::now() + config.timeout;
      }
      c->in.append(buffer, static_cast<size_t>(n));
      if (!Advance(c)) return;  // c was handed on or closed
    }
  }

  // Moves the connection on with what it has received: parses the head, refuses what is beyond
  // bounds, hands a whole request to the workers. False when `c` left the reader (dispatched,
  // or answered and closed).
  bool Advance(Connection* c) {
    if (!c->request) {
      // Blank lines between requests are allowed (RFC 9112, 2.2).
      size_t lead = 0;
      while (lead < c->in.size() && (c->in[lead] == '\r' || c->in[lead] == '\n')) ++lead;
      if (lead > 0) {
        c->in.erase(0, lead);
        c->scanned = 0;
      }
      if (c->in.empty()) return true;
      const size_t head_end = internal::FindHeadEnd(c->in, c->scanned);
      if (head_end == std::string::npos || head_end > kMaxHeadBytes) {
        c->scanned = c->in.size() > 2 ? c->in.size() - 2 : 0;
        if (c->in.size() <= kMaxHeadBytes) return true;
        return Refuse(c, ErrorResponse(431, "HEADERS_TOO_LARGE",
                                       "the request head exceeds " + std::to_string(kMaxHeadBytes) +
                                           " bytes"));
      }
      std::optional<ApiResponse> refusal = ParseHead(c, head_end);
      if (refusal) return Refuse(c, std::move(*refusal));
      // Bytes of a body sent without a length would be read as the next request, once this one,
      // taken as bodiless, had acted on defaults ({"dry_run": true} retrying for real).
      if (!c->request->length_given && c->request->head.method != "GET" &&
          c->request->head.method != "HEAD" &&
          internal::LooksLikeABody(std::string_view(c->in).substr(head_end))) {
        return Refuse(c, ErrorResponse(411, "LENGTH_REQUIRED",
                                       "the request carries a body without a Content-Length: "
                                       "send its length"));
      }
    }
    const size_t whole = c->head_bytes + c->body_bytes;
    if (c->in.size() < whole) {
      if (!c->continued && c->request->expect_continue) {
        c->continued = true;
        SendRaw(*c, "HTTP/1.1 100 Continue\r\n\r\n");
      }
      return true;
    }
    c->request->head.body.assign(c->in, c->head_bytes, c->body_bytes);
    c->in.erase(0, whole);
    Dispatch(c);
    return false;
  }

  // Parses the head into c->request; the refusal when it is malformed or announces a body
  // beyond bounds.
  std::optional<ApiResponse> ParseHead(Connection* c, size_t head_end) {
    internal::ParsedRequest request;
    if (std::optional<ApiResponse> refusal = internal::ParseRequestHead(
            std::string_view(c->in).substr(0, head_end), config.max_body_bytes, request)) {
      return refusal;
    }
    c->body_bytes = static_cast<size_t>(request.body_bytes);
    c->request = std::move(request);
    c->head_bytes = head_end;
    c->continued = false;
    return std::nullopt;
  }

  // Answers from the reader thread, without blocking: the answer is small enough for an empty
  // socket buffer. The connection is then drained for a while and closed.
  bool Refuse(Connection* c, const ApiResponse& response) {
    SendNow(*c, response);
    shutdown(c->fd, SHUT_WR);
    c->lingering = true;
    c->in.clear();
    c->request.reset();
    c->deadline = Clock::now() + std::min<milliseconds>(config.timeout, kLingerLimit);
    return false;
  }

  void SendNow(Connection& c, const ApiResponse& response) {
    SendRaw(c, Serialize(response, /*keep_alive=*/false, /*http10=*/false, /*head_only=*/false,
                         /*origin=*/""));
  }

  static void SendRaw(const Connection& c, std::string_view bytes) {
    [[maybe_unused]] ssize_t n =
        send(c.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }

  void Dispatch(Connection* c) {
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, nullptr);
    auto node = waiting.extract(c->fd);
    ++in_flight;
    bool grow = false;
    {
      std::lock_guard lock(mu);
      queue.push_back(std::move(node.mapped()));
      grow = idle_workers < queue.size() && workers.size() < config.max_threads;
    }
    if (grow) StartWorker();
    work_ready.notify_one();
  }

  void StartWorker() {
    const size_t index = workers.size();
    try {
      workers.emplace_back([this, index] { RunWorker(index); });
    } catch (const std::system_error& e) {
      // Out of threads for now: the running workers take the queue in turn.
      log("api: cannot start worker thread " + std::to_string(index) + ": " + e.what());
    }
  }

  void TakeReturned() {
    std::vector<std::unique_ptr<Connection>> back;
    {
      std::lock_guard lock(mu);
      back.swap(returned);
    }
    for (std::unique_ptr<Connection>& c : back) {
      --in_flight;
      c->deadline = Clock::now() + config.timeout;
      c->reading = false;
      c->scanned = 0;
      epoll_event event{};
      event.events = EPOLLIN | EPOLLRDHUP;
      event.data.fd = c->fd;
      if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c->fd, &event) != 0) continue;
      Connection* raw = c.get();
      waiting.emplace(raw->fd, std::move(c));
      // A pipelined request may already be whole.
      if (!raw->in.empty()) {
        raw->reading = true;
        Advance(raw);
      }
    }
  }

  // ---- the workers ----

  void RunWorker(size_t index) {
    SetUpThread("petit-api-" + std::to_string(index), thread_nice);
    for (;;) {
      std::unique_ptr<Connection> c;
      {
        std::unique_lock lock(mu);
        ++idle_workers;
        work_ready.wait(lock, [&] { return stopping.load() || !queue.empty(); });
        --idle_workers;
        if (queue.empty()) return;
        c = std::move(queue.front());
        queue.pop_front();
      }
      if (stopping.load()) {
        SendNow(*c, ErrorResponse(503, "SERVICE_UNAVAILABLE", "the server is stopping"));
        --in_flight;
        continue;
      }
      Serve(std::move(c));
    }
  }

  void Serve(std::unique_ptr<Connection> c) {
    Request& request = *c->request;
    const bool head_only = request.head.method == "HEAD";
    const std::string origin = router->AllowedOrigin(request.head.origin);
    ApiResponse response = router->Respond(request.head, origin);
    if (response.stream && !head_only) {
      Stream(*c, request, response, origin);
      --in_flight;
      return;
    }
    const bool keep_alive = request.keep_alive && !stopping.load();
    bool sent = false;
    if (!head_only && response.body.size() > kCopiedBodyLimit) {
      // A large body (/metrics: megabytes) is sent from where it is rather than copied behind
      // the headers; MSG_MORE keeps the headers from leaving in a packet of their own.
      sent = WriteAll(c->fd,
                      Serialize(response, keep_alive, request.http10, /*head_only=*/true, origin),
                      MSG_MORE) &&
             WriteAll(c->fd, response.body);
    } else {
      sent = WriteAll(c->fd, Serialize(response, keep_alive, request.http10, head_only, origin));
    }
    c->request.reset();
    if (!sent || !keep_alive) {
      --in_flight;
      return;  // closes it
    }
    {
      std::lock_guard lock(mu);
      returned.push_back(std::move(c));
    }
    Wake();
  }

  // Whether the handler gave a header of this name (names compare without case).
  static bool SetsHeader(const ApiResponse& response, std::string_view name) {
    return std::any_of(response.headers.begin(), response.headers.end(), [&](const auto& header) {
      return internal::EqualsIgnoringCase(header.first, name);
    });
  }

  // What every stream needs, each field once: not cached, and not buffered by nginx in front
  // (it holds responses back unless told); a field its handler gave instead replaces the default.
  static std::string StreamFields(const ApiResponse& response) {
    std::string fields;
    if (!SetsHeader(response, "Cache-Control")) fields += "Cache-Control: no-cache\r\n";
    if (!SetsHeader(response, "X-Accel-Buffering")) fields += "X-Accel-Buffering: no\r\n";
    return fields;
  }

  // Bodies up to this size are copied behind the headers and sent in one call.
  static constexpr size_t kCopiedBodyLimit = 64 * 1024;

  // The whole response; headers of a handler's that could split it are dropped.
  static std::string Serialize(const ApiResponse& response, bool keep_alive, bool http10,
                               bool head_only, std::string_view origin) {
    std::string out;
    out.reserve(192 + response.body.size());
    out += "HTTP/1.1 ";
    out += std::to_string(response.status);
    out += ' ';
    out += ReasonPhrase(response.status);
    out += "\r\n";
    const bool has_body = response.status != 204 && response.status != 304;
    if (has_body) {
      out += "Content-Type: ";
      out += response.content_type;
      out += "\r\nContent-Length: ";
      out += std::to_string(response.body.size());
      out += "\r\n";
    }
    // A stream's fields for HEAD of it as for GET; a handler's Cache-Control replaces the default.
    if (response.stream) {
      out += StreamFields(response);
    } else if (!SetsHeader(response, "Cache-Control")) {
      out += "Cache-Control: no-store\r\n";
    }
    out += "X-Content-Type-Options: nosniff\r\n";
    for (const auto& [name, value] : response.headers) {
      if (HasControl(name) || HasControl(value)) continue;
      out += name;
      out += ": ";
      out += value;
      out += "\r\n";
    }
    if (!origin.empty()) {
      out += "Access-Control-Allow-Origin: ";
      out += origin;
      out += "\r\nVary: Origin\r\n";
    }
    if (!keep_alive) {
      out += "Connection: close\r\n";
    } else if (http10) {
      out += "Connection: keep-alive\r\n";
    }
    out += "\r\n";
    if (has_body && !head_only) out += response.body;
    return out;
  }

  // Sends all of `bytes` within api.timeout (`flags` added to send's); false when the client is
  // gone, too slow, or the server stops while the client's buffer is full.
  bool WriteAll(int fd, std::string_view bytes, int flags = 0) const {
    const Clock::time_point deadline = Clock::now() + config.timeout;
    while (!bytes.empty()) {
      const ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | flags);
      if (n > 0) {
        bytes.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
      if (stopping.load()) return false;
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      pollfd wait{fd, POLLOUT, 0};
      poll(&wait, 1, static_cast<int>(std::min(left, kTick).count()));
    }
    return true;
  }

  class SocketSink : public StreamSink {
   public:
    SocketSink(const Impl& server, int fd, bool chunked)
        : server_(server), fd_(fd), chunked_(chunked) {}

    bool Write(std::string_view bytes) override {
      if (gone_) return false;
      pollfd hangup{fd_, POLLRDHUP, 0};
      if (poll(&hangup, 1, 0) > 0 && (hangup.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
        gone_ = true;
        return false;
      }
      if (bytes.empty()) return true;  // an empty chunk would end the stream
      if (!chunked_) return Send(bytes);
      char size[20];
      const int length = std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
      std::string frame(size, static_cast<size_t>(length));
      frame.append(bytes);
      frame += "\r\n";
      return Send(frame);
    }

    bool stopping() const override {
      return server_.stopping.load() ||
             (stream_ != nullptr && stream_->displaced.load(std::memory_order_relaxed));
    }
    void set_stream(const OpenStream* stream) { stream_ = stream; }

    void Finish() {
      if (!gone_ && chunked_) Send("0\r\n\r\n");
    }

   private:
    bool Send(std::string_view bytes) {
      if (!server_.WriteAll(fd_, bytes)) gone_ = true;
      return !gone_;
    }

    const Impl& server_;
    const int fd_;
    const bool chunked_;
    bool gone_ = false;
    const OpenStream* stream_ = nullptr;
  };

  // Takes a stream slot for `stream`, asking the oldest running stream to end when all are
  // taken; false when even that cannot make room (as many are already ending).
  bool OpenStreamSlot(OpenStream& stream) {
    std::lock_guard lock(streams_mu);
    if (open_streams.size() >= config.max_streams) {
      size_t ending = 0;
      OpenStream* oldest = nullptr;
      for (OpenStream* open : open_streams) {
        if (open->displaced.load(std::memory_order_relaxed)) {
          ++ending;
        } else if (oldest == nullptr) {
          oldest = open;
        }
      }
      // Those asked to end leave within a stop check; past as many again, the newcomer is refused.
      if (oldest == nullptr || ending >= config.max_streams) return false;
      oldest->displaced.store(true, std::memory_order_relaxed);
    }
    open_streams.push_back(&stream);
    return true;
  }

  void CloseStreamSlot(OpenStream& stream) {
    std::lock_guard lock(streams_mu);
    open_streams.remove(&stream);
  }

  // Sends a streaming response; the connection ends with it.
  void Stream(Connection& c, const Request& request, const ApiResponse& response,
              const std::string& origin) {
    OpenStream stream;
    if (config.max_streams == 0 || !OpenStreamSlot(stream)) {
      WriteAll(c.fd, Serialize(ErrorResponse(503, "SERVICE_UNAVAILABLE",
                                             "too many streams at once (api.max_streams = " +
                                                 std::to_string(config.max_streams) + ")"),
                               false, request.http10, false, origin));
      return;
    }
    const bool chunked = !request.http10;
    std::string head = "HTTP/1.1 " + std::to_string(response.status) + " " +
                       std::string(ReasonPhrase(response.status)) +
                       "\r\nContent-Type: " + response.content_type +
                       "\r\nX-Content-Type-Options: nosniff\r\n" + StreamFields(response);
    for (const auto& [name, value] : response.headers) {
      if (!HasControl(name) && !HasControl(value)) head += name + ": " + value + "\r\n";
    }
    if (!origin.empty()) head += "Access-Control-Allow-Origin: " + origin + "\r\nVary: Origin\r\n";
    if (chunked) head += "Transfer-Encoding: chunked\r\n";
    head += "Connection: close\r\n\r\n";
    if (WriteAll(c.fd, head)) {
      SocketSink sink(*this, c.fd, chunked);
      sink.set_stream(&stream);
      try {
        response.stream(sink);
      } catch (const std::exception& e) {
        log("api: " + request.head.method + " " + request.head.target +
            ": the stream failed: " + e.what());
      } catch (...) {
        log("api: " + request.head.method + " " + request.head.target + ": the stream failed");
      }
      sink.Finish();
    }
    CloseStreamSlot(stream);
  }
};

HttpServer::HttpServer(ApiConfig config, LogLine log)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(log))) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Listen() {
  Impl& s = *impl_;
  std::string host = s.config.bind;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string where = s.config.bind + ":" + std::to_string(s.config.port);
  Poco::Net::SocketAddress address;
  try {
    address = Poco::Net::SocketAddress(host, s.config.port);
  } catch (const Poco::Exception& e) {
    return Unavailable("cannot listen on " + where + ": " + e.displayText());
  }
  const int fd = socket(address.af(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable("cannot listen on " + where + ": " + std::strerror(errno));
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, address.addr(), address.length()) != 0 || listen(fd, kListenBacklog) != 0) {
    const int error = errno;
    close(fd);
    return Unavailable("cannot listen on " + where + ": " + std::strerror(error));
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  s.ipv6 = bound.ss_family == AF_INET6;
  s.bound_port = ntohs(s.ipv6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                              : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  s.listen_fd = fd;
  return Status::Ok();
}

uint16_t HttpServer::port() const { return impl_->bound_port; }

std::string HttpServer::url() const {
  std::string host = impl_->config.bind;
  if (impl_->ipv6 && !host.starts_with('[')) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(impl_->bound_port) + impl_->config.path_prefix;
}

void HttpServer::Start(std::vector<Route> routes) {
  Impl& s = *impl_;
  if (s.started || s.listen_fd < 0) return;
  s.router = std::make_unique<internal::HttpRouter>(s.config, std::move(routes), s.log);
  s.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  s.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  for (const int fd : {s.listen_fd, s.wake_fd}) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, fd, &event);
  }
  s.started = true;
  s.reader = std::thread([&s] { s.RunReader(); });
}

void HttpServer::Stop() {
  Impl& s = *impl_;
  if (s.stopped) return;
  s.stopped = true;
  if (!s.started) {
    if (s.listen_fd >= 0) close(s.listen_fd);
    s.listen_fd = -1;
    return;
  }
  s.stopping = true;
  s.Wake();
  s.reader.join();
  { std::lock_guard lock(s.mu); }
  s.work_ready.notify_all();
  for (std::thread& worker : s.workers) worker.join();
  std::lock_guard lock(s.mu);
  s.returned.clear();
}

}  // namespace petit::host
