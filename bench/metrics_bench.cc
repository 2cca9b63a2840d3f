// GET /metrics with 1,000 jobs (target: well under 10 ms per scrape). A Daemon on a memory store
// with the builtin plugin runs each job once, so every job has its run-duration histogram and a
// task-duration histogram for each of its two task types, and each has a next fire time: the
// largest exposition 1,000 jobs produce short of failing runs. Then Metrics::Render is timed.
#include <benchmark/benchmark.h>

#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/metrics.h"
#include "config/job_loader.h"
#include "runtime/daemon.h"
#include "runtime/host_env.h"

#ifndef PETIT_BENCH_PLUGIN_DIR
#error "PETIT_BENCH_PLUGIN_DIR must name the directory of the builtin plugin"
#endif

namespace petit::host {
namespace {

struct Fixture {
  DaemonLog log;
  std::unique_ptr<Daemon> daemon;
  std::unique_ptr<Metrics> metrics;
  size_t bytes = 0;
};

std::unique_ptr<Fixture> Build(int job_count) {
  HostOptions options;
  options.storage_uri = "memory:";
  options.plugin_dirs = {PETIT_BENCH_PLUGIN_DIR};
  Result<std::unique_ptr<HostEnv>> env = HostEnv::Create(options);
  if (!env.ok()) return nullptr;
  (*env)->LoadPlugins();
  std::vector<Job> jobs;
  for (int i = 0; i < job_count; ++i) {
    const std::string yaml = "id: job_" + std::to_string(i) +
                             "\nschedule: \"0 3 * * *\"\ntasks:\n  - id: a\n    type: noop\n"
                             "  - id: b\n    type: sleep\n    params: {ms: 0}\n"
                             "    depends_on: [a]\n";
    LoadedJobs loaded = LoadJobFromString(yaml, "bench.yaml", JobLoaderOptions());
    if (!loaded.errors.empty()) return nullptr;
    jobs.push_back(std::move(loaded.jobs.front()));
  }
  auto fixture = std::make_unique<Fixture>();
  Result<std::unique_ptr<Daemon>> daemon =
      Daemon::Start(std::move(env).value(), std::move(jobs), fixture->log);
  if (!daemon.ok()) return nullptr;
  fixture->daemon = std::move(daemon).value();
  fixture->metrics = std::make_unique<Metrics>(*fixture->daemon);

  std::mutex mu;
  std::condition_variable ended_cv;
  int ended = 0;
  EventBus& bus = fixture->daemon->events();
  const EventBus::HandlerId id = bus.Subscribe([&](const Event& event) {
    if (event.type != EventType::kJobCompleted) return;
    std::lock_guard lock(mu);
    ++ended;
    ended_cv.notify_all();
  });
  for (int i = 0; i < job_count; ++i) {
    if (!fixture->daemon->Trigger(JobId("job_" + std::to_string(i))).ok()) return nullptr;
  }
  {
    std::unique_lock lock(mu);
    ended_cv.wait(lock, [&] { return ended == job_count; });
  }
  bus.Unsubscribe(id);
  return fixture;
}

void BM_RenderMetrics(benchmark::State& state) {
  static std::unique_ptr<Fixture> fixture = Build(static_cast<int>(state.range(0)));
  if (fixture == nullptr) {
    state.SkipWithError("could not start the daemon");
    return;
  }
  for (auto _ : state) {
    std::string text = fixture->metrics->Render();
    fixture->bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["bytes"] = static_cast<double>(fixture->bytes);
}
BENCHMARK(BM_RenderMetrics)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace petit::host

BENCHMARK_MAIN();
