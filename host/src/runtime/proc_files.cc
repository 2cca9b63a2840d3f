#include "runtime/proc_files.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <sstream>

namespace petit::host {

std::optional<std::string> ReadProcFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n > 0) {
      text.append(buffer, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fd);
  return text;
}

bool WriteProcFile(const std::string& path, std::string_view text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return written;
}

std::optional<std::string> StartTicksOf(std::string_view pid) {
  const std::optional<std::string> stat = ReadProcFile("/proc/" + std::string(pid) + "/stat");
  if (!stat.has_value()) return std::nullopt;
  // The command name, in parentheses, may hold spaces and parentheses itself.
  const size_t name_end = stat->rfind(')');
  if (name_end == std::string::npos) return std::nullopt;
  std::istringstream fields(stat->substr(name_end + 1));
  std::string field;
  // The state is the first field after the name; the start time is the 20th.
  for (int i = 0; i < 20; ++i) {
    if (!(fields >> field)) return std::nullopt;
  }
  return field;
}

bool PidAndStartAlive(std::string_view pid_dash_start) {
  const size_t dash = pid_dash_start.find('-');
  if (dash == std::string_view::npos || dash == 0) return false;
  const std::string_view pid = pid_dash_start.substr(0, dash);
  if (pid.find_first_not_of("0123456789") != std::string_view::npos) return false;
  const std::optional<std::string> start = StartTicksOf(pid);
  return start.has_value() && *start == pid_dash_start.substr(dash + 1);
}

}  // namespace petit::host
