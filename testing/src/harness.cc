#include "petit/testing/harness.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <iostream>
#include <limits>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <utility>

#include "config/job_loader.h"
#include "memory/memory_state_store.h"
#include "petit/core/clock.h"
#include "petit/core/events.h"
#include "petit/core/execute_run.h"
#include "petit/core/job.h"
#include "petit/core/resources.h"
#include "petit/core/scheduler.h"
#include "petit/core/state_store.h"
#include "petit/core/task_runner.h"
#include "plugins/plugin_loader.h"
#include "plugins/plugin_task_runner.h"
#include "timeline_recorder.h"

namespace petit::testing {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

Status ToSdk(const ::petit::Status& status) {
  return status.ok() ? Status::Ok() : Status::Error(status.message());
}

// One injected fault: what FailAttempt, TimeOutAttempt, ExitCode and Duration record.
struct Fault {
  enum class Kind : uint8_t { kFail, kTimeout, kExit, kDuration };
  Kind kind = Kind::kFail;
  std::string job;  // empty: every job
  std::string task;
  uint32_t attempt = 0;  // 0: every attempt
  int32_t code = 1;
  std::string error;
  std::chrono::microseconds duration{0};

  bool Matches(const AttemptRequest& request) const {
    return (job.empty() || job == request.job.str()) && task == request.task.str() &&
           (attempt == 0 || attempt == request.attempt);
  }
};

// A stand-in attempt waiting for virtual time (or, hanging, for its cancel).
// Due ones are released one at a time, in the order (deadline, run launch order, task, attempt),
// each once the system is quiescent again, so that attempts ending at one instant end in an order
// that does not depend on thread scheduling.
struct Blocked {
  int64_t deadline_us = kNever;
  bool hang = false;
  uint64_t run_seq = 0;
  std::string task;
  uint32_t attempt = 0;
  bool cancelled = false;  // under Impl::mu
  bool released = false;   // under Impl::mu: its time came and the harness let it go
};

// One run the harness launched, as its quiescence is judged: see RunsSettled.
struct RunTrack : RunObserver {
  std::string job;
  RunId id;
  uint64_t seq = 0;  // launch order
  // Under Impl::mu.
  bool idle = false;  // its coordinator sleeps with nothing posted (RunOptions::on_idle)
  int64_t idle_deadline_us = 0;
  uint64_t started = 0;      // attempts started (OnTaskStarted)
  uint64_t completions = 0;  // attempt completions posted to the coordinator (RunIdleState)
  std::vector<std::shared_ptr<Blocked>> blocked;
  bool done = false;  // ExecuteRun returned and the scheduler was told
  // Set before the thread starts.
  std::function<void()> on_started;
  std::function<void(const TaskSpec&, const AttemptRecord&, int64_t)> on_retrying;
  RunCanceller canceller;
  std::thread thread;

  void OnTaskStarted(const TaskSpec& /*task*/, uint32_t /*attempt*/) override { on_started(); }
  void OnTaskRetrying(const TaskSpec& task, const AttemptRecord& failed,
                      int64_t retry_at_us) override {
    on_retrying(task, failed, retry_at_us);
  }
};

class TrackHandle final : public RunHandle {
 public:
  explicit TrackHandle(std::shared_ptr<RunTrack> track) : track_(std::move(track)) {}
  void Cancel() override { track_->canceller.Cancel(); }

 private:
  std::shared_ptr<RunTrack> track_;
};

// The retry jitter of a run, from its job and launch order (FNV-1a, then mixed): the same jobs
// and inputs give the same delays on every run of a test or of `petit simulate`.
uint64_t JitterSeed(const std::string& job, uint64_t run_seq) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (char c : job) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ULL;
  h ^= run_seq * 0x9E3779B97F4A7C15ULL;
  h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ULL;
  return h ^ (h >> 31);
}

}  // namespace

