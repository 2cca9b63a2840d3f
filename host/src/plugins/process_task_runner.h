// ProcessTaskRunner: the TaskRunner of a task type under `process` isolation. Each attempt runs
// in a child `petit __plugin-worker` (plugin_worker.h) of its own, exec'd from the host's own
// executable, that loads the plugin and speaks the plugin ABI to it; the host services it calls
// come back over a socket pair (worker_protocol.h) and land on this attempt's AttemptControl, and
// the attempt's cancel goes the other way.
//
// Whatever the plugin does to its process ends that process only, and the attempt fails with one
// line saying what happened, then follows its retry policy like any failure:
//   plugin 'x' crashed: SIGSEGV during task t
//   plugin 'x' exited with status 0 during task t
//   plugin 'x' exceeded its memory limit of N MB during task t
//   plugin 'x' ignored cancel for N ms during task t; its process was killed
// A child is its own process group, dies with the host (PR_SET_PDEATHSIG), inherits no file
// descriptor but stdout, stderr and its socket, and is killed with its whole group (SIGKILL)
// when it has not finished `cancel_grace` after the attempt was cancelled or timed out.
//
// One child per attempt, not a reusable worker per plugin: it is the strongest separation (no
// attempt sees what an earlier one left behind, and a worker's death concerns exactly one
// attempt) and the simplest, at the price of a fork+exec and a plugin load per attempt (README,
// "Plugins", quotes the measured cost).
//
// Ownership: the runner holds only names and limits; each Run() owns its child and reaps it.
// Threads: Run() may be called concurrently for different attempts; each uses its own child.
#ifndef PETIT_HOST_PLUGINS_PROCESS_TASK_RUNNER_H_
#define PETIT_HOST_PLUGINS_PROCESS_TASK_RUNNER_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "petit/core/task_runner.h"

namespace petit::host {

struct ProcessIsolationOptions {
  std::string worker_executable = "/proc/self/exe";  // a petit binary of the host's version
  std::string plugin_file;                           // absolute path of the library
  std::string plugin_name;
  std::string type_name;
  bool serial = false;           // PETIT_TASK_SERIAL
  uint64_t memory_limit_mb = 0;  // 0 = none
  std::chrono::milliseconds cancel_grace{10000};
};

class ProcessTaskRunner final : public TaskRunner {
 public:
  explicit ProcessTaskRunner(ProcessIsolationOptions options) : options_(std::move(options)) {}

  AttemptResult Run(const AttemptRequest& request, AttemptControl& control) override;
  bool serial() const override { return options_.serial; }
  // The child is killed once it outlives its cancel by the grace.
  bool stops_on_cancel() const override { return true; }

 private:
  const ProcessIsolationOptions options_;
};

}  // namespace petit::host

#endif  // PETIT_HOST_PLUGINS_PROCESS_TASK_RUNNER_H_
