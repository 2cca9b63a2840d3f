// `petit simulate DIR`: loads DIR as `petit validate` does, then drives petit::testing's
// TestHarness (the real Scheduler and run engine on a virtual clock and an in-memory store) from
// --from to --until and prints what it saw. Every task type is a stand-in that succeeds at once
// unless --fail or --duration say otherwise: no plugin code runs, no command is spawned, and the
// configured store is never opened.
#include "cli/simulate_command.h"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "petit/core/clock.h"
#include "petit/core/suggest.h"
#include "petit/host/exit_codes.h"
#include "petit/testing/harness.h"
#include "runtime/load_jobs.h"

namespace petit::host {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kDefaultSpanUs = 24 * 3600 * kMicrosPerSecond;
// A bound on what one command may ask of the virtual clock: a year of a per-second schedule is
// 31 million fires, and no one reads that.
constexpr int64_t kMaxSpanUs = 366LL * 24 * 3600 * kMicrosPerSecond;
// --fail TASK@*: the attempts a task can have at most (its retries + 1) are all failed; this
// bounds the loop for a task with an absurd retry count.
constexpr uint32_t kMaxInjectedAttempts = 10'000;

using JobList = std::vector<std::shared_ptr<const Job>>;

const Job* Find(const JobList& jobs, const std::string& id) {
  for (const std::shared_ptr<const Job>& job : jobs) {
    if (job->id.str() == id) return job.get();
  }
  return nullptr;
}

// --job JOB and the jobs it depends on, transitively (they decide whether it fires); all jobs
// without --job. In the order of `all`.
Result<JobList> SelectJobs(const JobList& all, const std::optional<std::string>& wanted) {
  if (!wanted) return all;
  if (Find(all, *wanted) == nullptr) {
    std::vector<std::string_view> names;
    for (const std::shared_ptr<const Job>& job : all) names.push_back(job->id.str());
    std::string message = "--job: no job '" + *wanted + "' in the directory";
    if (std::optional<std::string> close = ClosestMatch(*wanted, names)) {
      message += " (did you mean '" + *close + "'?)";
    }
    return InvalidArgument(message);
  }
  std::set<std::string> chosen{*wanted};
  std::vector<std::string> pending{*wanted};
  while (!pending.empty()) {
    const Job* job = Find(all, pending.back());
    pending.pop_back();
    if (job == nullptr) continue;
    for (const JobDependency& dependency : job->depends_on) {
      if (chosen.insert(dependency.job.str()).second) pending.push_back(dependency.job.str());
    }
  }
  JobList selected;
  for (const std::shared_ptr<const Job>& job : all) {
    if (chosen.count(job->id.str()) != 0) selected.push_back(job);
  }
  return selected;
}

// The zone of the selected jobs' schedules when there is one (--job's first), petit.yaml's when
// no job has a schedule, else nullopt.
std::optional<std::string> CommonZone(const JobList& jobs, const std::optional<std::string>& job,
                                      const std::string& default_zone) {
  if (job) {
    const Job* chosen = Find(jobs, *job);
    if (chosen != nullptr && chosen->schedule) return chosen->schedule->time_zone();
  }
  std::set<std::string> zones;
  for (const std::shared_ptr<const Job>& each : jobs) {
    if (each->schedule) zones.insert(each->schedule->time_zone());
  }
  if (zones.size() == 1) return *zones.begin();
  if (zones.empty()) return default_zone;
  return std::nullopt;
}

std::string ZoneList(const JobList& jobs) {
  std::string out;
  for (const std::shared_ptr<const Job>& job : jobs) {
    if (!job->schedule) continue;
    out += (out.empty() ? "" : ", ") + job->id.str() + " in " + job->schedule->time_zone();
  }
  return out;
}

// A --from/--until/--stopped-at value; without an offset or zone, read in the jobs' zone.
Result<int64_t> ParseTimeOption(std::string_view option, const std::string& text,
                                const std::optional<std::string>& zone, const JobList& jobs) {
  const bool bare =
      text.find_first_of("Zz+[") == std::string::npos && text.find('-', 10) == std::string::npos;
  if (bare && !zone && ParseSimulationTime(text, "UTC").ok()) {
    return InvalidArgument(std::string(option) + " '" + text +
                           "' has no UTC offset and the jobs' schedules use several zones (" +
                           ZoneList(jobs) + "): add one (Z, -04:00, [America/New_York]) or --job");
  }
  Result<int64_t> t = ParseSimulationTime(text, zone.value_or("UTC"));
  if (!t.ok()) {
    return InvalidArgument(std::string(option) + " '" + text + "': " + t.status().message());
  }
  return t;
}

struct Window {
  int64_t from_us = 0;
  int64_t until_us = 0;
  int64_t stopped_at_us = 0;
};

Result<Window> ReadWindow(const Args& args, const std::optional<std::string>& zone,
                          const JobList& jobs) {
  Window window;
  if (args.retry_from) {
    Result<int64_t> from = ParseTimeOption("--from", *args.retry_from, zone, jobs);
    if (!from.ok()) return from.status();
    window.from_us = *from;
  } else {
    const int64_t now = SystemClock::Instance().NowMicros();
    window.from_us = now - now % kMicrosPerSecond;
  }
  window.until_us = window.from_us + kDefaultSpanUs;
  if (args.until) {
    Result<int64_t> until = ParseTimeOption("--until", *args.until, zone, jobs);
    if (!until.ok()) return until.status();
    window.until_us = *until;
  }
  if (window.until_us <= window.from_us) {
    return InvalidArgument("--until must be after --from ('" + args.until.value_or("") + "')");
  }
  if (window.until_us - window.from_us > kMaxSpanUs) {
    return InvalidArgument("--from to --until spans more than 366 days; simulate less at once");
  }
  if (args.stopped_at) {
    Result<int64_t> stopped = ParseTimeOption("--stopped-at", *args.stopped_at, zone, jobs);
    if (!stopped.ok()) return stopped.status();
    if (*stopped >= window.from_us) {
      return InvalidArgument("--stopped-at must be before --from (petit run restarts at --from)");
    }
    if (window.from_us - *stopped > kMaxSpanUs) {
      return InvalidArgument("--stopped-at is more than 366 days before --from");
    }
    window.stopped_at_us = *stopped;
  }
  const int64_t first_us = window.stopped_at_us != 0 ? window.stopped_at_us : window.from_us;
  if (Status budget = CheckFireBudget(jobs, first_us, window.until_us); !budget.ok()) {
    return InvalidArgument("--from to --until: " + budget.message());
  }
  return window;
}

// What --fail and --duration ask of the harness, resolved against the selected jobs.
Status InjectFaults(const Args& args, const JobList& jobs, testing::TestHarness& harness) {
  for (const std::string& text : args.fail_specs) {
    Result<FailSpec> spec = ParseFailSpec(text);
    if (!spec.ok()) return spec.status();
    Result<TaskRef> ref = ResolveTaskRef(spec->task, jobs);
    if (!ref.ok()) return InvalidArgument("--fail '" + text + "': " + ref.status().message());
    const Job* job = Find(jobs, ref->job.str());
    const TaskSpec& task = job->dag.task(*job->dag.IndexOf(ref->task));
    const uint32_t attempts = std::min(task.retry.max_attempts(), kMaxInjectedAttempts);
    const uint32_t last = std::min(spec->last_attempt, attempts);
    if (spec->first_attempt > attempts) {
      return InvalidArgument("--fail '" + text + "': " + ref->job.str() + "." + ref->task.str() +
                             " has at most " + std::to_string(attempts) + " attempt" +
                             (attempts == 1 ? "" : "s") + " (retry.max_retries + 1)");
    }
    for (uint32_t attempt = spec->first_attempt; attempt <= last; ++attempt) {
      harness.FailAttempt(ref->job.str(), ref->task.str(), attempt, 1,
                          "injected by --fail " + text);
    }
  }
  for (const std::string& text : args.duration_specs) {
    Result<DurationSpec> spec = ParseDurationSpec(text);
    if (!spec.ok()) return spec.status();
    Result<TaskRef> ref = ResolveTaskRef(spec->task, jobs);
    if (!ref.ok()) return InvalidArgument("--duration '" + text + "': " + ref.status().message());
    harness.Duration(ref->job.str(), ref->task.str(), std::chrono::microseconds(spec->micros));
  }
  return Status::Ok();
}

Status ToStatus(const testing::Status& status) {
  return status.ok() ? Status::Ok() : InvalidArgument(status.message());
}

}  // namespace

