// Loading a job directory for this host: the job files (config/job_loader.h) checked against
// what only the host knows, the task types and parameter schemas of its loaded plugins and the
// resource pools of its petit.yaml. A job whose tasks ask for pools the host cannot grant is left
// out with one error per task, so validate, trigger and run agree on what is valid.
//
// Threads: call from one thread; reads the HostEnv without changing it.
#ifndef PETIT_HOST_RUNTIME_LOAD_JOBS_H_
#define PETIT_HOST_RUNTIME_LOAD_JOBS_H_

#include <string>
#include <string_view>

#include "config/job_loader.h"
#include "runtime/host_env.h"

namespace petit::host {

// Requires env.LoadPlugins().
LoadedJobs LoadHostJobs(const HostEnv& env, const std::string& dir);
// The same with another default zone for schedules than env's petit.yaml (a reload re-reads it).
LoadedJobs LoadHostJobs(const HostEnv& env, const std::string& dir,
                        const std::string& default_time_zone);

// Prints warnings, then errors, one per line to stderr, as `petit validate` does; returns true
// when there were no errors.
bool ReportLoad(const LoadedJobs& loaded);

// Whether more than one job file under the directory declares job `id` (LoadedJobs::duplicate_ids).
bool DeclaredTwice(const LoadedJobs& loaded, std::string_view id);

// What `petit trigger`, `retry` and `graph` say of such a job (one line, without "petit: ").
std::string DeclaredTwiceMessage(std::string_view id, std::string_view dir);

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_LOAD_JOBS_H_