struct TestHarness::Impl final : public RunLauncher {
  explicit Impl(HarnessOptions harness_options)
      : options(std::move(harness_options)), clock(options.start_us) {
    subscription = bus.Subscribe([this](const Event& event) { recorder.OnEvent(event); });
    if (!options.plugin_dirs.empty()) LoadPlugins();
    registry = std::make_shared<TaskRunnerRegistry>();
    if (!options.pools.empty() || options.cpu_slots != 0 || options.memory_mb != 0) {
      ResourceCapacity capacity;
      capacity.pools = options.pools;
      capacity.cpu_slots = options.cpu_slots;
      capacity.memory_mb = options.memory_mb;
      ::petit::Result<std::unique_ptr<ResourceManager>> made = ResourceManager::Create(capacity);
      if (made.ok()) {
        resources = std::move(made).value();
      } else {
        load_errors.push_back(made.status().message());
      }
    }
  }

  ~Impl() override {
    StopScheduler();
    bus.Flush();
    bus.Unsubscribe(subscription);
  }

  void LoadPlugins() {
    host::PluginLoader loader("petit-testing");
    for (const std::string& dir : options.plugin_dirs) {
      loader.LoadDirectory(dir, host::PluginLoader::MissingDirectory::kError);
    }
    plugins = loader.Release();
    for (const ::petit::Status& error : plugins.errors) load_errors.push_back(error.message());
    for (const auto& plugin : plugins.plugins) {
      for (const host::PluginTaskType& type : plugin->task_types()) {
        ::petit::Result<std::shared_ptr<TaskRunner>> runner =
            host::MakePluginTaskRunner(plugin, type.info.name);
        if (!runner.ok()) {
          load_errors.push_back(runner.status().message());
          continue;
        }
        real_runners.emplace(type.info.name, *std::move(runner));
        if (type.info.params_schema_json) {
          params_schemas.emplace(type.info.name, *type.info.params_schema_json);
        }
      }
    }
  }

  // --- task types ---------------------------------------------------------------------------

  // The runner behind every task type: a stand-in, a fault, or a real plugin's runner.
  class Runner final : public TaskRunner {
   public:
    explicit Runner(Impl& impl) : impl_(impl) {}
    AttemptResult Run(const AttemptRequest& request, AttemptControl& control) override {
      std::shared_ptr<RunTrack> track = impl_.FindTrack(request.run.str());
      AttemptResult result;
      try {
        result = impl_.RunAttempt(request, control, track);
      } catch (const std::exception& e) {
        result = AttemptResult{AttemptOutcome::kFailed, std::nullopt,
                               std::string("the stand-in threw: ") + e.what()};
      } catch (...) {
        result =
            AttemptResult{AttemptOutcome::kFailed, std::nullopt, "the stand-in threw an exception"};
      }
      return result;
    }
    // Stand-ins stop when cancelled; real plugins are run in process by the host's own runner.
    bool stops_on_cancel() const override { return true; }

   private:
    Impl& impl_;
  };

  // While alive, the attempt runs code that takes real time (a stand-in function or a real
  // plugin); WaitQuiescent names these when nothing happens for options.stall_report_after.
  class InRealTime {
   public:
    InRealTime(Impl& impl, const AttemptRequest& request, const std::string& what) : impl_(impl) {
      std::lock_guard lock(impl_.mu);
      it_ = impl_.in_real_time.insert(what + " in " + request.job.str() + "." + request.task.str() +
                                      " attempt " + std::to_string(request.attempt));
    }
    ~InRealTime() {
      std::lock_guard lock(impl_.mu);
      impl_.in_real_time.erase(it_);
    }
    InRealTime(const InRealTime&) = delete;
    InRealTime& operator=(const InRealTime&) = delete;

   private:
    Impl& impl_;
    std::multiset<std::string>::iterator it_;
  };

  // With mu held, after stall_report_after of real time with nothing changing: says what the
  // harness waits for, once per stall, so a stand-in that blocks is named instead of hanging the
  // test without a word.
  void ReportStallLocked() {
    std::string message = "petit::testing: nothing has happened for " +
                          std::to_string(options.stall_report_after.count()) +
                          " ms of real time; still waiting for ";
    if (in_real_time.empty()) {
      message += "the engine (no stand-in or plugin is running)";
    } else {
      bool first = true;
      for (const std::string& what : in_real_time) {
        message += (first ? "" : ", ") + what;
        first = false;
      }
      message +=
          " to return (a stand-in must return; TaskReply::Hang() or a duration waits in virtual "
          "time)";
    }
    if (options.on_stall) {
      options.on_stall(message);
    } else {
      std::cerr << message << std::endl;
    }
  }

