#include "runtime/systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>

namespace petit::host {
namespace {

// sd_notify(3)'s protocol, without linking libsystemd (which maps six more libraries into every
// petit command): one datagram with the state to the AF_UNIX socket named by NOTIFY_SOCKET, an
// absolute path or, with a leading '@', an abstract address. NOTIFY_SOCKET stays set, since the
// daemon notifies many times. Failures are ignored: a notification systemd did not get is no
// reason to stop scheduling.
void Notify(std::string_view state) {
  const char* socket_path = std::getenv("NOTIFY_SOCKET");
  if (socket_path == nullptr) return;
  const std::string_view address(socket_path);
  sockaddr_un target{};
  target.sun_family = AF_UNIX;
  if (address.size() < 2 || address.size() >= sizeof(target.sun_path) ||
      (address.front() != '/' && address.front() != '@')) {
    return;  // unset, too long, or a kind of address (vsock) petit does not speak
  }
  std::memcpy(target.sun_path, address.data(), address.size());
  socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
  if (address.front() == '@') {
    target.sun_path[0] = '\0';  // abstract: the name is exactly the bytes after the NUL
  } else {
    length += 1;  // a path counts its terminating NUL
  }
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  ssize_t sent;
  do {
    sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&target), length);
  } while (sent < 0 && errno == EINTR);
  ::close(fd);
}

// An environment variable as an unsigned integer; nullopt-like 0 when unset or malformed.
uint64_t EnvUnsigned(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr) return 0;
  const std::string_view value(text);
  uint64_t number = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
  return error == std::errc() && end == value.data() + value.size() ? number : 0;
}

}  // namespace

SystemdNotifier::SystemdNotifier() {
  // sd_watchdog_enabled(3): WATCHDOG_USEC, for this process unless WATCHDOG_PID names another.
  const uint64_t usec = EnvUnsigned("WATCHDOG_USEC");
  if (std::getenv("WATCHDOG_PID") != nullptr &&
      EnvUnsigned("WATCHDOG_PID") != static_cast<uint64_t>(::getpid())) {
    return;
  }
  if (usec > 0) watchdog_feed_interval_us_ = static_cast<int64_t>(usec / 2);
}

void SystemdNotifier::Ready() const { Notify("READY=1"); }

void SystemdNotifier::Reloading() const {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const uint64_t usec =
      static_cast<uint64_t>(now.tv_sec) * 1'000'000u + static_cast<uint64_t>(now.tv_nsec) / 1000u;
  Notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void SystemdNotifier::Stopping() const { Notify("STOPPING=1"); }

void SystemdNotifier::FeedWatchdog() const { Notify("WATCHDOG=1"); }

}  // namespace petit::host