int CmdSimulate(const Args& args, std::unique_ptr<HostEnv> env) {
  const std::string& dir = args.operands[0];
  LoadedJobs loaded = LoadHostJobs(*env, dir);
  if (!ReportLoad(loaded)) return kExitUsage;
  JobList all;
  for (Job& job : loaded.jobs) all.push_back(std::make_shared<const Job>(std::move(job)));
  Result<JobList> selected = SelectJobs(all, args.job_filter);
  if (!selected.ok()) {
    PrintError(selected.status().message());
    return kExitUsage;
  }
  const std::optional<std::string> zone =
      CommonZone(*selected, args.job_filter, env->config().timezone);
  Result<Window> window = ReadWindow(args, zone, *selected);
  if (!window.ok()) {
    PrintError(window.status().message());
    return kExitUsage;
  }

  testing::HarnessOptions options;
  options.start_us = window->stopped_at_us != 0 ? window->stopped_at_us : window->from_us;
  options.default_time_zone = env->config().timezone;
  if (args.host.max_parallel_tasks) options.max_parallel_tasks = *args.host.max_parallel_tasks;
  options.pools = env->config().resources.pools;
  options.cpu_slots = env->config().resources.cpu_slots;
  options.memory_mb = env->config().resources.memory_mb;
  testing::TestHarness harness(options);
  if (Status load = ToStatus(harness.LoadDirectory(dir)); !load.ok()) {
    PrintError(load.message());
    return kExitUsage;
  }
  // Every task type answers "succeeded" at once, whatever plugin implements it for real.
  std::set<std::string> types;
  for (const std::shared_ptr<const Job>& job : all) {
    for (Dag::Index i = 0; i < job->dag.size(); ++i) types.insert(job->dag.task(i).type);
  }
  for (const std::string& type : types) {
    harness.StandIn(type, [](const testing::TaskCall&) { return testing::TaskReply::Success(); });
  }
  if (Status injected = InjectFaults(args, *selected, harness); !injected.ok()) {
    PrintError(injected.message());
    return kExitUsage;
  }

  Status started = ToStatus(harness.Start());
  // Jobs left out by --job never fire. With --stopped-at, the selected ones are paused from then
  // to --from: for the scheduler that is the same gap as a host that was down (on resume, as on
  // restart, each job's catch_up decides what the missed occurrences become).
  for (const std::shared_ptr<const Job>& job : all) {
    const bool chosen = Find(*selected, job->id.str()) != nullptr;
    if (!started.ok() || (chosen && window->stopped_at_us == 0)) continue;
    started = ToStatus(harness.Pause(job->id.str()));
  }
  if (started.ok() && window->stopped_at_us != 0) {
    harness.AdvanceTo(window->from_us);
    for (const std::shared_ptr<const Job>& job : *selected) {
      if (started.ok()) started = ToStatus(harness.Pause(job->id.str(), false));
    }
  }
  if (!started.ok()) {
    PrintError("the simulation could not start: " + started.message());
    return kExitHostError;
  }
  harness.AdvanceTo(window->until_us);

  Simulation simulation;
  simulation.from_us = window->from_us;
  simulation.until_us = window->until_us;
  simulation.stopped_at_us = window->stopped_at_us;
  simulation.zone = zone.value_or(env->config().timezone);
  simulation.jobs = *selected;
  simulation.timeline = harness.timeline();
  simulation.active_at_until = harness.active_runs();
  std::cout << (args.json ? RenderSimulationJson(simulation) : RenderSimulationText(simulation));
  return kExitOk;
}

}  // namespace petit::host