  AttemptResult RunAttempt(const AttemptRequest& request, AttemptControl& control,
                           const std::shared_ptr<RunTrack>& track) {
    StandInFn stand_in;
    std::vector<Fault> matching;
    TaskRunner* real = nullptr;
    {
      std::lock_guard lock(mu);
      auto it = stand_ins.find(request.type);
      if (it != stand_ins.end()) stand_in = it->second;
      for (const Fault& fault : faults) {
        if (fault.Matches(request)) matching.push_back(fault);
      }
    }
    if (!stand_in) {
      auto it = real_runners.find(request.type);
      if (it != real_runners.end()) real = it->second.get();
    }
    const bool replaces = std::any_of(matching.begin(), matching.end(), [](const Fault& f) {
      return f.kind != Fault::Kind::kDuration;
    });
    if (real != nullptr && !replaces) {
      // A real plugin; an injected duration passes first, in virtual time.
      std::chrono::microseconds duration{0};
      for (const Fault& fault : matching) duration = fault.duration;
      if (duration.count() > 0 &&
          !WaitVirtual(track, control, duration, false, request.task.str(), request.attempt)) {
        return AttemptResult{AttemptOutcome::kCancelled, std::nullopt, "cancelled"};
      }
      InRealTime busy(*this, request, "the plugin of type '" + request.type + "'");
      return real->Run(request, control);
    }
    TaskCall call = MakeCall(request);
    TaskReply reply;
    {
      InRealTime busy(*this, request, "the stand-in of type '" + request.type + "'");
      reply = stand_in ? stand_in(call) : TaskReply::Success();
    }
    for (const Fault& fault : matching) {
      const std::chrono::microseconds duration = reply.duration;
      switch (fault.kind) {
        case Fault::Kind::kFail:
          reply = TaskReply::Failure(fault.error, fault.code);
          reply.duration = duration;
          break;
        case Fault::Kind::kTimeout:
          reply.hang = true;
          break;
        case Fault::Kind::kExit:
          reply = TaskReply::Exit(fault.code);
          reply.duration = duration;
          break;
        case Fault::Kind::kDuration:
          reply.duration = fault.duration;
          break;
      }
    }
    if ((reply.hang || reply.duration.count() > 0) &&
        !WaitVirtual(track, control, reply.duration, reply.hang, request.task.str(),
                     request.attempt)) {
      return AttemptResult{AttemptOutcome::kCancelled, std::nullopt, "cancelled"};
    }
    for (const auto& [key, value] : reply.outputs) {
      ::petit::Status set = control.SetOutput(key, value);
      if (!set.ok()) {
        return AttemptResult{AttemptOutcome::kFailed, std::nullopt,
                             "output '" + key + "': " + set.message()};
      }
    }
    if (!reply.stdout_data.empty()) control.AppendOutput(OutputStream::kStdout, reply.stdout_data);
    if (!reply.stderr_data.empty()) control.AppendOutput(OutputStream::kStderr, reply.stderr_data);
    AttemptResult result;
    result.exit_code = reply.exit_code;
    switch (reply.outcome) {
      case TaskReply::Outcome::kSucceeded:
        result.outcome = AttemptOutcome::kSucceeded;
        break;
      case TaskReply::Outcome::kFailed:
        result.outcome = AttemptOutcome::kFailed;
        break;
      case TaskReply::Outcome::kTransientFailure:
        result.outcome = AttemptOutcome::kTransientFailure;
        break;
      case TaskReply::Outcome::kInvalidParams:
        result.outcome = AttemptOutcome::kInvalidParams;
        break;
    }
    if (result.outcome != AttemptOutcome::kSucceeded) {
      result.error = reply.error.empty() ? "failed" : reply.error;
    }
    return result;
  }

