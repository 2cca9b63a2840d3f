#include "config/job_files.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <iterator>
#include <map>
#include <system_error>
#include <thread>
#include <utility>

#include "config/yaml_document.h"

namespace petit::host::internal {
namespace {

// Reading files in parallel pays off only when each thread gets a few dozen files.
constexpr size_t kMinFilesPerThread = 16;
constexpr size_t kMaxLoadThreads = 8;

bool IsJobFile(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  if (ext != ".yaml" && ext != ".yml") return false;
  std::string stem = path.stem().string();
  return stem != "petit";
}

// Emacs marks a file being edited with a dangling symlink ".#<name>" beside it: not a job file,
// and not a directory whose jobs would be lost.
bool IsEditorLock(const std::filesystem::path& path) {
  return path.filename().string().starts_with(".#");
}

std::string ErrnoMessage(int error) {
  return std::error_code(error, std::system_category()).message();
}

std::pair<dev_t, ino_t> Identity(const struct stat& st) { return {st.st_dev, st.st_ino}; }

// Walks a job directory and its subdirectories, following symlinks. Whatever it cannot read is
// an error naming the path and the OS's reason, never skipped: the jobs of an unreadable
// subdirectory would otherwise vanish without a word. An entry whose type cannot be determined
// (a dangling symlink, a symlink loop, no search permission) is an error whatever its name, since
// it may be a directory of jobs.
struct DirectoryWalk {
  std::vector<std::string>& files;
  std::vector<Diagnostic>& errors;
  std::map<std::pair<dev_t, ino_t>, std::string> walked;  // directories, by identity

  void Error(const std::filesystem::path& path, std::string message) {
    errors.push_back({path.string(), 0, 0, "", std::move(message)});
  }

  void Walk(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      Visit(it->path());
    }
    if (ec) {
      Error(dir, "cannot read the directory: " + ec.message() + " (its job files are not loaded)");
    }
  }

  void Visit(const std::filesystem::path& path) {
    if (IsEditorLock(path)) return;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      const int error = errno;
      struct stat link;
      const bool is_link = ::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode);
      Error(path, std::string(is_link ? "a symlink that cannot be followed: " : "cannot read: ") +
                      ErrnoMessage(error));
      return;
    }
    if (S_ISDIR(st.st_mode)) {
      auto [seen, fresh] = walked.emplace(Identity(st), path.string());
      if (!fresh) {
        Error(path, "a symlink loop, or a second link to one directory: it is already read as " +
                        seen->second);
        return;
      }
      Walk(path);
      return;
    }
    if (!IsJobFile(path)) return;
    if (!S_ISREG(st.st_mode)) {
      Error(path, "not a regular file (a FIFO, socket or device): a job file must be a file");
      return;
    }
    files.push_back(path.string());
  }
};

}  // namespace

std::vector<std::string> FindJobFiles(const std::string& dir, std::vector<Diagnostic>& errors) {
  std::vector<std::string> files;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    errors.push_back({dir, 0, 0, "", "not a directory of job files"});
    return files;
  }
  DirectoryWalk walk{files, errors, {}};
  struct stat root;
  if (::stat(dir.c_str(), &root) == 0) walk.walked.emplace(Identity(root), dir);
  walk.Walk(dir);
  std::sort(files.begin(), files.end());
  return files;
}

JobFileResult ReadJobFile(const std::string& path, const LoadContext& context) {
  return ParseJobFile(ReadYamlDocument(path), path, context);
}

// Parsing is CPU-bound (yaml-cpp took about 1 ms for a 3 KB job file here) and files are
// independent, so large directories are read on several threads; each thread takes the next unread
// file, and results are merged in file order afterwards, so the outcome never depends on the
// scheduling.
std::vector<JobFileResult> ReadJobFiles(const std::vector<std::string>& paths,
                                        const LoadContext& context) {
  std::vector<JobFileResult> results(paths.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < paths.size(); i = next.fetch_add(1)) {
      results[i] = ReadJobFile(paths[i], context);
    }
  };
  const size_t by_size = paths.size() / kMinFilesPerThread;
  const size_t threads =
      std::min({static_cast<size_t>(std::max(1u, std::thread::hardware_concurrency())),
                kMaxLoadThreads, std::max<size_t>(by_size, 1)});
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t) helpers.emplace_back(work);
  work();
  for (std::thread& helper : helpers) helper.join();
  return results;
}

void MergeJobFile(JobFileResult&& file, LoadedJobs& out, std::vector<JobMarks>* marks,
                  std::vector<Declaration>* declarations, std::set<std::string>& warned) {
  out.files += 1;
  std::move(file.errors.begin(), file.errors.end(), std::back_inserter(out.errors));
  for (auto& [type, warning] : file.schema_warnings) {
    if (warned.insert(type).second) out.warnings.push_back(std::move(warning));
  }
  if (file.declaration && file.job) file.declaration->job = out.jobs.size();
  if (file.job) {
    out.jobs.push_back(std::move(*file.job));
    if (marks != nullptr) marks->push_back(std::move(file.marks));
  }
  if (declarations != nullptr && file.declaration) {
    declarations->push_back(std::move(*file.declaration));
  }
}

}  // namespace petit::host::internal
