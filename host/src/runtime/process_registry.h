// Where a host notes the processes its attempts run (plugin.h's set_process), so that if it dies,
// its next start can terminate their process groups before anything is retried, members that
// cleared their environment included (recovery.h).
//
// The notes live outside the store, on this machine only, because only a host on this machine can
// act on them and only until it reboots, in
//   <runtime dir>/<host pid>-<host start ticks>/notes
// (a plugin worker's in <worker pid>-notes beside it), where <runtime dir> is $PETIT_RUNTIME_DIR,
// else /run/petit for root (systemd's RuntimeDirectory=petit), else $XDG_RUNTIME_DIR/petit, else
// /tmp/petit-<uid>. The file is a row of 512-byte slots, mapped shared by the process that
// writes it: a slot whose first byte is '+' holds a note, "<run id> <task id> <attempt> <pid>
// <process group> <start ticks>\n"; a note is removed (its first byte zeroed) when the attempt
// ends, and its slot reused. So a note costs no system call, no store round trip, and survives
// the host's death (not the machine's, which the processes do not survive either); the file is
// removed at a normal exit. Any other file in the directory holds one note, "<run id> <task id>
// <attempt> <pid> <process group> <start ticks>" (how hosts wrote them before the slots).
//
// Threads: everything here may be called from any thread.
#ifndef PETIT_HOST_RUNTIME_PROCESS_REGISTRY_H_
#define PETIT_HOST_RUNTIME_PROCESS_REGISTRY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace petit::host {

// The directory under which each host process keeps its notes.
std::string ProcessRegistryDir();

// This process writes no notes from now on: its runs are in a store that dies with it (memory:),
// so no later start could recover them, and a task's process dies with the host anyway
// (subprocess.h's death signal). Spares the directory, the file and their removal at exit.
// Call before the first note.
void SkipProcessNotes();

// Makes this process, a plugin worker (`process` isolation), note the processes its attempts
// report in the directory of its host `host_pid`, since recovery looks for a dead host's notes
// there (the worker dies with its host, its processes may not). Call before the first note.
void NoteForHost(int64_t host_pid);

// One noted process; the note is removed on destruction (when the attempt ends).
class ProcessNote {
 public:
  // nullptr when the note cannot be written (the attempt then goes on without it).
  static std::unique_ptr<ProcessNote> Write(std::string_view run, std::string_view task,
                                            uint32_t attempt, int64_t pid, int64_t process_group,
                                            uint64_t start_ticks);
  ~ProcessNote();
  ProcessNote(const ProcessNote&) = delete;
  ProcessNote& operator=(const ProcessNote&) = delete;

 private:
  explicit ProcessNote(size_t number) : number_(number) {}
  size_t number_;  // its slot + 1 in this process's notes file
};

struct NotedProcess {
  std::string run;
  std::string task;
  uint32_t attempt = 0;
  int64_t pid = 0;
  int64_t process_group = 0;
  uint64_t start_ticks = 0;
};

// The notes of the host process `pid` that started at `start_ticks`.
std::vector<NotedProcess> ReadProcessNotes(int64_t pid, std::string_view start_ticks);

// Removes them (once that host is known dead and its runs recovered).
void RemoveProcessNotes(int64_t pid, std::string_view start_ticks);

// Removes the note directories of host processes that are gone, where no noted process is left
// to end: none was noted (a host killed while none of its attempts ran), or every noted process
// and its group have ended since. Notes of a process still alive may be another store's, and are
// left to that store's recovery.
void RemoveEmptyNotesOfDeadHosts();

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_PROCESS_REGISTRY_H_