  // Blocks the calling attempt until the virtual clock has moved `duration` on (or, `hang`,
  // until it is cancelled); false when it was cancelled first.
  bool WaitVirtual(const std::shared_ptr<RunTrack>& track, AttemptControl& control,
                   std::chrono::microseconds duration, bool hang, const std::string& task,
                   uint32_t attempt) {
    auto blocked = std::make_shared<Blocked>();
    blocked->hang = hang;
    blocked->task = task;
    blocked->attempt = attempt;
    // The cancel hook first: once the harness counts this attempt as waiting for virtual time, a
    // cancel (a timeout, once the clock moves) must reach it.
    control.OnCancel([this, blocked] {
      std::lock_guard lock(mu);
      blocked->cancelled = true;
      ChangedLocked();
    });
    {
      std::lock_guard lock(mu);
      blocked->deadline_us = hang ? kNever : clock.NowMicros() + duration.count();
      if (track) {
        blocked->run_seq = track->seq;
        track->blocked.push_back(blocked);
      }
      ChangedLocked();
    }
    bool cancelled = false;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return blocked->cancelled || blocked->released; });
      cancelled = blocked->cancelled;
      if (track) std::erase(track->blocked, blocked);
      ChangedLocked();
    }
    control.OnCancel([] {});
    return !cancelled;
  }

  TaskCall MakeCall(const AttemptRequest& request) const {
    TaskCall call;
    call.job = request.job.str();
    call.run = request.run.str();
    call.task = request.task.str();
    call.type = request.type;
    call.attempt = request.attempt;
    call.params_json = request.params_json;
    call.timeout = request.timeout;
    call.now_us = clock.NowMicros();
    if (request.inputs) {
      request.inputs->ForEach([&](std::string_view task, const ValueMap& outputs) {
        for (const auto& [key, value] : outputs) {
          call.inputs[std::string(task) + "." + key] = value;
        }
      });
    }
    if (request.config) {
      for (const auto& [key, value] : *request.config) call.config[key] = value;
    }
    return call;
  }

  // Every task type the jobs use, the stand-ins and the plugins declare, each served by a Runner.
  void RebuildRegistry() {
    std::set<std::string> types;
    for (const auto& [id, job] : jobs) {
      for (Dag::Index i = 0; i < job->dag.size(); ++i) types.insert(job->dag.task(i).type);
    }
    {
      std::lock_guard lock(mu);
      for (const auto& [type, fn] : stand_ins) types.insert(type);
    }
    for (const auto& [type, runner] : real_runners) types.insert(type);
    auto fresh = std::make_shared<TaskRunnerRegistry>();
    for (const std::string& type : types) (void)fresh->Register(type, shared_runner);
    std::lock_guard lock(mu);
    registry = std::move(fresh);
  }

  // A type with neither stand-in nor plugin, when those are errors.
  Status CheckTypes(const std::vector<Job>& loaded) {
    if (options.succeed_unknown_types) return Status::Ok();
    std::string missing;
    std::lock_guard lock(mu);
    for (const Job& job : loaded) {
      for (Dag::Index i = 0; i < job.dag.size(); ++i) {
        const TaskSpec& task = job.dag.task(i);
        if (stand_ins.count(task.type) == 0 && real_runners.count(task.type) == 0) {
          if (!missing.empty()) missing += "\n";
          missing += job.source_file + ": task '" + task.id.str() + "' of job '" + job.id.str() +
                     "' has type '" + task.type + "', which no stand-in or plugin provides";
        }
      }
    }
    return missing.empty() ? Status::Ok() : Status::Error(missing);
  }

  // --- jobs ------------------------------------------------------------------------------------

  host::JobLoaderOptions LoaderOptions() const {
    host::JobLoaderOptions loader;
    loader.default_time_zone = options.default_time_zone;
    loader.params_schemas = params_schemas;
    return loader;
  }

  Status AddLoaded(host::LoadedJobs loaded) {
    if (!loaded.errors.empty()) {
      std::string message;
      for (const host::Diagnostic& error : loaded.errors) {
        if (!message.empty()) message += "\n";
        message += error.ToString();
      }
      return Status::Error(message);
    }
    if (Status types = CheckTypes(loaded.jobs); !types.ok()) return types;
    for (Job& job : loaded.jobs) {
      std::string id = job.id.str();
      jobs[id] = std::make_shared<const Job>(std::move(job));
    }
    RebuildRegistry();
    if (scheduler) {
      if (::petit::Status updated = scheduler->UpdateJobs(JobList()); !updated.ok()) {
        return ToSdk(updated);
      }
      SettleNow();
    }
    return Status::Ok();
  }

  std::vector<std::shared_ptr<const Job>> JobList() const {
    std::vector<std::shared_ptr<const Job>> list;
    for (const auto& [id, job] : jobs) list.push_back(job);
    return list;
  }

  // --- runs ------------------------------------------------------------------------------------

  std::shared_ptr<RunTrack> FindTrack(const std::string& run) {
    std::lock_guard lock(mu);
    auto it = runs.find(run);
    return it == runs.end() ? nullptr : it->second;
  }

  Result<RunRecord> AdmitNew(const RunRequest& request) {
    RunRecord run;
    run.id = request.run_id;
    run.job = request.job->id;
    run.status = RunStatus::kQueued;
    run.trigger = request.trigger;
    run.created_us = clock.NowMicros();
    run.occurrence_us = request.occurrence_us;
    ::petit::Result<RunAdmission> admission = store->AdmitRun(run, request.job->max_active_runs);
    if (!admission.ok()) return Status::Error(admission.status().message());
    if (!admission->admitted()) return Status::Error(admission->Describe());
    return run;
  }

  // RunLauncher: admits the run in the store first (a refusal is the scheduler's to report, as
  // with the host's launcher), then runs ExecuteRun on a thread of its own.
  ::petit::Result<std::unique_ptr<RunHandle>> Launch(const RunRequest& request,
                                                     RunEndCallback on_end) override {
    std::shared_ptr<const RunRecord> admitted = request.admitted;
    if (admitted == nullptr && request.resume == nullptr) {
      Result<RunRecord> run = AdmitNew(request);
      if (!run.ok()) return FailedPrecondition(run.status().message());
      admitted = std::make_shared<const RunRecord>(*std::move(run));
    }
    auto track = std::make_shared<RunTrack>();
    track->job = request.job->id.str();
    track->id = request.run_id;
    RunTrack* raw = track.get();
    track->on_started = [this, raw] {
      std::lock_guard lock(mu);
      ++raw->started;
      ChangedLocked();
    };
    track->on_retrying = [this, raw](const TaskSpec& task, const AttemptRecord& failed,
                                     int64_t retry_at_us) {
      recorder.AddRetry(raw->id.str(), task.id.str(), failed.attempt, retry_at_us);
    };
    RunOptions run_options;
    run_options.max_parallel_tasks = options.max_parallel_tasks;
    run_options.trigger = request.trigger;
    run_options.clock = &clock;
    run_options.observer = raw;
    run_options.canceller = &raw->canceller;
    run_options.events = &bus;
    run_options.occurrence_us = request.occurrence_us;
    run_options.resources = resources.get();
    run_options.on_idle = [this, raw](const RunIdleState& state) {
      std::lock_guard lock(mu);
      raw->idle = state.idle;
      raw->idle_deadline_us = state.deadline_us;
      raw->completions = state.completions;
      ChangedLocked();
    };
    std::shared_ptr<TaskRunnerRegistry> runners;
    {
      std::lock_guard lock(mu);
      track->seq = next_run_seq++;
      run_options.jitter_seed = JitterSeed(request.job->id.str(), track->seq);
      runs[request.run_id.str()] = track;
      runners = registry;
    }
    track->thread = std::thread([this, track, request, admitted, runners, run_options,
                                 on_end = std::move(on_end)]() mutable {
      run_options.resume = request.resume.get();
      run_options.admitted = admitted.get();
      (void)ExecuteRun(*request.job, request.run_id, *runners, *store, run_options);
      on_end();
      std::lock_guard lock(mu);
      track->done = true;
      ChangedLocked();
    });
    return std::unique_ptr<RunHandle>(new TrackHandle(track));
  }

  // --- quiescence ------------------------------------------------------------------------------

  void ChangedLocked() {
    ++generation;
    cv.notify_all();
  }

  // With mu held: whether every active run sleeps until a time after `now_us` with only
  // stand-in attempts in flight, each blocked on a virtual time not yet released (or hanging);
  // lowers `next_us` to the earliest of those times (which may be now: one is due for release).
  bool RunsSettledLocked(int64_t now_us, int64_t& next_us) const {
    for (const auto& [id, track] : runs) {
      if (track->done) continue;
      if (!track->idle || track->idle_deadline_us <= now_us) return false;
      uint64_t blocked = 0;
      for (const auto& b : track->blocked) {
        if (b->cancelled || b->released) continue;
        ++blocked;
        next_us = std::min(next_us, b->deadline_us);
      }
      if (track->started != track->completions + blocked) return false;
      next_us = std::min(next_us, track->idle_deadline_us);
    }
    return true;
  }

  // Waits until nothing can happen before the clock moves; returns the next due time (kNever if
  // none). Joins the threads of ended runs.
  int64_t WaitQuiescent() {
    int64_t next = kNever;
    for (;;) {
      uint64_t seen;
      {
        std::lock_guard lock(mu);
        seen = generation;
      }
      // Outside mu: the scheduler calls on_idle (which takes mu) with its own lock held.
      std::optional<int64_t> scheduler_idle =
          scheduler ? scheduler->IdleUntil() : std::optional<int64_t>(kNever);
      std::unique_lock lock(mu);
      if (scheduler_idle) {
        next = *scheduler_idle;
        if (RunsSettledLocked(clock.NowMicros(), next)) break;
      }
      if (options.stall_report_after.count() <= 0) {
        cv.wait(lock, [&] { return generation != seen; });
      } else if (!cv.wait_for(lock, options.stall_report_after,
                              [&] { return generation != seen; })) {
        ReportStallLocked();
        cv.wait(lock, [&] { return generation != seen; });
      }
    }
    Reap();
    return next;
  }

  void Reap() {
    std::vector<std::shared_ptr<RunTrack>> ended;
    {
      std::lock_guard lock(mu);
      for (auto it = runs.begin(); it != runs.end();) {
        if (it->second->done) {
          ended.push_back(it->second);
          it = runs.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (const auto& track : ended) {
      if (track->thread.joinable()) track->thread.join();
    }
  }

  // Waits for quiescence, releasing the stand-ins due now one by one; returns the next due time,
  // which is after now.
  int64_t SettleNow() {
    for (;;) {
      const int64_t next = WaitQuiescent();
      if (next > clock.NowMicros()) return next;
      std::lock_guard lock(mu);
      std::shared_ptr<Blocked> first;
      for (const auto& [id, track] : runs) {
        for (const auto& b : track->blocked) {
          if (b->cancelled || b->released || b->hang || b->deadline_us > clock.NowMicros()) {
            continue;
          }
          if (!first ||
              std::tie(b->deadline_us, b->run_seq, b->task, b->attempt) <
                  std::tie(first->deadline_us, first->run_seq, first->task, first->attempt)) {
            first = b;
          }
        }
      }
      if (!first) return next;  // cannot happen: engine deadlines are after now when quiescent
      first->released = true;
      ChangedLocked();
    }
  }

  void MoveClock(int64_t t_us) {
    clock.Set(t_us);
    std::lock_guard lock(mu);
    ChangedLocked();
  }

  Status EnsureStarted() {
    if (scheduler || stopped) return Status::Ok();
    if (!load_errors.empty()) {
      std::string message;
      for (const std::string& error : load_errors) message += (message.empty() ? "" : "\n") + error;
      return Status::Error(message);
    }
    RebuildRegistry();
    SchedulerOptions scheduler_options;
    scheduler_options.on_idle = [this] {
      std::lock_guard lock(mu);
      ChangedLocked();
    };
    scheduler = std::make_unique<Scheduler>(JobList(), clock, *store, *this, &bus,
                                            std::move(scheduler_options));
    if (::petit::Status started = scheduler->Start(); !started.ok()) {
      scheduler.reset();
      return ToSdk(started);
    }
    SettleNow();
    return Status::Ok();
  }

  void StopScheduler() {
    if (!scheduler) return;
    scheduler->Stop(StopMode::kCancelRuns);
    scheduler.reset();
    {
      // Every run has told the scheduler it ended; each thread then marks its track done.
      std::unique_lock lock(mu);
      cv.wait(lock, [&] {
        return std::all_of(runs.begin(), runs.end(),
                           [](const auto& run) { return run.second->done; });
      });
    }
    Reap();
    // A run whose thread had not yet marked itself done escapes Reap; left in `runs`, its thread
    // would outlive the harness and destroy its own std::thread (std::terminate). Its run has
    // ended (cancelled by Stop), so the join is short.
    std::map<std::string, std::shared_ptr<RunTrack>> left;
    {
      std::lock_guard lock(mu);
      left.swap(runs);
    }
    for (const auto& [id, track] : left) {
      if (track->thread.joinable()) track->thread.join();
    }
  }

  HarnessOptions options;
  ManualClock clock;
  // The memory store itself rather than OpenStateStore("memory:"), which would link SOCI in.
  std::unique_ptr<StateStore> store = std::make_unique<storage::internal::MemoryStateStore>();
  std::unique_ptr<ResourceManager> resources;  // HarnessOptions' pools; null when none
  EventBus bus;
  internal::TimelineRecorder recorder;
  EventBus::HandlerId subscription = 0;

  host::PluginLoadResult plugins;
  std::map<std::string, std::shared_ptr<TaskRunner>> real_runners;  // read-only after construction
  std::map<std::string, std::string, std::less<>> params_schemas;
  std::vector<std::string> load_errors;

  std::map<std::string, std::shared_ptr<const Job>> jobs;  // test thread only
  std::shared_ptr<Runner> shared_runner = std::make_shared<Runner>(*this);
  std::unique_ptr<Scheduler> scheduler;  // test thread only
  bool stopped = false;                  // test thread only: Stop() was called, Start() not since

  std::mutex mu;
  std::condition_variable cv;  // notified with every change of `generation`
  uint64_t generation = 0;     // under mu: counts whatever may end or start a quiescence
  std::multiset<std::string> in_real_time;                // under mu: see InRealTime
  std::map<std::string, StandInFn> stand_ins;             // under mu
  std::vector<Fault> faults;                              // under mu
  std::shared_ptr<TaskRunnerRegistry> registry;           // under mu; replaced, never changed
  std::map<std::string, std::shared_ptr<RunTrack>> runs;  // under mu
  uint64_t next_run_seq = 0;                              // under mu
};

TestHarness::TestHarness(HarnessOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

TestHarness::~TestHarness() = default;

Status TestHarness::LoadYaml(std::string_view yaml, std::string_view file_name) {
  return impl_->AddLoaded(
      host::LoadJobFromString(std::string(yaml), std::string(file_name), impl_->LoaderOptions()));
}

Status TestHarness::LoadDirectory(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::Error(dir + ": not a directory");
  }
  return impl_->AddLoaded(host::LoadJobDirectory(dir, impl_->LoaderOptions()));
}

Status TestHarness::Add(const JobBuilder& job) { return LoadYaml(job.Yaml(), "<JobBuilder>"); }

std::vector<std::string> TestHarness::JobIds() const {
  std::vector<std::string> ids;
  for (const auto& [id, job] : impl_->jobs) ids.push_back(id);
  return ids;
}

void TestHarness::StandIn(std::string type, StandInFn stand_in) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stand_ins[std::move(type)] = std::move(stand_in);
  }
  impl_->RebuildRegistry();
}

