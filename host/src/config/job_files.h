// The job files of a directory: which files they are, reading and parsing them (on several
// threads when there are many), and merging what each yields in file order.
//
// Threads: ReadJobFiles starts threads of its own and joins them before it returns; its result
// does not depend on how they were scheduled. The rest runs on the caller's thread.
#ifndef PETIT_HOST_CONFIG_JOB_FILES_H_
#define PETIT_HOST_CONFIG_JOB_FILES_H_

#include <set>
#include <string>
#include <vector>

#include "config/cross_file_checks.h"
#include "config/job_loader.h"
#include "config/job_parser.h"
#include "config/load_context.h"

namespace petit::host::internal {

// Every *.yaml and *.yml file below `dir`, recursively (symlinks followed) and sorted by path,
// except petit.yaml (the global config). Nothing below `dir` is skipped silently: a subdirectory
// that cannot be read, an entry that cannot be followed (a dangling symlink, a symlink loop, no
// permission) and a job file name that is not a regular file (a FIFO) are each one problem in
// `errors`, naming the path and the OS's reason.
std::vector<std::string> FindJobFiles(const std::string& dir, std::vector<Diagnostic>& errors);

// Reads and parses the file at `path` (yaml_document.h, job_parser.h).
JobFileResult ReadJobFile(const std::string& path, const LoadContext& context);

// ReadJobFile for each of `paths`; the results are in the order of `paths`.
std::vector<JobFileResult> ReadJobFiles(const std::vector<std::string>& paths,
                                        const LoadContext& context);

// Appends one file's result to `out`; call it in file order. Its schema warnings are added unless
// their task type is already in `warned` (which they join). `marks` (parallel to out.jobs) and
// `declarations` collect, when given, what CheckAcrossFiles needs.
void MergeJobFile(JobFileResult&& file, LoadedJobs& out, std::vector<JobMarks>* marks,
                  std::vector<Declaration>* declarations, std::set<std::string>& warned);

}  // namespace petit::host::internal

#endif  // PETIT_HOST_CONFIG_JOB_FILES_H_
