#include "runtime/process_registry.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "runtime/proc_files.h"

namespace petit::host {
namespace {

// A process's journal of notes: "notes", or "<pid>-notes" for a plugin worker's.
constexpr std::string_view kJournalName = "notes";

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

// Past this size a journal with no live note is truncated, and one with live notes rewritten
// with them alone, so a host that runs for months keeps a small file.
constexpr off_t kCompactAbove = 256 * 1024;

// This process's journal of notes (process_registry.h): a note is one appended "+<n> <note>"
// line, its removal one "-<n>" line. One write(2) each to a file that stays open costs a fraction
// of creating and unlinking a file per note, which on a disk file system is two journalled
// directory changes.
//
// THREADS: thread-safe (mu_). Destroyed at a normal exit, when no attempt runs: the file goes
// then, unless notes remain in it.
class NoteJournal {
 public:
  static NoteJournal& Instance() {
    static NoteJournal journal;
    return journal;
  }

  NoteJournal(const NoteJournal&) = delete;
  NoteJournal& operator=(const NoteJournal&) = delete;
  ~NoteJournal() {
    std::lock_guard lock(mu_);
    if (fd_ < 0) return;
    close(fd_);
    if (live_.empty()) unlink(path_.c_str());
  }

  // The note's number, or 0 when it cannot be written.
  uint64_t Add(std::string_view note) {
    std::lock_guard lock(mu_);
    if (!Open()) return 0;
    const uint64_t number = ++last_;
    std::string line = "+" + std::to_string(number) + " ";
    line += note;
    line += '\n';
    if (!Append(line)) return 0;
    live_.emplace(number, std::move(line));
    return number;
  }

  void Remove(uint64_t number) {
    std::lock_guard lock(mu_);
    if (live_.erase(number) == 0 || fd_ < 0) return;
    Append("-" + std::to_string(number) + "\n");
    if (size_ > kCompactAbove) Compact();
  }

 private:
  // The directory is made first, so it is destroyed after the journal (reverse order), by then
  // without the journal's file in it.
  NoteJournal() { (void)Own(); }

  bool Open() {
    if (fd_ >= 0) return true;
    const std::string& dir = Own().path();
    if (dir.empty()) return false;
    path_ = dir + "/" + Own().prefix() + std::string(kJournalName);
    fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0) return false;
    const off_t end = lseek(fd_, 0, SEEK_END);
    size_ = end > 0 ? end : 0;
    return true;
  }

  // One write(2): a reader never sees half a line unless the host died inside it.
  bool Append(const std::string& line) {
    const ssize_t written = write(fd_, line.data(), line.size());
    if (written > 0) size_ += written;
    return written == static_cast<ssize_t>(line.size());
  }

