// ExecuteRun of no-op plugin tasks through the whole plugin ABI path: the real builtin plugin is
// loaded with host::PluginLoader, its task types are registered through the PluginTaskRunner
// bridge, state goes to the memory StateStore, two attempts run at once. The graphs are those of
// ../shared/bench/inproc_limit.cpp (same generator, same seed), so "per_task" compares directly
// with that floor; bench/run_bench.py --inproc prints both side by side.
//
// The *Process benchmarks run the same no-op tasks under `process` isolation (a `petit
// __plugin-worker` child per attempt, plugins/process_task_runner.h), so that
// bench/run_bench.py --inproc --isolation process can quote what that isolation costs per task.
#include <benchmark/benchmark.h>

#include <time.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "petit/core/execute_run.h"
#include "petit/core/ids.h"
#include "petit/core/job.h"
#include "petit/core/task_runner.h"
#include "petit/core/task_spec.h"
#include "petit/storage/open.h"
#include "plugins/plugin_loader.h"
#include "plugins/plugin_task_runner.h"
#include "plugins/process_task_runner.h"

#ifndef PETIT_BENCH_BUILTIN_PLUGIN
#error "PETIT_BENCH_BUILTIN_PLUGIN must name the builtin plugin library"
#endif
#ifndef PETIT_BENCH_PETIT
#error "PETIT_BENCH_PETIT must name the petit executable (the worker of process isolation)"
#endif

