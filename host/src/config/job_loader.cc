#include "config/job_loader.h"

#include <algorithm>
#include <set>
#include <utility>

#include "config/cross_file_checks.h"
#include "config/job_files.h"
#include "config/job_parser.h"
#include "config/load_context.h"
#include "config/yaml_document.h"

namespace petit::host {

void LoadJobFile(const std::string& path, const JobLoaderOptions& options, LoadedJobs& out) {
  const internal::LoadContext context(options);
  std::set<std::string> warned;
  internal::MergeJobFile(internal::ReadJobFile(path, context), out, nullptr, nullptr, warned);
}

LoadedJobs LoadJobFromString(const std::string& yaml, const std::string& name,
                             const JobLoaderOptions& options) {
  const internal::LoadContext context(options);
  LoadedJobs out;
  std::set<std::string> warned;
  internal::MergeJobFile(
      internal::ParseJobFile(internal::ParseYamlDocument(yaml, name), name, context), out, nullptr,
      nullptr, warned);
  return out;
}

LoadedJobs LoadJobDirectory(const std::string& dir, const JobLoaderOptions& options) {
  LoadedJobs out;
  const std::vector<std::string> files = internal::FindJobFiles(dir, out.errors);
  const internal::LoadContext context(options);
  std::vector<internal::JobMarks> marks;  // parallel to out.jobs
  std::vector<internal::Declaration> declarations;
  std::set<std::string> warned;
  for (internal::JobFileResult& file : internal::ReadJobFiles(files, context)) {
    internal::MergeJobFile(std::move(file), out, &marks, &declarations, warned);
  }
  internal::CheckAcrossFiles(declarations, out, marks);
  std::sort(out.jobs.begin(), out.jobs.end(),
            [](const Job& a, const Job& b) { return a.id < b.id; });
  return out;
}

}  // namespace petit::host
