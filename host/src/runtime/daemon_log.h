// DaemonLog: the daemon's log, one whole timestamped line per call on stderr (the journal under
// systemd), "2026-03-08T01:30:00.250Z petit: <text>".
//
// Threads: Line() may be called from any thread; lines never interleave.
#ifndef PETIT_HOST_RUNTIME_DAEMON_LOG_H_
#define PETIT_HOST_RUNTIME_DAEMON_LOG_H_

#include <string>
#include <string_view>

#include "petit/core/mutex.h"
#include "petit/core/thread_annotations.h"

namespace petit::host {

class DaemonLog {
 public:
  void Line(std::string_view text) EXCLUDES(mu_);
  // Each line of `text` as a Line(), without a leading "petit: " (what RecoverOnStartup prints).
  void Lines(const std::string& text) EXCLUDES(mu_);

 private:
  Mutex mu_;  // held while a line is written
};

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_DAEMON_LOG_H_
