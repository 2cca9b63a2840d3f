// The checks made once every job file of a directory is read: job ids are unique (one error
// naming both files), and job dependencies name existing jobs, not the job itself, and form no
// cycle (core/job_graph.h). A job with such a problem is left out, and so is, transitively, every
// job that depends on one left out or on a file with errors: it could never be scheduled.
//
// Threads: plain functions over the caller's data, called once the files are merged.
#ifndef PETIT_HOST_CONFIG_CROSS_FILE_CHECKS_H_
#define PETIT_HOST_CONFIG_CROSS_FILE_CHECKS_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "config/job_loader.h"
#include "config/yaml_tree.h"

namespace petit::host::internal {

// Where the parts of a valid job were written, for the messages of these checks.
struct JobMarks {
  YamlMark id;
  std::vector<YamlMark> dependencies;        // parallel to Job::depends_on
  std::vector<std::string> dependency_keys;  // parallel to Job::depends_on
};

// A job id as a file declares it, whether or not the rest of the file is valid.
struct Declaration {
  std::string id;
  std::string file;
  YamlMark mark;
  std::optional<size_t> job;  // index in LoadedJobs::jobs when the job is valid
};

// Runs both checks on `loaded`, whose jobs are parallel to `marks` and declared, with every
// invalid file, by `declarations` (in file order). Appends the problems to loaded.errors and
// removes the jobs they rule out from loaded.jobs, keeping `marks` parallel.
void CheckAcrossFiles(const std::vector<Declaration>& declarations, LoadedJobs& loaded,
                      std::vector<JobMarks>& marks);

}  // namespace petit::host::internal

#endif  // PETIT_HOST_CONFIG_CROSS_FILE_CHECKS_H_
