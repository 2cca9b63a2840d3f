#include "runtime/process_registry.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/proc_files.h"

namespace petit::host {
namespace {

// A process's notes file: "notes", or "<pid>-notes" for a plugin worker's.
constexpr std::string_view kSlotsName = "notes";

std::string HostDir(int64_t pid, std::string_view start_ticks) {
  return ProcessRegistryDir() + "/" + std::to_string(pid) + "-" + std::string(start_ticks);
}

// Set by NoteForHost before the first note; 0 = this process is the host.
std::atomic<int64_t> g_host_pid{0};
// Set by SkipProcessNotes: Write notes nothing.
std::atomic<bool> g_skip_notes{false};

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

// A slot of a notes file: its first byte is kUsed while it holds a note, whose text follows,
// ended by '\n'. A note is at most 128 + 128 + 3 * 20 + 10 + 5 characters (ids are at most 128).
constexpr size_t kSlotBytes = 512;
constexpr char kUsed = '+';
// Slots a notes file starts with; it doubles when they are all taken.
constexpr size_t kFirstSlots = 32;

// This process's notes (process_registry.h): fixed slots of a file mapped shared, so a note is a
// copy into memory and its removal one byte; the page cache keeps both for a reader even after
// this process dies. Nothing here makes a system call per note (a file created and unlinked per
// note, or even a line appended, cost a write to the file system's journal each on a disk file
// system). The file's space is allocated before it is mapped, so a full file system refuses the
// note instead of faulting on the store.
//
// THREADS: thread-safe (mu_). Destroyed at a normal exit, when no attempt runs: the file goes
// then, unless notes remain in it.
class NoteSlots {
 public:
  static NoteSlots& Instance() {
    static NoteSlots slots;
    return slots;
  }

  NoteSlots(const NoteSlots&) = delete;
  NoteSlots& operator=(const NoteSlots&) = delete;
  ~NoteSlots() {
    std::lock_guard lock(mu_);
    if (fd_ < 0) return;
    const bool empty = free_.size() == slots_;
    if (map_ != nullptr) munmap(map_, slots_ * kSlotBytes);
    close(fd_);
    if (empty) unlink(path_.c_str());
  }

  // The note's slot + 1, or 0 when it cannot be written.
  size_t Add(std::string_view note) {
    if (note.size() + 2 > kSlotBytes) return 0;
    std::lock_guard lock(mu_);
    if (free_.empty() && !Grow()) return 0;
    const size_t slot = free_.back();
    free_.pop_back();
    char* at = map_ + slot * kSlotBytes;
    std::memcpy(at + 1, note.data(), note.size());
    at[note.size() + 1] = '\n';
    // Marked used last, so a reader that sees the mark sees the whole note.
    std::atomic_ref<char>(at[0]).store(kUsed, std::memory_order_release);
    return slot + 1;
  }

  void Remove(size_t number) {
    std::lock_guard lock(mu_);
    const size_t slot = number - 1;
    std::atomic_ref<char>(map_[slot * kSlotBytes]).store('\0', std::memory_order_release);
    free_.push_back(slot);
  }

 private:
  // The directory is made first, so it is destroyed after the slots (reverse order), by then
  // without their file in it.
  NoteSlots() { (void)Own(); }

  bool Grow() {
    if (fd_ < 0) {
      const std::string& dir = Own().path();
      if (dir.empty()) return false;
      path_ = dir + "/" + Own().prefix() + std::string(kSlotsName);
      fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (fd_ < 0) return false;
    }
    const size_t slots = slots_ == 0 ? kFirstSlots : slots_ * 2;
    // Zeroed space, allocated now (a sparse page would be allocated on first store, and a full
    // file system would then fault it).
    if (posix_fallocate(fd_, 0, static_cast<off_t>(slots * kSlotBytes)) != 0) return false;
    void* map = map_ == nullptr
                    ? mmap(nullptr, slots * kSlotBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0)
                    : mremap(map_, slots_ * kSlotBytes, slots * kSlotBytes, MREMAP_MAYMOVE);
    if (map == MAP_FAILED) return false;
    map_ = static_cast<char*>(map);
    // Lowest slots last, so they are taken first.
    for (size_t slot = slots; slot > slots_; --slot) free_.push_back(slot - 1);
    slots_ = slots;
    return true;
  }

