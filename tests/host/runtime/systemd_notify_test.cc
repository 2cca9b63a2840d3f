// SystemdNotifier speaks sd_notify's protocol itself: one datagram per state to NOTIFY_SOCKET, a
// path or an abstract '@' address; WATCHDOG_USEC (and WATCHDOG_PID) as sd_watchdog_enabled reads
// them. Each test sets the environment of its own process (one test per process under ctest).
#include "runtime/systemd_notify.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <string>

#include "host/scratch_dir.h"

namespace petit::host {
namespace {

using ::testing::StartsWith;

// A datagram socket standing in for systemd's; `address` as NOTIFY_SOCKET would name it.
class FakeSystemd {
 public:
  explicit FakeSystemd(const std::string& address) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un bound{};
    bound.sun_family = AF_UNIX;
    std::memcpy(bound.sun_path, address.data(), address.size());
    auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
    if (address.front() == '@') {
      bound.sun_path[0] = '\0';
    } else {
      length += 1;
    }
    bound_ = ::bind(fd_, reinterpret_cast<const sockaddr*>(&bound), length) == 0;
    ::setenv("NOTIFY_SOCKET", address.c_str(), 1);
  }
  ~FakeSystemd() { ::close(fd_); }
  FakeSystemd(const FakeSystemd&) = delete;
  FakeSystemd& operator=(const FakeSystemd&) = delete;

  bool bound() const { return bound_; }

  // The next datagram; empty when none came (the sender sends before returning, so none waits).
  std::string Next() {
    pollfd ready{fd_, POLLIN, 0};
    if (::poll(&ready, 1, 0) != 1) return "";
    char buffer[512];
    const ssize_t got = ::recv(fd_, buffer, sizeof(buffer), 0);
    return got > 0 ? std::string(buffer, static_cast<size_t>(got)) : "";
  }

 private:
  int fd_ = -1;
  bool bound_ = false;
};

void ExpectEveryState(FakeSystemd& systemd) {
  ASSERT_TRUE(systemd.bound());
  const SystemdNotifier notifier;
  notifier.Ready();
  EXPECT_EQ(systemd.Next(), "READY=1");
  notifier.Reloading();
  EXPECT_THAT(systemd.Next(), StartsWith("RELOADING=1\nMONOTONIC_USEC="));
  notifier.FeedWatchdog();
  EXPECT_EQ(systemd.Next(), "WATCHDOG=1");
  notifier.Stopping();
  EXPECT_EQ(systemd.Next(), "STOPPING=1");
  EXPECT_EQ(systemd.Next(), "");
  // Still set: the daemon notifies again later.
  EXPECT_NE(::getenv("NOTIFY_SOCKET"), nullptr);
}

TEST(SystemdNotifierTest, SendsEachStateToAPathSocket) {
  testing::ScratchDir dir("notify");
  FakeSystemd systemd((dir.path() / "notify.sock").string());
  ExpectEveryState(systemd);
}

TEST(SystemdNotifierTest, SendsEachStateToAnAbstractSocket) {
  FakeSystemd systemd("@petit-notify-test-" + std::to_string(::getpid()));
  ExpectEveryState(systemd);
}

TEST(SystemdNotifierTest, WithoutAUsableNotifySocketNothingIsSentAndNothingFails) {
  for (const char* value : {"", "relative/path", "vsock:2:1234", "@"}) {
    ::setenv("NOTIFY_SOCKET", value, 1);
    const SystemdNotifier notifier;
    notifier.Ready();
    notifier.Stopping();
  }
  ::unsetenv("NOTIFY_SOCKET");
  SystemdNotifier().Ready();
}

TEST(SystemdNotifierTest, TheWatchdogIsFedAtHalfItsIntervalWhenItWatchesThisProcess) {
  ::unsetenv("WATCHDOG_PID");
  ::unsetenv("WATCHDOG_USEC");
  EXPECT_EQ(SystemdNotifier().watchdog_feed_interval_us(), 0);
  ::setenv("WATCHDOG_USEC", "200000", 1);
  EXPECT_EQ(SystemdNotifier().watchdog_feed_interval_us(), 100000);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  EXPECT_EQ(SystemdNotifier().watchdog_feed_interval_us(), 100000);
  // Another process's watchdog, or values that are not numbers: nothing to feed.
  ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
  EXPECT_EQ(SystemdNotifier().watchdog_feed_interval_us(), 0);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  for (const char* usec : {"", "0", "-5", "12x", "soon"}) {
    ::setenv("WATCHDOG_USEC", usec, 1);
    EXPECT_EQ(SystemdNotifier().watchdog_feed_interval_us(), 0) << usec;
  }
}

}  // namespace
}  // namespace petit::host
