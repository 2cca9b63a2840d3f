#include "runtime/process_registry.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <sstream>
#include <string>

#include "runtime/proc_files.h"

namespace petit::host {
namespace {

std::string HostDir(int64_t pid, std::string_view start_ticks) {
  return ProcessRegistryDir() + "/" + std::to_string(pid) + "-" + std::string(start_ticks);
}

// Set by NoteForHost before the first note; 0 = this process is the host.
std::atomic<int64_t> g_host_pid{0};

// This process's directory (its host's, for a plugin worker), created on first use and removed
// at a normal exit of the host (empty by then: every note goes with its attempt); empty when it
// cannot be created.
class OwnDirectory {
 public:
  OwnDirectory() {
    const std::string base = ProcessRegistryDir();
    mkdir(base.c_str(), 0700);
    const int64_t host = g_host_pid.load();
    borrowed_ = host != 0;
    std::string own = borrowed_ ? HostDir(host, StartTicksOf(std::to_string(host)).value_or("0"))
                                : HostDir(getpid(), StartTicksOf("self").value_or("0"));
    if (mkdir(own.c_str(), 0700) == 0 || errno == EEXIST) path_ = std::move(own);
  }
  ~OwnDirectory() {
    if (!path_.empty() && !borrowed_) rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }
  // Names of a worker's notes carry its pid, so they never collide with its host's or another
  // worker's.
  const std::string& prefix() const {
    static const std::string prefix = borrowed_ ? std::to_string(getpid()) + "-" : "";
    return prefix;
  }

 private:
  std::string path_;
  bool borrowed_ = false;
};

const OwnDirectory& Own() {
  static const OwnDirectory dir;
  return dir;
}

std::atomic<uint64_t> g_note_counter{0};

}  // namespace

void NoteForHost(int64_t host_pid) { g_host_pid.store(host_pid); }

std::string ProcessRegistryDir() {
  if (const char* dir = std::getenv("PETIT_RUNTIME_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  if (geteuid() == 0) return "/run/petit";
  if (const char* dir = std::getenv("XDG_RUNTIME_DIR"); dir != nullptr && *dir != '\0') {
    return std::string(dir) + "/petit";
  }
  return "/tmp/petit-" + std::to_string(geteuid());
}

std::unique_ptr<ProcessNote> ProcessNote::Write(std::string_view run, std::string_view task,
                                                uint32_t attempt, int64_t pid,
                                                int64_t process_group, uint64_t start_ticks) {
  const std::string& dir = Own().path();
  if (dir.empty()) return nullptr;
  const std::string path =
      dir + "/" + Own().prefix() + std::to_string(g_note_counter.fetch_add(1) + 1);
  const std::string text = std::string(run) + " " + std::string(task) + " " +
                           std::to_string(attempt) + " " + std::to_string(pid) + " " +
                           std::to_string(process_group) + " " + std::to_string(start_ticks) + "\n";
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return nullptr;
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  if (!written) {
    unlink(path.c_str());
    return nullptr;
  }
  return std::unique_ptr<ProcessNote>(new ProcessNote(path));
}

ProcessNote::~ProcessNote() { unlink(path_.c_str()); }

std::vector<NotedProcess> ReadProcessNotes(int64_t pid, std::string_view start_ticks) {
  std::vector<NotedProcess> notes;
  const std::string dir = HostDir(pid, start_ticks);
  DIR* entries = opendir(dir.c_str());
  if (entries == nullptr) return notes;
  while (const dirent* entry = readdir(entries)) {
    if (entry->d_name[0] == '.') continue;
    std::istringstream in(ReadProcFile(dir + "/" + entry->d_name).value_or(""));
    NotedProcess note;
    if (in >> note.run >> note.task >> note.attempt >> note.pid >> note.process_group >>
        note.start_ticks) {
      notes.push_back(std::move(note));
    }
  }
  closedir(entries);
  return notes;
}

void RemoveProcessNotes(int64_t pid, std::string_view start_ticks) {
  const std::string dir = HostDir(pid, start_ticks);
  DIR* entries = opendir(dir.c_str());
  if (entries == nullptr) return;
  while (const dirent* entry = readdir(entries)) {
    if (entry->d_name[0] != '.') unlink((dir + "/" + entry->d_name).c_str());
  }
  closedir(entries);
  rmdir(dir.c_str());
}

}  // namespace petit::host

namespace petit::host {

void RemoveEmptyNotesOfDeadHosts() {
  const std::string base = ProcessRegistryDir();
  DIR* entries = opendir(base.c_str());
  if (entries == nullptr) return;
  while (const dirent* entry = readdir(entries)) {
    const std::string_view name = entry->d_name;
    const size_t dash = name.find('-');
    if (dash == std::string_view::npos || dash == 0 ||
        name.substr(0, dash).find_first_not_of("0123456789") != std::string_view::npos) {
      continue;  // not a host's directory
    }
    // Alive means: the pid names a process that started at the noted time.
    if (PidAndStartAlive(name)) continue;
    // Fails, harmlessly, when notes remain.
    rmdir((base + "/" + std::string(name)).c_str());
  }
  closedir(entries);
}

}  // namespace petit::host