namespace petit {
namespace {

constexpr uint32_t kMaxParallel = 2;
// inproc_limit.cpp's defaults: seed 42, 1..3 parents per task of layer l > 0.
constexpr uint64_t kSeed = 42;
constexpr uint32_t kMaxParents = 3;

TaskSpec Noop(uint32_t index) {
  TaskSpec spec;
  spec.id = TaskId("t" + std::to_string(index));
  spec.type = "noop";
  return spec;
}

std::vector<TaskSpec> Flat(uint32_t size) {
  std::vector<TaskSpec> specs;
  specs.reserve(size);
  for (uint32_t i = 0; i < size; ++i) specs.push_back(Noop(i));
  return specs;
}

// inproc_limit.cpp's make_layered, draw for draw, so both programs run the same edges.
std::vector<TaskSpec> Layered(uint32_t layers, uint32_t width) {
  std::vector<TaskSpec> specs;
  specs.reserve(static_cast<size_t>(layers) * width);
  for (uint32_t i = 0; i < layers * width; ++i) specs.push_back(Noop(i));
  std::mt19937_64 rng(kSeed);
  for (uint32_t layer = 1; layer < layers; ++layer) {
    for (uint32_t column = 0; column < width; ++column) {
      const uint64_t parents = 1 + rng() % kMaxParents;
      std::vector<uint32_t> picked;
      while (picked.size() < parents) {
        const auto parent = static_cast<uint32_t>((layer - 1) * width + rng() % width);
        bool seen = false;
        for (uint32_t p : picked) seen = seen || p == parent;
        if (!seen) picked.push_back(parent);
      }
      TaskSpec& spec = specs[layer * width + column];
      for (uint32_t parent : picked) spec.depends_on.push_back(specs[parent].id);
    }
  }
  return specs;
}

// The plugin and its runners, loaded once for the whole binary as `petit` does at start-up, and
// never unloaded: the process ends right after the last benchmark.
struct Plugins {
  host::PluginLoadResult loaded;
  TaskRunnerRegistry registry;
  Status status;
};

const Plugins& LoadPlugins() {
  static const Plugins* plugins = [] {
    auto* result = new Plugins();
    host::PluginLoader loader("bench");
    loader.LoadFile(PETIT_BENCH_BUILTIN_PLUGIN);
    result->loaded = loader.Release();
    if (!result->loaded.errors.empty()) {
      result->status = result->loaded.errors.front();
      return result;
    }
    result->status = host::RegisterPluginTaskTypes(result->loaded, result->registry);
    return result;
  }();
  return *plugins;
}

// `noop` under process isolation: each attempt in a worker child of the petit binary.
const TaskRunnerRegistry& ProcessRegistry() {
  static const TaskRunnerRegistry* registry = [] {
    auto* result = new TaskRunnerRegistry();
    host::ProcessIsolationOptions options;
    options.worker_executable = PETIT_BENCH_PETIT;
    options.plugin_file = PETIT_BENCH_BUILTIN_PLUGIN;
    options.plugin_name = "builtin";
    options.type_name = "noop";
    options.memory_limit_mb = 1024;  // petit.yaml's default
    (void)result->Register("noop", std::make_shared<host::ProcessTaskRunner>(options));
    return result;
  }();
  return *registry;
}

// CPU time of the whole process (every thread: the coordinator, the pool's workers, their
// spinning), in seconds. Wall time per task swings with whatever else the machine runs; CPU per
// task is the figure an A/B comparison of two builds can trust on a shared machine.
double ProcessCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

Result<Job> MakeJob(std::vector<TaskSpec> specs) {
  Job job;
  job.id = JobId("inproc_bench");
  for (TaskSpec& spec : specs) job.dag.AddTask(std::move(spec));
  PETIT_RETURN_IF_ERROR(job.dag.Validate());
  return job;
}

void RunDag(benchmark::State& state, const Result<Job>& job, bool process = false) {
  const Plugins& plugins = LoadPlugins();
  if (!plugins.status.ok()) {
    state.SkipWithError(plugins.status.ToString().c_str());
    return;
  }
  const TaskRunnerRegistry& registry = process ? ProcessRegistry() : plugins.registry;
  if (!job.ok()) {
    state.SkipWithError(job.status().ToString().c_str());
    return;
  }
  const size_t tasks = job->dag.size();
  size_t edges = 0;
  for (Dag::Index i = 0; i < tasks; ++i) edges += job->dag.Upstream(i).size();

  RunOptions options;
  options.max_parallel_tasks = kMaxParallel;
  double cpu_seconds = 0;
  for (auto _ : state) {
    // A fresh store per run keeps memory flat; opening and destroying it is not timed.
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore("memory:");
    if (!store.ok()) {
      state.SkipWithError(store.status().ToString().c_str());
      return;
    }
    const double cpu_start = ProcessCpuSeconds();
    const auto start = std::chrono::steady_clock::now();
    Result<RunRecord> run = ExecuteRun(*job, RunId::Generate(), registry, **store, options);
    const auto end = std::chrono::steady_clock::now();
    cpu_seconds += ProcessCpuSeconds() - cpu_start;
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
    if (!run.ok() || run->status != RunStatus::kSucceeded) {
      state.SkipWithError(run.ok() ? "the run did not succeed" : run.status().ToString().c_str());
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(tasks));
  state.counters["per_task"] =
      benchmark::Counter(static_cast<double>(tasks), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
  // CPU seconds per task, all threads (benchmark's own cpu_time is the calling thread's only).
  state.counters["cpu_per_task"] =
      cpu_seconds / static_cast<double>(state.iterations()) / static_cast<double>(tasks);
  state.counters["tasks"] = static_cast<double>(tasks);
  state.counters["edges"] = static_cast<double>(edges);
}

// Built once per shape: the bench library calls each function several times.
const Result<Job>& CachedJob(const std::string& key,
                             const std::function<std::vector<TaskSpec>()>& make) {
  static std::map<std::string, std::unique_ptr<Result<Job>>> jobs;
  std::unique_ptr<Result<Job>>& job = jobs[key];
  if (job == nullptr) job = std::make_unique<Result<Job>>(MakeJob(make()));
  return *job;
}

// Flat at three sizes: the cost per task should not depend on the size of the run.
void BM_ExecuteRunFlat(benchmark::State& state) {
  const auto size = static_cast<uint32_t>(state.range(0));
  RunDag(state, CachedJob("flat " + std::to_string(size), [size] { return Flat(size); }));
}
BENCHMARK(BM_ExecuteRunFlat)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_ExecuteRunLayered(benchmark::State& state) {
  const auto layers = static_cast<uint32_t>(state.range(0));
  const auto width = static_cast<uint32_t>(state.range(1));
  RunDag(state, CachedJob("layered " + std::to_string(layers) + "x" + std::to_string(width),
                          [layers, width] { return Layered(layers, width); }));
}
BENCHMARK(BM_ExecuteRunLayered)->Args({100, 1000})->UseManualTime()->Unit(benchmark::kMillisecond);

// Runs of one task each, one after the other: what a run costs beyond its task (admission, its
// coordinator, the hand-over to a worker thread and back, its end), as when 1,000 one-task jobs
// fire every second. Each iteration is 100 runs on a fresh store.
void BM_ExecuteRunOneTaskRuns(benchmark::State& state) {
  const Plugins& plugins = LoadPlugins();
  if (!plugins.status.ok()) {
    state.SkipWithError(plugins.status.ToString().c_str());
    return;
  }
  const Result<Job>& job = CachedJob("flat 1", [] { return Flat(1); });
  if (!job.ok()) {
    state.SkipWithError(job.status().ToString().c_str());
    return;
  }
  constexpr int kRunsPerIteration = 100;
  RunOptions options;
  options.max_parallel_tasks = kMaxParallel;
  for (auto _ : state) {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore("memory:");
    if (!store.ok()) {
      state.SkipWithError(store.status().ToString().c_str());
      return;
    }
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kRunsPerIteration; ++i) {
      Result<RunRecord> run =
          ExecuteRun(*job, RunId::Generate(), plugins.registry, **store, options);
      if (!run.ok() || run->status != RunStatus::kSucceeded) {
        state.SkipWithError(run.ok() ? "the run did not succeed" : run.status().ToString().c_str());
        return;
      }
    }
    const auto end = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
  }
  state.counters["per_run"] =
      benchmark::Counter(kRunsPerIteration, benchmark::Counter::kIsIterationInvariantRate |
                                                benchmark::Counter::kInvert);
}
BENCHMARK(BM_ExecuteRunOneTaskRuns)->UseManualTime()->Unit(benchmark::kMillisecond);

// Process isolation: a fork+exec and a plugin load per task, so far fewer tasks.
void BM_ExecuteRunFlatProcess(benchmark::State& state) {
  const auto size = static_cast<uint32_t>(state.range(0));
  RunDag(state, CachedJob("flat " + std::to_string(size), [size] { return Flat(size); }),
         /*process=*/true);
}
BENCHMARK(BM_ExecuteRunFlatProcess)->Arg(1000)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace petit

BENCHMARK_MAIN();
