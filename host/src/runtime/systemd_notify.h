// SystemdNotifier: tells systemd how a Type=notify service is doing (sd_notify(3)): READY=1 once
// recovery is done and the schedules are armed, RELOADING=1 then READY=1 around a reload,
// STOPPING=1 when a stop begins, and WATCHDOG=1 to feed WatchdogSec=.
//
// Outside systemd (no NOTIFY_SOCKET) every call does nothing, so `petit run` behaves the same in
// a terminal. The protocol is spoken here (a datagram to NOTIFY_SOCKET, a path or an abstract
// '@' address) rather than through libsystemd, which would map six more libraries into every
// petit command.
//
// Threads: every member may be called from any thread (each message is one datagram).
#ifndef PETIT_HOST_RUNTIME_SYSTEMD_NOTIFY_H_
#define PETIT_HOST_RUNTIME_SYSTEMD_NOTIFY_H_

#include <cstdint>

namespace petit::host {

class SystemdNotifier {
 public:
  // Reads WATCHDOG_USEC (and WATCHDOG_PID, which must name this process if set) once.
  SystemdNotifier();

  void Ready() const;
  // With MONOTONIC_USEC, as systemd asks of a reload notification.
  void Reloading() const;
  void Stopping() const;
  void FeedWatchdog() const;

  // How often to feed the watchdog: half of WATCHDOG_USEC; 0 when systemd watches nothing.
  int64_t watchdog_feed_interval_us() const { return watchdog_feed_interval_us_; }

 private:
  int64_t watchdog_feed_interval_us_ = 0;
};

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_SYSTEMD_NOTIFY_H_
