// Parsing one job file into a core::Job: the job-level keys (id, name, description, enabled,
// schedule, max_concurrency / max_active_runs, overlap, catch_up, catch_up_limit, depends_on,
// config, max_parallel_tasks, tasks; job_loader.h lists what each means) and the checks among the
// tasks of the job: ids unique, dependencies naming tasks of the job, no cycle, and templates
// reading only outputs of upstream tasks. Each task's own keys are task_parser.h's.
//
// Threads: reentrant; each call works on its own document. The LoadContext may be shared.
#ifndef PETIT_HOST_CONFIG_JOB_PARSER_H_
#define PETIT_HOST_CONFIG_JOB_PARSER_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/cross_file_checks.h"
#include "config/diagnostic.h"
#include "config/load_context.h"
#include "config/yaml_document.h"
#include "petit/core/job.h"

namespace petit::host::internal {

// What one job file yields. Files are parsed independently, then merged in file order
// (job_files.h).
struct JobFileResult {
  std::vector<Diagnostic> errors;  // top to bottom
  std::optional<Job> job;          // when the file holds a valid job
  JobMarks marks;                  // where the parts of `job` are written, when it is set
  // The id the file declares, whether or not its job is valid; `job` is left for the merge.
  std::optional<Declaration> declaration;
  // (task type, warning). A schema that cannot be read is the plugin's defect, not the job's: it
  // is reported once per load, at its first use, so these are kept apart until the merge.
  std::vector<std::pair<std::string, Diagnostic>> schema_warnings;
};

// The job of `document` (whose own problems, if any, are the result's); `file` names it in
// messages and becomes the job's source_file.
JobFileResult ParseJobFile(const YamlDocument& document, const std::string& file,
                           const LoadContext& context);

}  // namespace petit::host::internal

#endif  // PETIT_HOST_CONFIG_JOB_PARSER_H_