void TestHarness::FailAttempt(std::string job, std::string task, uint32_t attempt,
                              int32_t exit_code, std::string error) {
  Fault fault;
  fault.kind = Fault::Kind::kFail;
  fault.job = std::move(job);
  fault.task = std::move(task);
  fault.attempt = attempt;
  fault.code = exit_code;
  fault.error = std::move(error);
  std::lock_guard lock(impl_->mu);
  impl_->faults.push_back(std::move(fault));
}

void TestHarness::TimeOutAttempt(std::string job, std::string task, uint32_t attempt) {
  Fault fault;
  fault.kind = Fault::Kind::kTimeout;
  fault.job = std::move(job);
  fault.task = std::move(task);
  fault.attempt = attempt;
  std::lock_guard lock(impl_->mu);
  impl_->faults.push_back(std::move(fault));
}

void TestHarness::ExitCode(std::string job, std::string task, int32_t code, uint32_t attempt) {
  Fault fault;
  fault.kind = Fault::Kind::kExit;
  fault.job = std::move(job);
  fault.task = std::move(task);
  fault.attempt = attempt;
  fault.code = code;
  std::lock_guard lock(impl_->mu);
  impl_->faults.push_back(std::move(fault));
}

void TestHarness::Duration(std::string job, std::string task, std::chrono::microseconds duration) {
  Fault fault;
  fault.kind = Fault::Kind::kDuration;
  fault.job = std::move(job);
  fault.task = std::move(task);
  fault.duration = duration;
  std::lock_guard lock(impl_->mu);
  impl_->faults.push_back(std::move(fault));
}

