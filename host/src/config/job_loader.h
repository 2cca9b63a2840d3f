// Loading job files: the original Petit's YAML format, strictly checked, into core::Job values.
//
// Every *.yaml / *.yml file below a directory (except petit.yaml) holds one job. All files are
// read and every error in every file is collected, so `petit validate` reports them in one pass.
// Errors name file, line, column and key, and suggest the nearest valid key for a typo.
//
// Task types: `command` (command, args, working_dir, environment, timeout_secs; `shell` runs
// /bin/sh -c), `python` (script, inline: runs python3 through the command plugin), `custom`
// (handler = a plugin task type, config = its parameters), or any plugin task type by name with
// its parameters under `params`.
#ifndef PETIT_HOST_CONFIG_JOB_LOADER_H_
#define PETIT_HOST_CONFIG_JOB_LOADER_H_

#include <string>
#include <vector>

#include "petit/core/job.h"

namespace petit::host {

struct LoadedJobs {
  std::vector<Job> jobs;              // valid jobs, sorted by id
  std::vector<std::string> errors;    // one line each, "<file>:<line>:<col>: message"
  std::vector<std::string> warnings;  // same form; do not make the load fail
  size_t files = 0;
};

struct JobLoaderOptions {
  // Task types a job may use (from the loaded plugins); empty = do not check types.
  std::vector<std::string> known_types;
};

// Loads one file. Its errors go to `out.errors`; a valid job is appended to `out.jobs`.
void LoadJobFile(const std::string& path, const JobLoaderOptions& options, LoadedJobs& out);

// Loads every job file under `dir` (recursively, in name order) and checks job ids are unique.
LoadedJobs LoadJobDirectory(const std::string& dir, const JobLoaderOptions& options);

// Parses a job from YAML text; `name` stands for the file in messages. For tests.
LoadedJobs LoadJobFromString(const std::string& yaml, const std::string& name,
                             const JobLoaderOptions& options);

}  // namespace petit::host

#endif  // PETIT_HOST_CONFIG_JOB_LOADER_H_
