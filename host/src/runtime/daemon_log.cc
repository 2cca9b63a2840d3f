#include "runtime/daemon_log.h"

#include <iostream>
#include <sstream>

#include "petit/core/clock.h"
#include "runtime/time_format.h"

namespace petit::host {

void DaemonLog::Line(std::string_view text) {
  const std::string stamp = FormatLogTimestamp(SystemClock::Instance().NowMicros());
  MutexLock lock(mu_);
  std::cerr << stamp << " petit: " << text << "\n";
  std::cerr.flush();
}

void DaemonLog::Lines(const std::string& text) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("petit: ", 0) == 0) line.erase(0, 7);
    Line(line);
  }
}

}  // namespace petit::host