Status TestHarness::Start() {
  impl_->stopped = false;
  return impl_->EnsureStarted();
}

void TestHarness::Stop() {
  impl_->StopScheduler();
  impl_->stopped = true;
}

bool TestHarness::running() const { return impl_->scheduler != nullptr; }

Result<std::string> TestHarness::Trigger(std::string_view job) {
  if (Status started = impl_->EnsureStarted(); !started.ok()) return started;
  if (!impl_->scheduler) return Status::Error("the harness is stopped: Start() it first");
  ::petit::Result<RunId> run = impl_->scheduler->Trigger(JobId(std::string(job)));
  if (!run.ok()) return Status::Error(run.status().message());
  impl_->SettleNow();
  return run->str();
}

Status TestHarness::Pause(std::string_view job, bool paused) {
  if (Status started = impl_->EnsureStarted(); !started.ok()) return started;
  if (!impl_->scheduler) return Status::Error("the harness is stopped: Start() it first");
  ::petit::Status set = impl_->scheduler->SetPaused(JobId(std::string(job)), paused);
  impl_->SettleNow();
  return ToSdk(set);
}

void TestHarness::AdvanceTo(int64_t t_us) {
  if (!impl_->EnsureStarted().ok()) return;
  for (;;) {
    const int64_t next = impl_->SettleNow();
    if (next > t_us) break;
    impl_->MoveClock(next);
  }
  if (t_us > impl_->clock.NowMicros()) {
    impl_->MoveClock(t_us);
    impl_->SettleNow();
  }
}

