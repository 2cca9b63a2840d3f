// EventBus: what emitting costs the engine with nobody listening, and with one trivial listener.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>

#include "petit/core/events.h"
#include "petit/core/ids.h"

namespace petit {
namespace {

// What the executor builds for a task transition: ids, an attempt, a short detail.
struct Source {
  JobId job{"data_pipeline"};
  RunId run = RunId::Generate();
  TaskId task{"extract"};
};

Event Build(const Source& source, uint32_t attempt) {
  return Event{.type = EventType::kTaskSucceeded,
               .time_us = 1'700'000'000'000'000,
               .job = source.job,
               .run = source.run,
               .task = source.task,
               .attempt = attempt,
               .detail = "exit code 0"};
}

// The engine's intended call: nothing is built when nobody listens.
void BM_EmitNoSubscribers(benchmark::State& state) {
  EventBus bus;
  const Source source;
  uint32_t attempt = 0;
  for (auto _ : state) {
    bus.Emit([&] { return Build(source, ++attempt); });
  }
  benchmark::DoNotOptimize(attempt);
}
BENCHMARK(BM_EmitNoSubscribers);

// Publish with the event built by the caller anyway: the cost Emit avoids.
void BM_PublishBuiltEventNoSubscribers(benchmark::State& state) {
  EventBus bus;
  const Source source;
  uint32_t attempt = 0;
  for (auto _ : state) bus.Publish(Build(source, ++attempt));
}
BENCHMARK(BM_PublishBuiltEventNoSubscribers);

// One handler that only counts. The time per event includes delivery: the loop ends with Flush().
// Events the delivery thread could not keep up with are dropped, and reported.
void BM_EmitOneTrivialSubscriber(benchmark::State& state) {
  EventBus bus;
  std::atomic<uint64_t> delivered{0};
  bus.Subscribe([&delivered](const Event&) { delivered.fetch_add(1, std::memory_order_relaxed); });
  const Source source;
  uint32_t attempt = 0;
  for (auto _ : state) {
    bus.Emit([&] { return Build(source, ++attempt); });
  }
  bus.Flush();
  state.SetItemsProcessed(state.iterations());
  state.counters["dropped"] = static_cast<double>(bus.dropped());
  state.counters["delivered"] = static_cast<double>(delivered.load());
}
BENCHMARK(BM_EmitOneTrivialSubscriber);

}  // namespace
}  // namespace petit