  // Truncates the journal when no note is live; otherwise writes the live ones to a new file
  // and renames it over the journal, so a reader finds the old whole or the new whole.
  void Compact() {
    if (live_.empty()) {
      if (ftruncate(fd_, 0) == 0) size_ = 0;
      return;
    }
    const std::string fresh = Own().path() + "/." + Own().prefix() + std::string(kJournalName);
    const int fd = open(fresh.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return;
    std::string text;
    for (const auto& [number, line] : live_) text += line;
    if (write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
        rename(fresh.c_str(), path_.c_str()) != 0) {
      close(fd);
      unlink(fresh.c_str());
      return;
    }
    close(fd_);
    fd_ = fd;
    size_ = static_cast<off_t>(text.size());
  }

  std::mutex mu_;
  std::string path_;                      // GUARDED_BY(mu_)
  int fd_ = -1;                           // GUARDED_BY(mu_)
  off_t size_ = 0;                        // GUARDED_BY(mu_)
  uint64_t last_ = 0;                     // GUARDED_BY(mu_)
  std::map<uint64_t, std::string> live_;  // GUARDED_BY(mu_): number -> its "+" line
};

// "<run> <task> <attempt> <pid> <group> <start ticks>"; false when `text` is not one.
bool ParseNote(std::string_view text, NotedProcess& note) {
  std::istringstream in{std::string(text)};
  return static_cast<bool>(in >> note.run >> note.task >> note.attempt >> note.pid >>
                           note.process_group >> note.start_ticks);
}

bool IsJournal(std::string_view name) {
  return name.size() >= kJournalName.size() &&
         name.substr(name.size() - kJournalName.size()) == kJournalName;
}

// The notes a journal holds: its "+" lines that no "-" line removed (a last line without its
// newline, cut by the host's death, is not one).
std::vector<NotedProcess> ReplayJournal(const std::string& text) {
  std::map<uint64_t, NotedProcess> live;
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = text.find('\n', at);
    if (end == std::string::npos) break;
    const std::string_view line(text.data() + at, end - at);
    at = end + 1;
    if (line.size() < 2 || (line[0] != '+' && line[0] != '-')) continue;
    const size_t space = line.find(' ');
    uint64_t number = 0;
    const std::string_view digits =
        line.substr(1, space == std::string_view::npos ? std::string_view::npos : space - 1);
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) continue;
    if (line[0] == '-') {
      live.erase(number);
      continue;
    }
    NotedProcess note;
    if (space != std::string_view::npos && ParseNote(line.substr(space + 1), note)) {
      live[number] = std::move(note);
    }
  }
  std::vector<NotedProcess> notes;
  notes.reserve(live.size());
  for (auto& [number, note] : live) notes.push_back(std::move(note));
  return notes;
}

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
  const std::string text = std::string(run) + " " + std::string(task) + " " +
                           std::to_string(attempt) + " " + std::to_string(pid) + " " +
                           std::to_string(process_group) + " " + std::to_string(start_ticks);
  const uint64_t number = NoteJournal::Instance().Add(text);
  if (number == 0) return nullptr;
  return std::unique_ptr<ProcessNote>(new ProcessNote(number));
}

ProcessNote::~ProcessNote() { NoteJournal::Instance().Remove(number_); }

std::vector<NotedProcess> ReadProcessNotes(int64_t pid, std::string_view start_ticks) {
  std::vector<NotedProcess> notes;
  const std::string dir = HostDir(pid, start_ticks);
  DIR* entries = opendir(dir.c_str());
  if (entries == nullptr) return notes;
  while (const dirent* entry = readdir(entries)) {
    // Dot files: "." and "..", and a journal being compacted (the journal itself is whole).
    if (entry->d_name[0] == '.') continue;
    const std::string text = ReadProcFile(dir + "/" + entry->d_name).value_or("");
    if (IsJournal(entry->d_name)) {
      for (NotedProcess& note : ReplayJournal(text)) notes.push_back(std::move(note));
      continue;
    }
    // A file of one note, as hosts before the journal wrote them.
    NotedProcess note;
    if (ParseNote(text, note)) notes.push_back(std::move(note));
  }
  closedir(entries);
  return notes;
}

void RemoveProcessNotes(int64_t pid, std::string_view start_ticks) {
  const std::string dir = HostDir(pid, start_ticks);
  DIR* entries = opendir(dir.c_str());
  if (entries == nullptr) return;
  while (const dirent* entry = readdir(entries)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") unlink((dir + "/" + entry->d_name).c_str());
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
    const std::string dir = base + "/" + std::string(name);
    // A journal whose every note was removed (a plugin worker killed between attempts leaves
    // one) holds nothing.
    if (DIR* files = opendir(dir.c_str()); files != nullptr) {
      while (const dirent* file = readdir(files)) {
        if (file->d_name[0] == '.' || !IsJournal(file->d_name)) continue;
        const std::string path = dir + "/" + file->d_name;
        if (ReplayJournal(ReadProcFile(path).value_or("")).empty()) unlink(path.c_str());
      }
      closedir(files);
    }
    // Fails, harmlessly, when notes remain.
    rmdir(dir.c_str());
  }
  closedir(entries);
}

}  // namespace petit::host
