// Scheduler cost per fire (DESIGN §8: a timer heap, O(log n) per fire; fire precision p99 < 5 ms).
//
// BM_FireAllAtOnce: N jobs due at the same instant; one clock step on a ManualClock, one pass of
//   the scheduler thread fires all N. Time per item = the scheduler's own cost per fire: heap pop
//   and push, NextAfter, admission, the JobRecord write (memory store), the launch.
// BM_FireSpread: 10,000 jobs spread over the 3,600 seconds of an hour; the clock steps one second
//   at a time and the benchmark waits for each pass, so each ~3 fires pay a thread hand-off.
// BM_FirePrecisionSystemClock/N: N jobs `@every 1s` on the real clock for 5 s; reports how late
//   the launches were against their occurrence (p50, p99, max), in ms. With N = 200 the last job
//   of each second also waits for the 199 fired before it.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "petit/core/clock.h"
#include "petit/core/job.h"
#include "petit/core/schedule.h"
#include "petit/core/scheduler.h"
#include "petit/storage/open.h"

namespace petit {
namespace {

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kBase = 1767225600 * kSecond;  // 2026-01-01T00:00:00Z

class NoopHandle final : public RunHandle {
 public:
  void Cancel() override {}
};

// Every run ends as soon as it is launched; records how late each launch was.
class InstantLauncher final : public RunLauncher {
 public:
  explicit InstantLauncher(const Clock& clock) : clock_(clock) {}

  Result<std::unique_ptr<RunHandle>> Launch(const RunRequest& request,
                                            RunEndCallback on_end) override {
    if (record_lateness_) {
      std::lock_guard lock(mu_);
      lateness_us_.push_back(clock_.NowMicros() - request.occurrence_us);
    }
    on_end();
    return std::unique_ptr<RunHandle>(new NoopHandle());
  }

  void set_record_lateness(bool record) { record_lateness_ = record; }
  std::vector<int64_t> lateness_us() {
    std::lock_guard lock(mu_);
    return lateness_us_;
  }

 private:
  const Clock& clock_;
  bool record_lateness_ = false;  // set before Start
  std::mutex mu_;
  std::vector<int64_t> lateness_us_;  // guarded by mu_
};

class PassWaiter {
 public:
  SchedulerOptions Options() {
    SchedulerOptions options;
    options.on_pass = [this](const SchedulerPass& pass) {
      std::lock_guard lock(mu_);
      last_now_us_ = pass.now_us;
      cv_.notify_all();
    };
    return options;
  }
  void WaitFor(int64_t now_us) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return last_now_us_ >= now_us; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t last_now_us_ = 0;  // guarded by mu_
};

std::vector<std::shared_ptr<const Job>> MakeJobs(size_t count, bool spread) {
  std::vector<std::shared_ptr<const Job>> jobs;
  jobs.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    auto job = std::make_shared<Job>();
    job->id = JobId("job_" + std::to_string(i));
    const std::string expression =
        spread ? std::to_string(i % 60) + " " + std::to_string(i / 60 % 60) + " * * * *"
               : "0 * * * * *";
    job->schedule = Schedule::Parse(expression).value();
    jobs.push_back(std::move(job));
  }
  return jobs;
}

void BM_FireAllAtOnce(benchmark::State& state) {
  const size_t count = static_cast<size_t>(state.range(0));
  ManualClock clock(kBase + kSecond);
  auto store = storage::OpenStateStore("memory:").value();
  InstantLauncher launcher(clock);
  PassWaiter passes;
  Scheduler scheduler(MakeJobs(count, /*spread=*/false), clock, *store, launcher, nullptr,
                      passes.Options());
  if (!scheduler.Start().ok()) state.SkipWithError("Start failed");
  int64_t minute = 1;
  for (auto _ : state) {
    const int64_t t = kBase + 60 * kSecond * minute++;
    clock.Set(t);
    passes.WaitFor(t);
  }
  scheduler.Stop(StopMode::kWaitForRuns);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(count));
  if (scheduler.stats().fired != static_cast<uint64_t>(state.iterations()) * count) {
    state.SkipWithError("not every job fired");
  }
}
BENCHMARK(BM_FireAllAtOnce)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_FireSpread(benchmark::State& state) {
  constexpr size_t kJobs = 10000;
  ManualClock clock(kBase + kSecond / 2);
  auto store = storage::OpenStateStore("memory:").value();
  InstantLauncher launcher(clock);
  PassWaiter passes;
  Scheduler scheduler(MakeJobs(kJobs, /*spread=*/true), clock, *store, launcher, nullptr,
                      passes.Options());
  if (!scheduler.Start().ok()) state.SkipWithError("Start failed");
  int64_t second = 1;
  for (auto _ : state) {
    // One hour: every job fires once.
    for (int64_t end = second + 3600; second < end; ++second) {
      const int64_t t = kBase + second * kSecond;
      clock.Set(t);
      passes.WaitFor(t);
    }
  }
  scheduler.Stop(StopMode::kWaitForRuns);
  state.SetItemsProcessed(static_cast<int64_t>(scheduler.stats().fired));
}
BENCHMARK(BM_FireSpread)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_FirePrecisionSystemClock(benchmark::State& state) {
  const size_t count = static_cast<size_t>(state.range(0));
  constexpr auto kDuration = std::chrono::seconds(5);
  std::vector<std::shared_ptr<const Job>> jobs;
  for (size_t i = 0; i < count; ++i) {
    auto job = std::make_shared<Job>();
    job->id = JobId("job_" + std::to_string(i));
    job->schedule = Schedule::Parse("@every 1s").value();
    jobs.push_back(std::move(job));
  }
  auto store = storage::OpenStateStore("memory:").value();
  InstantLauncher launcher(SystemClock::Instance());
  launcher.set_record_lateness(true);
  for (auto _ : state) {
    Scheduler scheduler(jobs, SystemClock::Instance(), *store, launcher, nullptr);
    if (!scheduler.Start().ok()) state.SkipWithError("Start failed");
    // The benchmark measures the real clock: this wait is the workload, not a synchronisation.
    std::mutex mu;
    std::condition_variable never;
    std::unique_lock lock(mu);
    never.wait_for(lock, kDuration);
    lock.unlock();
    scheduler.Stop(StopMode::kWaitForRuns);
  }
  std::vector<int64_t> lateness = launcher.lateness_us();
  if (lateness.empty()) {
    state.SkipWithError("nothing fired");
    return;
  }
  std::sort(lateness.begin(), lateness.end());
  auto at = [&](double q) {
    return static_cast<double>(lateness[static_cast<size_t>(q * (lateness.size() - 1))]) / 1e3;
  };
  state.counters["fires"] = static_cast<double>(lateness.size());
  state.counters["p50_ms"] = at(0.5);
  state.counters["p99_ms"] = at(0.99);
  state.counters["max_ms"] = at(1.0);
}
BENCHMARK(BM_FirePrecisionSystemClock)->Arg(1)->Arg(200)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace
}  // namespace petit

BENCHMARK_MAIN();
