#include "sql/sqlite_host_lock.h"

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "src/records.h"

namespace petit::storage::internal {
namespace {

constexpr off_t kHostByte = 0;
constexpr off_t kGateByte = 1;
constexpr mode_t kSidecarMode = 0644;  // readable, so an operator can `cat` who holds it

// The open sidecar file; closing it releases every lock taken through it (so an acquire that
// fails on the way releases what it took).
class SqliteHostLock final : public HostLock {
 public:
  explicit SqliteHostLock(int fd) : fd_(fd) {}
  ~SqliteHostLock() override {
    if (fd_ >= 0) close(fd_);
  }
  SqliteHostLock(const SqliteHostLock&) = delete;
  SqliteHostLock& operator=(const SqliteHostLock&) = delete;

  int fd() const { return fd_; }

 private:
  const int fd_;
};

// F_OFD_SETLK(W) on one byte. Returns 0 or the errno.
int LockByte(int fd, off_t byte, short type, bool wait) {
  struct flock lock = {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = byte;
  lock.l_len = 1;
  lock.l_pid = 0;  // required by OFD locks
  for (;;) {
    if (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &lock) == 0) return 0;
    if (errno != EINTR) return errno;
  }
}

Status Failure(std::string_view display, const std::string& sidecar, const std::string& what,
               int error) {
  return Unavailable("cannot lock the store " + std::string(display) + ": " + what + " " + sidecar +
                     ": " + std::strerror(error));
}

// The owner the holder wrote; empty if it wrote nothing readable.
std::string ReadOwner(int fd) {
  std::string owner(kMaxHostLockOwnerBytes + 1, '\0');
  const ssize_t n = pread(fd, owner.data(), owner.size(), 0);
  owner.resize(n > 0 ? static_cast<size_t>(n) : 0);
  while (!owner.empty() && owner.back() == '\n') owner.pop_back();
  return owner;
}

// Replaces the file's content with "<owner>\n". Returns 0 or the errno.
int WriteOwner(int fd, std::string_view owner) {
  const std::string line = std::string(owner) + "\n";
  if (ftruncate(fd, 0) != 0) return errno;
  size_t written = 0;
  while (written < line.size()) {
    const ssize_t n =
        pwrite(fd, line.data() + written, line.size() - written, static_cast<off_t>(written));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    written += static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace

Result<std::unique_ptr<HostLock>> AcquireSqliteHostLock(const std::string& database_path,
                                                        std::string_view owner,
                                                        std::string_view display) {
  PETIT_RETURN_IF_ERROR(CheckHostLockOwner(owner));
  // Resolved, so that processes naming the database by different paths (a symlink, a relative
  // path) meet on one sidecar.
  std::error_code error;
  const std::filesystem::path canonical = std::filesystem::canonical(database_path, error);
  if (error) {
    return Unavailable("cannot lock the store " + std::string(display) + ": cannot resolve " +
                       database_path + ": " + error.message());
  }
  const std::string path = canonical.string() + ".lock";
  auto sidecar = std::make_unique<SqliteHostLock>(
      open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, kSidecarMode));
  if (sidecar->fd() < 0) return Failure(display, path, "cannot open", errno);

  // The gate is held only across the few calls below by anyone, so waiting for it is brief.
  if (int e = LockByte(sidecar->fd(), kGateByte, F_WRLCK, /*wait=*/true); e != 0) {
    return Failure(display, path, "cannot lock", e);
  }
  const int refused = LockByte(sidecar->fd(), kHostByte, F_WRLCK, /*wait=*/false);
  if (refused == EAGAIN || refused == EACCES) {
    return HostLockRefused(display, ReadOwner(sidecar->fd()));
  }
  if (refused != 0) return Failure(display, path, "cannot lock", refused);
  if (int e = WriteOwner(sidecar->fd(), owner); e != 0) {
    return Failure(display, path, "cannot write the owner into", e);
  }
  if (int e = LockByte(sidecar->fd(), kGateByte, F_UNLCK, /*wait=*/false); e != 0) {
    return Failure(display, path, "cannot unlock", e);
  }
  return std::unique_ptr<HostLock>(std::move(sidecar));
}

}  // namespace petit::storage::internal
