// Small files of /proc and of the cgroup file system, read and written with plain read(2) and
// write(2) through close-on-exec descriptors: other threads may spawn children meanwhile, and a
// process that exits while its /proc file is read fails the read with ESRCH, which libstdc++'s
// filebuf turns into an exception whatever the stream's exception mask says.
//
// Threads: every function may be called from any thread.
#ifndef PETIT_HOST_RUNTIME_PROC_FILES_H_
#define PETIT_HOST_RUNTIME_PROC_FILES_H_

#include <optional>
#include <string>
#include <string_view>

namespace petit::host {

// The whole file; nullopt when it cannot be opened.
std::optional<std::string> ReadProcFile(const std::string& path);

// Writes `text` in one write(2) to an existing file; false when it cannot.
bool WriteProcFile(const std::string& path, std::string_view text);

// The start time of process `pid` ("self" for this one), field 22 of /proc/<pid>/stat (clock
// ticks since boot) as written there; nullopt when /proc has no readable entry for it.
std::optional<std::string> StartTicksOf(std::string_view pid);

// Whether "<pid>-<start ticks>" (how note and cgroup directories name a host process) names a
// process running now, not one whose pid was reused since.
bool PidAndStartAlive(std::string_view pid_dash_start);

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_PROC_FILES_H_
