// Loading job files: the original Petit's YAML format, strictly checked, into core::Job values.
//
// Every *.yaml / *.yml file below a directory (except petit.yaml) holds one job. All files are
// read and every problem in every file is collected, so `petit validate` reports them in one
// pass. Each problem names file, line, column and key, and suggests the nearest valid key or name
// for a typo.
//
// Job keys: id, name, description, enabled, config, tasks, and
//   schedule         a cron expression or `@every`/`@daily`... (core/schedule.h), or
//                    {cron, timezone}; the zone defaults to JobLoaderOptions::default_time_zone
//   max_concurrency  the original's name for max_active_runs (1..4096); giving both is an error
//   max_active_runs  runs of the job at once, 0 = unlimited (default 1)
//   overlap          skip | queue | cancel_previous (default skip)
//   catch_up         none | latest | all (default none); needs a schedule
//   catch_up_limit   with catch_up: all, at most this many missed runs (default 10)
//   depends_on       other jobs: `- upstream` (last_success), or
//                    `- {job: upstream, condition: last_success | last_complete |
//                       {within_window: {seconds: N}}}` (`job_id` is accepted for `job`)
//   max_parallel_tasks  tasks of one run at once
// Task types: `command` (command, args, working_dir, environment, timeout_secs; `shell` runs
// /bin/sh -c), `python` (script, inline, working_dir, environment: runs python3 through the
// command plugin), `custom` (handler = a plugin task type, config = its parameters), or any plugin
// task type by name with its parameters under `params`. Parameters of plugin types are checked
// against the JSON Schema their plugin declares (params_schema.h). `environment` is for process
// tasks only; on an in-process plugin type it is an error rather than silently unused.
//
// The parts, in namespace internal: yaml_document.h (text to a YAML tree within the limits of
// yaml_limits.h, the one place YAML is parsed), job_files.h (finding, reading and merging the
// files of a directory), job_parser.h (job-level keys), task_parser.h (task-level keys),
// legacy_task_forms.h (the original's command, python and custom forms as plugin params),
// cross_file_checks.h (duplicate ids, job dependencies).
//
// Threads: the functions are reentrant; nothing is shared between calls. LoadJobDirectory reads a
// large directory on several threads of its own (joined before it returns); its result does not
// depend on how they were scheduled.
#ifndef PETIT_HOST_CONFIG_JOB_LOADER_H_
#define PETIT_HOST_CONFIG_JOB_LOADER_H_

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "config/diagnostic.h"
#include "petit/core/job.h"
#include "petit/core/resources.h"
#include "petit/core/status.h"

namespace petit::host {

struct LoadedJobs {
  std::vector<Job> jobs;             // valid jobs, sorted by id
  std::vector<Diagnostic> errors;    // in file order, then the checks across files
  std::vector<Diagnostic> warnings;  // same form; they do not make the load fail
  size_t files = 0;
  // Ids that more than one file declares, sorted: `jobs` keeps the first declaration (a daemon
  // keeps scheduling it), and a command asked to run one of them by id refuses instead of guessing.
  std::vector<std::string> duplicate_ids;
};

struct JobLoaderOptions {
  // Task types a job may use (from the loaded plugins); empty = do not check types.
  std::vector<std::string> known_types;
  // JSON Schema of the parameters of each plugin task type that declares one.
  std::map<std::string, std::string, std::less<>> params_schemas;
  // The zone of schedules that do not name one: petit.yaml's `timezone`, else UTC.
  std::string default_time_zone = "UTC";
  // Whether this host could ever grant a task's resources (ResourceManager::Check), asked of each
  // entry of a task's `resources` so that a problem is reported where it is written; empty =
  // unchecked. Called from the loader's threads at once.
  std::function<Status(const ResourceRequirements&)> check_resources;
};

// Loads one file. Its problems go to `out.errors`; a valid job is appended to `out.jobs`. Checks
// that need the other jobs (duplicate ids, job dependencies) are LoadJobDirectory's.
void LoadJobFile(const std::string& path, const JobLoaderOptions& options, LoadedJobs& out);

// Loads every job file under `dir` (recursively, in name order), then checks across files: job ids
// are unique (one error naming both files), and job dependencies name existing jobs, not the job
// itself, and form no cycle (core/job_graph.h). A job with such a problem, or depending on a job
// that has one, is left out of `jobs`.
LoadedJobs LoadJobDirectory(const std::string& dir, const JobLoaderOptions& options);

// Parses a job from YAML text; `name` stands for the file in messages. No checks across files.
LoadedJobs LoadJobFromString(const std::string& yaml, const std::string& name,
                             const JobLoaderOptions& options);

}  // namespace petit::host

#endif  // PETIT_HOST_CONFIG_JOB_LOADER_H_
