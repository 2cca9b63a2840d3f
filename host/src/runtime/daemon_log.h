// DaemonLog: the daemon's log, one whole timestamped line per call on stderr (the journal under
// systemd), "2026-03-08T01:30:00.250Z petit: <text>".
//
// Threads: Line() may be called from any thread; lines never interleave.
#ifndef PETIT_HOST_RUNTIME_DAEMON_LOG_H_
#define PETIT_HOST_RUNTIME_DAEMON_LOG_H_

#include <mutex>
#include <string>
#include <string_view>

namespace petit::host {

class DaemonLog {
 public:
  void Line(std::string_view text);
  // Each line of `text` as a Line(), without a leading "petit: " (what RecoverOnStartup prints).
  void Lines(const std::string& text);

 private:
  std::mutex mu_;  // held while a line is written
};

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_DAEMON_LOG_H_
