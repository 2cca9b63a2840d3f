#include "config/job_files.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iterator>
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

}  // namespace

std::vector<std::string> FindJobFiles(const std::string& dir, std::vector<Diagnostic>& errors) {
  std::vector<std::string> files;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    errors.push_back({dir, 0, 0, "", "not a directory of job files"});
    return files;
  }
  for (auto it = std::filesystem::recursive_directory_iterator(
           dir, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && IsJobFile(it->path())) files.push_back(it->path().string());
  }
  if (ec) errors.push_back({dir, 0, 0, "", ec.message()});
  std::sort(files.begin(), files.end());
  return files;
}

JobFileResult ReadJobFile(const std::string& path, const LoadContext& context) {
  return ParseJobFile(ReadYamlDocument(path), path, context);
}

// yaml-cpp is CPU-bound (about 1 ms for a 3 KB job file here) and files are independent, so large
// directories are read on several threads; each thread takes the next unread file, and results
// are merged in file order afterwards, so the outcome never depends on the scheduling.
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
