// `petit simulate DIR`: what the scheduler would fire and the engine would run between two
// instants, for the jobs of DIR, on a virtual clock, without running any command. The pieces the
// command is made of, apart so tests reach them: the parsers of its arguments (times, durations,
// --fail and --duration specs) and the renderers of a simulated timeline (text and JSON).
//
// The simulation itself is petit::testing's TestHarness (the real Scheduler and run engine on a
// ManualClock and an in-memory store, stand-in task runners); this file only drives and prints.
//
// Threads: pure functions, except CmdSimulate (main thread).
#ifndef PETIT_HOST_CLI_SIMULATE_COMMAND_H_
#define PETIT_HOST_CLI_SIMULATE_COMMAND_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "petit/core/job.h"
#include "petit/core/status.h"
#include "petit/testing/timeline.h"

namespace petit::host {

// An instant given as ISO 8601: "2026-11-01T00:00Z", "2026-11-01T00:00:30-04:00",
// "2026-11-01T00:00[America/New_York]", "2026-11-01" (midnight), or with no offset nor zone,
// read in `default_zone` with the schedules' DST rule (a gap's wall time is the gap's end, a
// fold's its first occurrence). Instants before 1970 are refused: schedules do not fire before
// the epoch. Epoch µs, or why not (the message names neither the option
// nor the text; the caller does).
Result<int64_t> ParseSimulationTime(std::string_view text, std::string_view default_zone);

// "90s", "5m", "1h30m", "250ms", "2d" (units largest first, each once); "0s" is allowed.
Result<int64_t> ParseSimulationDuration(std::string_view text);

// --fail TASK@N: attempts first..last (1-based) of `task` fail.
struct FailSpec {
  static constexpr uint32_t kEveryAttempt = std::numeric_limits<uint32_t>::max();
  std::string task;  // as written: "job.task" or "task"
  uint32_t first_attempt = 1;
  uint32_t last_attempt = 1;  // kEveryAttempt for TASK@*
};
Result<FailSpec> ParseFailSpec(std::string_view text);

// --duration TASK=D.
struct DurationSpec {
  std::string task;
  int64_t micros = 0;
};
Result<DurationSpec> ParseDurationSpec(std::string_view text);

// A task of one of `jobs`, named "job.task" or, when only one of the jobs has it, "task".
struct TaskRef {
  JobId job;
  TaskId task;
};
Result<TaskRef> ResolveTaskRef(std::string_view name,
                               std::span<const std::shared_ptr<const Job>> jobs);

// The schedule fires one command may simulate, summed over its jobs: beyond, the run would take
// minutes and its timeline no one reads (a year of a per-second cron is 31 million fires).
inline constexpr size_t kMaxSimulatedFires = 20'000;
// Ok if the schedules of `jobs` fire at most `max_fires` times in (from_us, until_us], else why
// not, naming the busiest job (the message names no option; the caller adds that).
Status CheckFireBudget(std::span<const std::shared_ptr<const Job>> jobs, int64_t from_us,
                       int64_t until_us, size_t max_fires = kMaxSimulatedFires);

struct Simulation {
  int64_t from_us = 0;
  int64_t until_us = 0;
  std::string zone;                              // the zone the timeline's times are shown in
  std::vector<std::shared_ptr<const Job>> jobs;  // the simulated jobs (for schedules and DST)
  testing::Timeline timeline;                    // what the harness saw, in order
  int64_t stopped_at_us = 0;                     // --stopped-at, 0 when not given
  size_t active_at_until = 0;                    // runs still active when the clock reached until
};

// The timeline for people: one line per decision or attempt, with DST notes under the fires they
// concern, then a summary line.
std::string RenderSimulationText(const Simulation& simulation);
// One JSON document: {"from","until","zone","jobs":[...],"events":[...],"summary":{...}}; README
// documents the fields.
std::string RenderSimulationJson(const Simulation& simulation);

}  // namespace petit::host

#endif  // PETIT_HOST_CLI_SIMULATE_COMMAND_H_
