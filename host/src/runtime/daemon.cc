#include "runtime/daemon.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "petit/core/clock.h"
#include "petit/core/mutex.h"
#include "petit/host/exit_codes.h"
#include "runtime/file_pages.h"
#include "runtime/load_jobs.h"
#include "runtime/recovery.h"
#include "runtime/run_options.h"
#include "runtime/signal_canceller.h"
#include "runtime/systemd_notify.h"
#include "runtime/thread_priority.h"
#include "runtime/time_format.h"

namespace petit::host {
namespace {

// How often a daemon with no active run gives back the file pages the runs since touched
// (runtime/file_pages.h): reading /proc/self/smaps takes about half a millisecond, and the next run
// faults back what it uses.
constexpr std::chrono::minutes kIdlePageDropInterval{5};

std::string_view SignalName(int signal_number) {
  switch (signal_number) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "a signal";
  }
}

void LogRunEnd(DaemonLog& log, const RunRequest& request, const Result<RunRecord>& result) {
  std::string line = "job " + request.job->id.str() + " run " + request.run_id.str();
  LogFields fields = AboutRun(request.job->id, request.run_id);
  fields.event = EventTypeName(EventType::kJobCompleted);
  if (!result.ok()) {
    // A run that gave up on its store says itself what became of it.
    const bool said = result.status().code() == StatusCode::kUnavailable &&
                      result.status().message().starts_with("run " + request.run_id.str());
    log.Error(line + (said ? "" : " could not run") + " (trigger " + request.trigger +
                  "): " + result.status().message(),
              fields);
    return;
  }
  line += " ended: " + std::string(RunStatusName(result->status)) + " in " +
          FormatDuration(result->ended_us - result->started_us) + " (trigger " + request.trigger +
          ")";
  if (!result->error.empty()) line += ": " + result->error;
  log.Info(line, fields);
}

// The store is in use by another daemon: the one refusal an operator must act on, so it explains
// the owner string it names.
Status NotStarting(const Status& status) {
  if (status.code() != StatusCode::kFailedPrecondition) return status;
  return FailedPrecondition("not starting: " + status.message() +
                            " (hostname/pid/start time of the petit run that holds it; one petit "
                            "run per store)");
}

// The NotStarting refusal when another live daemon holds `env`'s store; OK otherwise (also when
// the store cannot be opened: whoever asked reports its own failure).
Status StoreHeldByAnother(HostEnv& env) {
  Result<StateStore*> store = env.StoreForDaemon();
  if (!store.ok()) return Status::Ok();
  Result<std::string> owner = CurrentProcessOwner();
  if (!owner.ok()) return Status::Ok();
  Result<std::unique_ptr<HostLock>> lock = (*store)->AcquireHostLock(*owner);
  if (!lock.ok() && lock.status().code() == StatusCode::kFailedPrecondition) {
    return NotStarting(lock.status());
  }
  return Status::Ok();  // free: the lock taken just now goes with `lock`
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The petit.yaml settings a running daemon cannot take over: they are built into its store,
// plugins, pools, runners and (later) API server.
std::vector<std::string> RestartOnlyChanges(const GlobalConfig& running, const GlobalConfig& read) {
  std::vector<std::string> changed;
  if (running.storage_uri != read.storage_uri) changed.push_back("storage");
  if (running.plugin_dirs != read.plugin_dirs) changed.push_back("plugin_dirs");
  const ResourceCapacity& a = running.resources;
  const ResourceCapacity& b = read.resources;
  if (a.pools != b.pools) changed.push_back("pools");
  if (a.cpu_slots != b.cpu_slots) changed.push_back("cpu_slots");
  if (a.memory_mb != b.memory_mb) changed.push_back("memory_mb");
  if (a.max_tasks != b.max_tasks) changed.push_back("max_tasks");
  if (running.max_parallel_tasks != read.max_parallel_tasks) {
    changed.push_back("max_parallel_tasks");
  }
  if (running.output_cap_bytes != read.output_cap_bytes) changed.push_back("output_cap_bytes");
  if (running.store_outage_limit != read.store_outage_limit) {
    changed.push_back("store_outage_limit");
  }
  if (running.api != read.api) {
    changed.push_back("api");
  }
  if (running.logging.level != read.logging.level ||
      running.logging.format != read.logging.format) {
    changed.push_back("logging");
  }
  return changed;
}

std::string JoinIds(const std::vector<JobId>& ids) {
  std::string text;
  for (const JobId& id : ids) text += (text.empty() ? "" : ", ") + id.str();
  return text;
}

// "job id 'x' is already used by ...": the cross-file check's error, on the key "id".
std::optional<std::string> DuplicatedId(const Diagnostic& error) {
  constexpr std::string_view kPrefix = "job id '";
  if (error.key != "id" || error.message.rfind(kPrefix, 0) != 0) return std::nullopt;
  const size_t end = error.message.find('\'', kPrefix.size());
  if (end == std::string::npos) return std::nullopt;
  return error.message.substr(kPrefix.size(), end - kPrefix.size());
}

// Whether `file` is a path with errors or lies below one: a subdirectory that could not be read
// is one error on the directory, and its jobs keep their previous definition rather than vanish.
bool UnderBrokenPath(const std::string& file, const std::set<std::string>& broken) {
  if (broken.contains(file)) return true;
  for (const std::string& path : broken) {
    const std::string dir = path.ends_with('/') ? path : path + "/";
    if (file.starts_with(dir)) return true;
  }
  return false;
}

void LogNextFire(DaemonLog& log, const Daemon& daemon, const Job& job) {
  if (std::optional<int64_t> next = daemon.NextFire(job.id)) {
    log.Info("job " + job.id.str() + " (" + job.schedule->expression() + ", " +
                 job.schedule->time_zone() + ") fires next at " + job.schedule->FormatLocal(*next),
             AboutJob(job.id));
  }
}

}  // namespace

Daemon::Daemon(std::unique_ptr<HostEnv> env, DaemonLog& log) : env_(std::move(env)), log_(log) {}

Daemon::~Daemon() { Stop(StopMode::kCancelRuns); }

Result<std::unique_ptr<Daemon>> Daemon::Start(std::unique_ptr<HostEnv> env, std::vector<Job> jobs,
                                              DaemonLog& log, SchedulerOptions scheduler_options) {
  std::unique_ptr<Daemon> daemon(new Daemon(std::move(env), log));
  HostEnv& host = *daemon->env_;
  Result<StateStore*> store = host.StoreForDaemon();
  if (!store.ok()) return store.status();
  // First, as recovery must never run beside a live daemon of the same store.
  Result<std::string> lock_owner = CurrentProcessOwner();
  if (!lock_owner.ok()) return lock_owner.status();
  Result<std::unique_ptr<HostLock>> lock = (*store)->AcquireHostLock(*lock_owner);
  if (!lock.ok()) return NotStarting(lock.status());
  daemon->host_lock_ = std::move(lock).value();
  std::ostringstream recovery_lines;
  // The runs of the jobs it defines it resumes: recovery hands them over still active, so that a
  // death of this process before they are resumed never leaves them interrupted for good.
  std::set<JobId> defined;
  for (const Job& job : jobs) defined.insert(job.id);
  Result<Recovery> recovery =
      RecoverHost(**store, recovery_lines,
                  [&defined](const RunRecord& run) { return defined.contains(run.job); });
  log.Lines(recovery_lines.str());
  if (!recovery.ok()) return recovery.status().WithContext("recovery failed");
  const std::string& owner = recovery->owner;
  daemon->owner_ = owner;

  daemon->events_.Subscribe([&log](const Event& event) { LogEvent(log, event); });
  RunOptions options = HostRunOptions(host, owner);
  options.events = &daemon->events_;
  daemon->store_health_ = std::make_unique<StoreHealth>(
      [&log, limit = options.store_outage.limit](const StoreHealthChange& change) {
        // An outage at warn, the store's return at info.
        log.Log(change.available ? LogLevel::kInfo : LogLevel::kWarn,
                DescribeStoreHealth(change, limit));
      });
  daemon->write_behind_ = std::make_unique<StoreWriteBehind>(
      **store, SystemClock::Instance(), options.store_outage, daemon->store_health_.get(),
      [&log](const std::string& what) { log.Warn("state store: " + what); });
  options.store_health = daemon->store_health_.get();
  options.write_behind = daemon->write_behind_.get();
  scheduler_options.store_health = daemon->store_health_.get();
  scheduler_options.store_outage = options.store_outage;
  // The API's health tells whether the scheduler thread still turns: each beat is noted, and an
  // idle thread beats every kSchedulerTickInterval (or as often as the watchdog asks).
  constexpr int64_t kTickUs =
      std::chrono::duration_cast<std::chrono::microseconds>(kSchedulerTickInterval).count();
  scheduler_options.heartbeat = [daemon = daemon.get(),
                                 feed = std::move(scheduler_options.heartbeat)] {
    daemon->last_tick_us_.store(SystemClock::Instance().NowMicros(), std::memory_order_relaxed);
    if (feed) feed();
  };
  scheduler_options.heartbeat_interval_us =
      scheduler_options.heartbeat_interval_us > 0
          ? std::min(scheduler_options.heartbeat_interval_us, kTickUs)
          : kTickUs;
  daemon->launcher_ = std::make_unique<ThreadRunLauncher>(
      host.runners(), **store, options,
      [&log](const RunRequest& request, const Result<RunRecord>& result) {
        LogRunEnd(log, request, result);
      });

  {
    std::lock_guard jobs_lock(daemon->jobs_mu_);
    for (Job& job : jobs) {
      if (!daemon->file_texts_.contains(job.source_file)) {
        daemon->file_texts_[job.source_file] = ReadText(job.source_file);
      }
      daemon->jobs_.push_back(std::make_shared<const Job>(std::move(job)));
    }
    daemon->time_zone_ = host.config().timezone;
    daemon->shutdown_grace_ = host.config().shutdown_grace;
  }
  daemon->scheduler_ = std::make_unique<Scheduler>(daemon->jobs_, SystemClock::Instance(), **store,
                                                   *daemon->launcher_, &daemon->events_,
                                                   std::move(scheduler_options));
  const std::vector<Scheduler::ResumeRequest> resume = daemon->PlanResumes(recovery->taken_over);
  // The thread starting now counts as its first beat, so the daemon is alive from its start.
  daemon->last_tick_us_.store(SystemClock::Instance().NowMicros());
  PETIT_RETURN_IF_ERROR(daemon->scheduler_->Start(resume));

  const DaemonState state = daemon->State();
  log.Line("running " + std::to_string(state.jobs) + " jobs (" +
           std::to_string(state.scheduled_jobs) + " scheduled), state in " + state.storage_uri);
  if (state.scheduler_paused) {
    log.Line("the scheduler is paused (kept in the store): no schedule fires until it is resumed");
  }
  for (const auto& job : daemon->jobs_) LogNextFire(log, *daemon, *job);
  return daemon;
}

std::vector<std::shared_ptr<const Job>> Daemon::Jobs() const {
  std::vector<std::shared_ptr<const Job>> jobs;
  {
    std::lock_guard lock(jobs_mu_);
    jobs = jobs_;
  }
  std::sort(jobs.begin(), jobs.end(), [](const auto& a, const auto& b) { return a->id < b->id; });
  return jobs;
}

StateStore& Daemon::store() {
  // Start opened it (or failed), so this is the same pointer every time.
  return **env_->Store();
}

std::shared_ptr<const Job> Daemon::FindJob(const JobId& id) const {
  std::lock_guard lock(jobs_mu_);
  for (const auto& job : jobs_) {
    if (job->id == id) return job;
  }
  return nullptr;
}

std::vector<Scheduler::ResumeRequest> Daemon::PlanResumes(
    const std::vector<RunRecord>& taken_over) {
  std::vector<Scheduler::ResumeRequest> resumes;
  Result<StateStore*> store = env_->Store();
  if (!store.ok()) return resumes;
  const int64_t now_us = SystemClock::Instance().NowMicros();
  for (const RunRecord& run : taken_over) {
    const std::string what = "interrupted run " + run.id.str() + " of job " + run.job.str();
    // Still active in the store: a run not resumed ends interrupted (a failed mark leaves it to
    // the next start's recovery, as this process's death would).
    const auto stays_interrupted = [&](const std::string& why) {
      (void)(*store)->MarkInterrupted(run.id, run.error + "; not resumed: " + why, now_us);
      log_.Warn(what + " stays interrupted: " + why, AboutRun(run.job, run.id));
    };
    std::shared_ptr<const Job> job = FindJob(run.job);
    if (job == nullptr) {
      stays_interrupted("the job is no longer defined");
      continue;
    }
    // Listed after the takeover, which interrupted the attempts the dead host left unfinished.
    Result<std::vector<AttemptRecord>> attempts = (*store)->ListAttempts(run.id);
    if (!attempts.ok()) {
      stays_interrupted(attempts.status().message());
      continue;
    }
    auto resumption = std::make_shared<RunResumption>();
    resumption->plan = PlanRecovery(job->dag, *attempts);
    resumption->attempts = std::move(attempts).value();
    const size_t again = resumption->plan.Count(TaskPlan::kRun);
    const size_t lost = resumption->plan.Count(TaskPlan::kInterrupted);
    log_.Info("resuming " + what + ": " + std::to_string(again) + " task" +
                  (again == 1 ? "" : "s") + " to run, " + std::to_string(lost) +
                  " interrupted for good (their retry policy allows no other attempt)",
              AboutRun(run.job, run.id));
    RunRecord admitted = run;
    admitted.error.clear();  // the reason it was taken over, which the store does not keep
    resumes.push_back({job->id, run.id, std::move(resumption),
                       std::make_shared<const RunRecord>(std::move(admitted))});
  }
  return resumes;
}

Result<RunId> Daemon::Trigger(const JobId& job) { return scheduler_->Trigger(job); }

namespace {

// The scheduler refuses with kFailedPrecondition both at a job's run limit (its own count or the
// store's admission) and once stopping; front ends answer these differently.
Status ClassifyRefusal(const Status& status, bool stopping) {
  if (status.code() != StatusCode::kFailedPrecondition) return status;
  if (stopping) return Unavailable(status.message());
  return ResourceExhausted(status.message());
}

}  // namespace

Result<RunId> Daemon::Trigger(const JobId& job, const TriggerOptions& options) {
  if (stopping_.load()) return Unavailable("job '" + job.str() + "' not triggered: stopping");
  Result<RunId> run = scheduler_->Trigger(job, options);
  if (run.ok()) return run;
  return ClassifyRefusal(run.status(), stopping_.load());
}

Result<PlannedRetry> Daemon::Retry(const RunId& run, const RetryRequest& request, bool dry_run) {
  Result<StateStore*> store = env_->Store();
  if (!store.ok()) return store.status();
  auto find_job = [this](const JobId& id) { return FindJob(id); };
  Result<PlannedRetry> planned = PlanRunRetry(**store, find_job, run, request);
  if (!planned.ok() || dry_run) return planned;
  if (stopping_.load()) return Unavailable("run " + run.str() + " not retried: stopping");
  Result<RunId> started = scheduler_->Retry(planned->job->id, run, planned->resumption);
  if (!started.ok()) return ClassifyRefusal(started.status(), stopping_.load());
  return planned;
}

Status Daemon::SetPaused(const JobId& job, bool paused) {
  return scheduler_->SetPaused(job, paused);
}

Status Daemon::PauseScheduler() {
  PETIT_RETURN_IF_ERROR(scheduler_->SetSchedulerPaused(true));
  log_.Line("scheduler paused: no schedule fires until it is resumed; manual triggers still run");
  return Status::Ok();
}

Status Daemon::ResumeScheduler() {
  PETIT_RETURN_IF_ERROR(scheduler_->SetSchedulerPaused(false));
  log_.Line("scheduler resumed: missed occurrences are caught up per each job's catch_up");
  return Status::Ok();
}

Status Daemon::Cancel(const RunId& run) {
  PETIT_RETURN_IF_ERROR(scheduler_->Cancel(run));
  log_.Info("run " + run.str() + ": cancel requested", AboutRun(JobId(), run));
  return Status::Ok();
}

Result<std::optional<RunRecord>> Daemon::GetRun(const RunId& run) {
  Result<StateStore*> store = env_->Store();
  if (!store.ok()) return store.status();
  return (*store)->GetRun(run);
}

void Daemon::SweepDeadOwners() {
  if (stopping_.load() || owner_.empty()) return;
  Result<StateStore*> store = env_->Store();
  if (!store.ok()) return;
  std::ostringstream lines;
  Result<RecoveredRuns> recovered =
      RecoverDeadRuns(**store, owner_, SystemClock::Instance().NowMicros(), nullptr, &lines,
                      /*repair_stranded=*/false);
  log_.Lines(lines.str());
  if (!recovered.ok()) {
    // An outage is told once by the store's health; this retries at the next sweep.
    log_.Debug("dead-owner sweep: " + recovered.status().message());
    return;
  }
  for (const RunRecord& run : recovered->interrupted) {
    log_.Warn(DescribeInterrupted(run), AboutRun(run.job, run.id));
  }
}

void Daemon::Stop(StopMode mode) {
  BeginStopping();
  if (scheduler_) scheduler_->Stop(mode);
}

void Daemon::Drain(std::chrono::milliseconds grace, RunCanceller& cancel_now) {
  BeginStopping();
  if (!scheduler_) return;
  std::mutex mu;
  std::condition_variable changed;
  bool ended = false;         // guarded by mu
  bool cancel_asked = false;  // guarded by mu
  const RunCanceller::WakeupId wakeup = cancel_now.AddWakeup([&] {
    std::lock_guard lock(mu);
    cancel_asked = true;
    changed.notify_all();
  });
  // Stop waits for the runs; this thread watches the grace and the second signal meanwhile.
  std::thread stopper([&] {
    scheduler_->Stop(StopMode::kWaitForRuns);
    std::lock_guard lock(mu);
    ended = true;
    changed.notify_all();
  });
  const auto deadline = std::chrono::steady_clock::now() + grace;
  {
    std::unique_lock lock(mu);
    changed.wait_until(lock, deadline, [&] { return ended || cancel_asked; });
    if (!ended) {
      const bool asked = cancel_asked;
      lock.unlock();
      const uint64_t active = State().active_runs;
      log_.Warn(std::string(asked ? "second signal" : "shutdown grace over") + ": cancelling " +
                std::to_string(active) + " active run" + (active == 1 ? "" : "s"));
      scheduler_->CancelActiveRuns();
    }
  }
  stopper.join();
  cancel_now.RemoveWakeup(wakeup);
}

Result<ReloadSummary> Daemon::Reload(const HostOptions& host) {
  std::lock_guard reload_lock(reload_mu_);
  ReloadSummary summary;
  const std::string dir = host.jobs_dir.value_or(".");
  std::string time_zone;
  std::chrono::seconds grace;
  {
    std::lock_guard lock(jobs_mu_);
    time_zone = time_zone_;
    grace = shutdown_grace_;
  }

  std::vector<Diagnostic> config_problems;
  Result<GlobalConfig> config =
      ResolveGlobalConfig(host.config_path, host.jobs_dir, &config_problems);
  if (!config.ok()) {
    for (const Diagnostic& problem : config_problems) log_.Error(problem.ToString());
    if (config_problems.empty()) log_.Error(config.status().message());
    summary.errors += std::max<size_t>(1, config_problems.size());
    log_.Warn("reload: petit.yaml has errors: its previous settings stay");
  } else {
    if (host.max_parallel_tasks) config->max_parallel_tasks = *host.max_parallel_tasks;
    summary.needs_restart = RestartOnlyChanges(env_->config(), *config);
    time_zone = config->timezone;
    grace = config->shutdown_grace;
  }

  LoadedJobs loaded = LoadHostJobs(*env_, dir, time_zone);
  for (const Diagnostic& warning : loaded.warnings) log_.Warn(warning.ToString());
  std::set<std::string> broken_files;
  std::set<std::string> duplicated_ids;
  for (const Diagnostic& error : loaded.errors) {
    log_.Error(error.ToString());
    broken_files.insert(error.file);
    if (std::optional<std::string> id = DuplicatedId(error)) duplicated_ids.insert(*id);
  }
  summary.errors += loaded.errors.size();

  std::lock_guard lock(jobs_mu_);
  const bool defaults_changed = time_zone != time_zone_;
  std::map<std::string, std::shared_ptr<const Job>> previous;
  for (const auto& job : jobs_) previous.emplace(job->id.str(), job);
  std::vector<std::shared_ptr<const Job>> next;
  std::set<std::string> ids;
  std::map<std::string, std::string> texts;  // of the files whose jobs are taken as read now
  for (const auto& job : jobs_) {
    if (!UnderBrokenPath(job->source_file, broken_files) &&
        !duplicated_ids.contains(job->id.str())) {
      continue;
    }
    next.push_back(job);
    ids.insert(job->id.str());
    summary.kept.push_back(job->id);
    texts[job->source_file] = file_texts_[job->source_file];
  }
  for (Job& job : loaded.jobs) {
    // A declaration of an id that keeps its previous definition, or of a new duplicated id, which
    // starts only once it is declared once.
    if (ids.contains(job.id.str()) || duplicated_ids.contains(job.id.str())) continue;
    if (!texts.contains(job.source_file)) texts[job.source_file] = ReadText(job.source_file);
    ids.insert(job.id.str());
    auto old = previous.find(job.id.str());
    if (old == previous.end()) {
      summary.added.push_back(job.id);
    } else if (!defaults_changed && old->second->source_file == job.source_file &&
               file_texts_[job.source_file] == texts[job.source_file]) {
      ++summary.unchanged;
      next.push_back(old->second);  // the same definition: nothing to re-arm
      continue;
    } else {
      summary.changed.push_back(job.id);
    }
    next.push_back(std::make_shared<const Job>(std::move(job)));
  }
  for (const auto& job : jobs_) {
    if (!ids.contains(job->id.str())) summary.removed.push_back(job->id);
  }
  PETIT_RETURN_IF_ERROR(scheduler_->UpdateJobs(next));
  jobs_ = std::move(next);
  file_texts_ = std::move(texts);
  time_zone_ = time_zone;
  shutdown_grace_ = grace;

  for (auto* list : {&summary.added, &summary.changed, &summary.removed, &summary.kept}) {
    std::sort(list->begin(), list->end(),
              [](const JobId& a, const JobId& b) { return a.str() < b.str(); });
  }
  for (const std::string& file : broken_files) {
    log_.Warn("reload: " + file + " has errors: its jobs keep their previous definition");
  }
  if (!summary.needs_restart.empty()) {
    std::string names;
    for (const std::string& name : summary.needs_restart)
      names += (names.empty() ? "" : ", ") + name;
    log_.Warn("reload: petit.yaml: " + names +
              " changed: needs a restart (the running values stay until then)");
  }
  std::string line = "reload: " + std::to_string(jobs_.size()) + " jobs";
  if (!summary.added.empty()) line += "; added " + JoinIds(summary.added);
  if (!summary.changed.empty()) line += "; changed " + JoinIds(summary.changed);
  if (!summary.removed.empty()) line += "; removed " + JoinIds(summary.removed);
  if (!summary.kept.empty()) {
    line += "; kept the previous definition of " + JoinIds(summary.kept) + " (errors above)";
  }
  line += "; " + std::to_string(summary.unchanged) + " unchanged";
  if (summary.errors > 0) {
    line += "; " + std::to_string(summary.errors) + (summary.errors == 1 ? " error" : " errors");
  }
  line += "; plugins are not reloaded (restart petit to load new or updated plugins)";
  log_.Line(line);
  for (const auto& job : jobs_) {
    const bool armed_anew =
        std::binary_search(summary.added.begin(), summary.added.end(), job->id,
                           [](const JobId& a, const JobId& b) { return a.str() < b.str(); }) ||
        std::binary_search(summary.changed.begin(), summary.changed.end(), job->id,
                           [](const JobId& a, const JobId& b) { return a.str() < b.str(); });
    if (armed_anew) LogNextFire(log_, *this, *job);
  }
  return summary;
}

std::chrono::seconds Daemon::shutdown_grace() const {
  std::lock_guard lock(jobs_mu_);
  return shutdown_grace_;
}

DaemonState Daemon::State() const {
  DaemonState state;
  std::lock_guard lock(jobs_mu_);
  state.jobs = jobs_.size();
  for (const auto& job : jobs_) {
    if (job->schedule && job->enabled) ++state.scheduled_jobs;
  }
  state.storage_uri = env_->storage_uri();
  if (store_health_) state.store = store_health_->snapshot();
  if (scheduler_) {
    const SchedulerStats stats = scheduler_->stats();
    state.active_runs = stats.active_runs;
    state.fired = stats.fired;
    state.refused = stats.refused;
    state.scheduler_paused = stats.paused;
  }
  state.stopping = stopping_.load();
  state.scheduler_last_tick_us = last_tick_us_.load(std::memory_order_relaxed);
  const int64_t stall_us =
      std::chrono::duration_cast<std::chrono::microseconds>(kSchedulerStallLimit).count();
  state.scheduler_alive =
      scheduler_ != nullptr && !state.stopping && state.scheduler_last_tick_us > 0 &&
      SystemClock::Instance().NowMicros() - state.scheduler_last_tick_us < stall_us;
  return state;
}

std::optional<int64_t> Daemon::NextFire(const JobId& job) const {
  if (!scheduler_) return std::nullopt;
  return scheduler_->NextFire(job);
}

std::vector<Scheduler::JobState> Daemon::JobStates() const {
  if (!scheduler_) return {};
  return scheduler_->JobStates();
}

std::vector<ResourceManager::PoolUsage> Daemon::PoolUsage() const {
  return env_->resources().Usage();
}

int ServeUntilSignalled(std::unique_ptr<HostEnv> env, std::vector<Job> jobs,
                        const HostOptions& host, DaemonCompanion* companion) {
  DaemonLog log(env->config().logging);
  const SystemdNotifier systemd;
  // Read by the signal thread's message; a reload may change it.
  std::atomic<int64_t> grace_seconds{env->config().shutdown_grace.count()};
  // The main thread waits here for a stop (drain cancelled) or a reload (SIGHUP).
  std::mutex mu;
  std::condition_variable requested;
  bool reload_requested = false;  // guarded by mu
  bool store_lost = false;        // guarded by mu
  // Before any thread starts, so every thread inherits the blocked SIGTERM/SIGINT/SIGHUP.
  RunCanceller drain;
  RunCanceller cancel_now;
  SignalCanceller signals(
      drain, cancel_now,
      [&log, &grace_seconds](int signal_number, int count) {
        const std::string name(SignalName(signal_number));
        if (count == 1) {
          log.Line("received " + name + ": draining (no new fires; running tasks get " +
                   std::to_string(grace_seconds.load()) +
                   " s to finish; a second signal cancels them, a third exits at once)");
        } else {
          log.Warn("received " + name + " again: cancelling the active runs now");
        }
      },
      [&] {
        std::lock_guard lock(mu);
        reload_requested = true;
        requested.notify_all();
      });

  SchedulerOptions scheduler_options;
  scheduler_options.on_thread_start = [&log] {
    std::string detail;
    RaiseThreadPriority(/*allow_realtime=*/true, detail);
    log.Info(detail);
  };
  if (systemd.watchdog_feed_interval_us() > 0) {
    // The scheduler thread feeds it: a scheduler stuck on its lock stops the feeding and systemd
    // restarts the service.
    scheduler_options.heartbeat = [&systemd] { systemd.FeedWatchdog(); };
    scheduler_options.heartbeat_interval_us = systemd.watchdog_feed_interval_us();
  }
  // A store lost for good (its SQLite file deleted, replaced or made unwritable) records nothing
  // more: the daemon stops starting runs, drains as on SIGTERM and exits non-zero, so that a
  // supervisor restarts it on a store it can write, rather than firing into a file nobody reads.
  if (Result<StateStore*> store = env->StoreForDaemon(); store.ok()) {
    (*store)->SetLostListener([&](const Status& status) {
      log.Error("state store lost: " + status.message() +
                "; no new runs start, stopping once the active ones end (exit 3)");
      std::lock_guard lock(mu);
      store_lost = true;
      requested.notify_all();
    });
  }
  if (companion != nullptr) {
    if (Status prepared = companion->Prepare(log); !prepared.ok()) {
      // A second daemon of the same petit.yaml finds the port taken by the first: the refusal to
      // act on is the store's, which names that daemon.
      if (Status held = StoreHeldByAnother(*env); !held.ok()) {
        log.Error(held.message());
        return kExitHostError;
      }
      log.Error(prepared.message());
      return kExitHostError;
    }
  }
  Result<std::unique_ptr<Daemon>> daemon =
      Daemon::Start(std::move(env), std::move(jobs), log, std::move(scheduler_options));
  if (!daemon.ok()) {
    if (companion != nullptr) companion->Stop();
    log.Error(daemon.status().message());
    return kExitHostError;
  }
  if (companion != nullptr) companion->Start(**daemon);
  systemd.Ready();
  // What start-up touched (runtime/file_pages.h): most of an idle daemon's RSS until now.
  DropCleanFilePages();

  const RunCanceller::WakeupId wakeup = drain.AddWakeup([&] {
    std::lock_guard lock(mu);
    requested.notify_all();
  });
  auto last_page_drop = std::chrono::steady_clock::now();
  for (;;) {
    {
      std::unique_lock lock(mu);
      if (!requested.wait_for(lock, kDeadOwnerSweepInterval, [&] {
            return drain.cancelled() || reload_requested || store_lost;
          })) {
        lock.unlock();
        (*daemon)->SweepDeadOwners();
        // The code and data the runs since the last drop touched, once none is running.
        if (std::chrono::steady_clock::now() - last_page_drop >= kIdlePageDropInterval &&
            (*daemon)->State().active_runs == 0) {
          DropCleanFilePages();
          last_page_drop = std::chrono::steady_clock::now();
        }
        continue;
      }
      if (drain.cancelled() || store_lost) break;
      reload_requested = false;
    }
    systemd.Reloading();
    log.Line("received SIGHUP: reloading the job directory and petit.yaml");
    Result<ReloadSummary> reloaded = (*daemon)->Reload(host);
    if (!reloaded.ok()) log.Error("reload failed: " + reloaded.status().message());
    (*daemon)->SweepDeadOwners();  // an operator's reload is a moment to look, too
    grace_seconds = (*daemon)->shutdown_grace().count();
    systemd.Ready();
    DropCleanFilePages();
  }
  drain.RemoveWakeup(wakeup);
  systemd.Stopping();

  (*daemon)->BeginStopping();
  const uint64_t active = (*daemon)->State().active_runs;
  log.Line("stopping: no new fires; waiting for " + std::to_string(active) + " active run" +
           (active == 1 ? "" : "s"));
  // The scheduler thread, which fed the watchdog, is gone while the runs drain: keep feeding it
  // until they have ended, whatever systemd does with the watchdog while a unit stops.
  bool drained = false;  // guarded by mu
  std::thread feeder;
  if (systemd.watchdog_feed_interval_us() > 0) {
    feeder = std::thread([&] {
      std::unique_lock lock(mu);
      while (!requested.wait_for(lock,
                                 std::chrono::microseconds(systemd.watchdog_feed_interval_us()),
                                 [&] { return drained; })) {
        systemd.FeedWatchdog();
      }
    });
  }
  // The API answers through the drain (health and status say stopping, triggers get 503), so an
  // operator can still see and cancel a run that holds the stop; it closes once they ended.
  (*daemon)->Drain((*daemon)->shutdown_grace(), cancel_now);
  if (companion != nullptr) companion->Stop();
  if (feeder.joinable()) {
    {
      std::lock_guard lock(mu);
      drained = true;
      requested.notify_all();
    }
    feeder.join();
  }
  std::lock_guard lock(mu);
  if (store_lost) {
    log.Error("stopped: the state store was lost");
    return kExitHostError;
  }
  log.Line("stopped");
  return kExitOk;
}

}  // namespace petit::host