  std::mutex mu_;
  std::string path_;          // GUARDED_BY(mu_)
  int fd_ = -1;               // GUARDED_BY(mu_)
  char* map_ = nullptr;       // GUARDED_BY(mu_): slots_ * kSlotBytes of the file
  size_t slots_ = 0;          // GUARDED_BY(mu_)
  std::vector<size_t> free_;  // GUARDED_BY(mu_)
};

// "<run> <task> <attempt> <pid> <group> <start ticks>"; false when `text` is not one.
bool ParseNote(std::string_view text, NotedProcess& note) {
  std::istringstream in{std::string(text)};
  return static_cast<bool>(in >> note.run >> note.task >> note.attempt >> note.pid >>
                           note.process_group >> note.start_ticks);
}

bool IsSlots(std::string_view name) {
  return name.size() >= kSlotsName.size() &&
         name.substr(name.size() - kSlotsName.size()) == kSlotsName;
}

// The noted process is gone and so is every member of its group: recovery would find nothing to
// end. A group that still has a member, or that this process may not signal, is not gone.
bool NotedProcessGone(const NotedProcess& note) {
  if (StartTicksOf(std::to_string(note.pid)) == std::to_string(note.start_ticks)) return false;
  if (note.process_group <= 0) return true;
  return kill(static_cast<pid_t>(-note.process_group), 0) != 0 && errno == ESRCH;
}

// The notes in the used slots of a notes file.
std::vector<NotedProcess> NotesInSlots(const std::string& text) {
  std::vector<NotedProcess> notes;
  for (size_t at = 0; at + kSlotBytes <= text.size(); at += kSlotBytes) {
    if (text[at] != kUsed) continue;
    const std::string_view slot(text.data() + at + 1, kSlotBytes - 1);
    const size_t end = slot.find('\n');
    NotedProcess note;
    if (end != std::string_view::npos && ParseNote(slot.substr(0, end), note)) {
      notes.push_back(std::move(note));
    }
  }
  return notes;
}

}  // namespace

void NoteForHost(int64_t host_pid) { g_host_pid.store(host_pid); }

void SkipProcessNotes() { g_skip_notes.store(true, std::memory_order_relaxed); }

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
  if (g_skip_notes.load(std::memory_order_relaxed)) return nullptr;
  const std::string text = std::string(run) + " " + std::string(task) + " " +
                           std::to_string(attempt) + " " + std::to_string(pid) + " " +
                           std::to_string(process_group) + " " + std::to_string(start_ticks);
  const size_t number = NoteSlots::Instance().Add(text);
  if (number == 0) return nullptr;
  return std::unique_ptr<ProcessNote>(new ProcessNote(number));
}

ProcessNote::~ProcessNote() { NoteSlots::Instance().Remove(number_); }

std::vector<NotedProcess> ReadProcessNotes(int64_t pid, std::string_view start_ticks) {
  std::vector<NotedProcess> notes;
  const std::string dir = HostDir(pid, start_ticks);
  DIR* entries = opendir(dir.c_str());
  if (entries == nullptr) return notes;
  while (const dirent* entry = readdir(entries)) {
    if (entry->d_name[0] == '.') continue;
    const std::string text = ReadProcFile(dir + "/" + entry->d_name).value_or("");
    if (IsSlots(entry->d_name)) {
      for (NotedProcess& note : NotesInSlots(text)) notes.push_back(std::move(note));
      continue;
    }
    // A file of one note, as hosts before the slots wrote them.
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
    // A notes file whose every note was removed (a plugin worker killed between attempts
    // leaves one) holds nothing; nor does one whose noted processes have all ended since (a
    // host killed while its tasks ran, when no start of its own store came to recover it).
    if (DIR* files = opendir(dir.c_str()); files != nullptr) {
      while (const dirent* file = readdir(files)) {
        if (file->d_name[0] == '.' || !IsSlots(file->d_name)) continue;
        const std::string path = dir + "/" + file->d_name;
        const std::vector<NotedProcess> notes = NotesInSlots(ReadProcFile(path).value_or(""));
        if (std::all_of(notes.begin(), notes.end(), NotedProcessGone)) unlink(path.c_str());
      }
      closedir(files);
    }
    // Fails, harmlessly, when notes remain.
    rmdir(dir.c_str());
  }
  closedir(entries);
}

}  // namespace petit::host
