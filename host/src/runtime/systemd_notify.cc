#include "runtime/systemd_notify.h"

#include <systemd/sd-daemon.h>

#include <ctime>
#include <string>

namespace petit::host {
namespace {

// unset_environment 0: the daemon notifies many times, so NOTIFY_SOCKET must stay. Failures are
// ignored: a notification systemd did not get is no reason to stop scheduling.
void Notify(const char* state) { sd_notify(0, state); }

}  // namespace

SystemdNotifier::SystemdNotifier() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_feed_interval_us_ = static_cast<int64_t>(usec / 2);
  }
}

void SystemdNotifier::Ready() const { Notify("READY=1"); }

void SystemdNotifier::Reloading() const {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const uint64_t usec =
      static_cast<uint64_t>(now.tv_sec) * 1'000'000u + static_cast<uint64_t>(now.tv_nsec) / 1000u;
  const std::string state = "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec);
  Notify(state.c_str());
}

void SystemdNotifier::Stopping() const { Notify("STOPPING=1"); }

void SystemdNotifier::FeedWatchdog() const { Notify("WATCHDOG=1"); }

}  // namespace petit::host