void TestHarness::AdvanceBy(std::chrono::microseconds d) {
  AdvanceTo(impl_->clock.NowMicros() + d.count());
}

bool TestHarness::RunUntilIdle(std::chrono::microseconds limit) {
  if (!impl_->EnsureStarted().ok()) return false;
  const int64_t until = impl_->clock.NowMicros() + limit.count();
  for (;;) {
    const int64_t next = impl_->SettleNow();
    if (active_runs() == 0) return true;
    if (next > until) return false;
    impl_->MoveClock(next);
  }
}

void TestHarness::Settle() {
  if (!impl_->EnsureStarted().ok()) return;
  impl_->SettleNow();
}

int64_t TestHarness::Now() const { return impl_->clock.NowMicros(); }

std::optional<int64_t> TestHarness::NextDueTime() {
  if (!impl_->EnsureStarted().ok()) return std::nullopt;
  const int64_t next = impl_->SettleNow();
  if (next == kNever) return std::nullopt;
  return next;
}

std::optional<int64_t> TestHarness::NextFire(std::string_view job) const {
  if (!impl_->scheduler) return std::nullopt;
  return impl_->scheduler->NextFire(JobId(std::string(job)));
}

size_t TestHarness::active_runs() const {
  std::lock_guard lock(impl_->mu);
  size_t active = 0;
  for (const auto& [id, track] : impl_->runs) active += track->done ? 0 : 1;
  return active;
}

Timeline TestHarness::timeline() {
  impl_->bus.Flush();
  return impl_->recorder.Build(*impl_->store);
}

}  // namespace petit::testing
